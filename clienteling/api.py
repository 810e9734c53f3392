"""`POST /api/v1/events/` and `POST /api/v1/identify/` (scope `events:write`).

The events endpoint is the API's highest-volume path: the body is decoded and
validated by msgspec straight into typed structs (no per-field serializer), and
a batch is written in bulk in one transaction (`clienteling.ingest`).
"""

from __future__ import annotations

from typing import get_args

import msgspec
from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.parsers import BaseParser
from rest_framework.views import APIView

from clienteling import ingest, services
from clienteling.models import SKU_KINDS
from retail.api.exceptions import ApiError, TooLarge
from retail.api.fields import one_of_values
from retail.api.serializers import ErrorSerializer
from retail.api.views import errors
from retail.services import customer_by_ref


class RawJSONParser(BaseParser):
    """Accepts JSON and leaves decoding to msgspec (the view reads the raw body)."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        return None


def _body(request) -> bytes:
    """The raw JSON body (415 for another media type, 413 over 4 MB)."""
    content_type = request.content_type.split(";")[0].strip().lower()
    if content_type != "application/json":
        raise exceptions.UnsupportedMediaType(content_type or "none")
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            raise TooLarge()
    except ValueError:
        raise exceptions.ParseError(_("The Content-Length header is not a number.")) from None
    body = request._request.body
    if len(body) > limit:
        raise TooLarge()
    return body


def _json(data: dict, status: int) -> HttpResponse:
    return HttpResponse(msgspec.json.encode(data), status=status, content_type="application/json")


def _text(max_length: int, **kwargs) -> serializers.CharField:
    """Text as msgspec decodes it: not trimmed, no NUL (refused by `ingest`)."""
    return serializers.CharField(max_length=max_length, trim_whitespace=False, **kwargs)


class EventInSerializer(serializers.Serializer):
    """The schema of one event. `clienteling.ingest.EventIn` (msgspec) validates the
    same rules; `tests/retail/api/test_schema_constraints.py` holds the two together."""

    event_id = serializers.UUIDField()
    occurred_at = serializers.DateTimeField(help_text="ISO 8601 with offset; at most a day ahead.")
    kind = serializers.ChoiceField(choices=list(get_args(ingest.Kind)))
    anonymous_id = _text(128, required=False)
    customer_ref = _text(64, required=False)
    sku = _text(
        40,
        required=False,
        help_text="Needed by product_view, add_to_cart, remove_from_cart and wishlist_add. "
        "An SKU Aisle does not know is stored as text, with no product link.",
    )
    query = _text(256, required=False, help_text="Needed by search.")
    channel = serializers.ChoiceField(choices=list(get_args(ingest.Channel)))
    url = _text(2048, required=False, allow_blank=True)

    # The rules across fields that `ingest` checks, stated in the schema.
    schema_extra = {
        "allOf": [
            {"anyOf": [{"required": ["anonymous_id"]}, {"required": ["customer_ref"]}]},
            {
                "anyOf": [
                    {"properties": {"kind": one_of_values(SKU_KINDS)}, "required": ["sku"]},
                    {"properties": {"kind": one_of_values(["search"])}, "required": ["query"]},
                ]
            },
        ]
    }


class EventBatchSerializer(serializers.Serializer):
    events = EventInSerializer(
        many=True, min_length=1, max_length=ingest.MAX_BATCH, help_text="1 to 1,000 events."
    )


class EventResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Stored now.")
    duplicates = serializers.IntegerField(help_text="Known event_id (also twice in one batch).")
    dropped = serializers.IntegerField(
        help_text="Of an unknown customer_ref or a customer without tracking consent."
    )


class BatchErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(
        required=False,
        help_text='By item index, then field: {"3": {"kind": ["..."]}}; or by field for '
        'the batch itself: {"events": ["..."]}.',
    )


class IdentifyInSerializer(serializers.Serializer):
    """The schema of `clienteling.ingest.IdentifyIn` (msgspec), which validates it."""

    anonymous_id = _text(128)
    customer_ref = _text(64)


class IdentifyOutSerializer(serializers.Serializer):
    customer_ref = serializers.CharField()
    merged_events = serializers.IntegerField()


def _decode_error(exc: msgspec.DecodeError):
    return exceptions.ParseError(_("The body is not valid JSON."))


class EventsView(APIView):
    required_scopes = {"POST": ["events:write"]}
    parser_classes = [RawJSONParser]

    @extend_schema(
        operation_id="events_post",
        request=EventBatchSerializer,
        examples=[
            OpenApiExample(
                "a product view",
                request_only=True,
                value={
                    "events": [
                        {
                            "event_id": "6f1c2a7e-0b8d-4f43-9a55-3c2e7d9b1a04",
                            "occurred_at": "2026-03-01T10:15:00+00:00",
                            "kind": "product_view",
                            "anonymous_id": "a-7f3c",
                            "customer_ref": "WEB-C1",
                            "sku": "JUMPER-M",
                            "channel": "web",
                            "url": "https://shop.example.com/p/jumper",
                        }
                    ]
                },
            )
        ],
        responses={
            202: EventResultSerializer,
            400: OpenApiResponse(
                BatchErrorSerializer,
                description="parse_error, or validation_error with errors by index: "
                '{"3": {"kind": ["..."]}}; nothing of the batch is stored.',
            ),
            **errors(401, 403, 413, 415, 429),
        },
        description="A batch of browsing events, all or nothing, idempotent by event_id. "
        "At least one of anonymous_id and customer_ref. Events of an unknown customer or "
        "of one without tracking consent are counted as dropped and never stored; "
        "unknown SKUs are stored as text.",
    )
    def post(self, request):
        body = _body(request)
        try:
            events = ingest.decode_batch(body)
        except msgspec.DecodeError as exc:
            raise _decode_error(exc) from None
        except ingest.BatchInvalid as exc:
            raise ApiError(
                status_code=400,
                code="validation_error",
                detail=_("The batch is not valid: nothing was stored."),
                errors=exc.errors,
            ) from None
        result = ingest.ingest(events)
        return _json(
            {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "dropped": result.dropped,
            },
            202,
        )


class IdentifyView(APIView):
    required_scopes = {"POST": ["events:write"]}
    parser_classes = [RawJSONParser]

    @extend_schema(
        operation_id="identify_post",
        request=IdentifyInSerializer,
        examples=[
            OpenApiExample(
                "a login",
                request_only=True,
                value={"anonymous_id": "a-7f3c", "customer_ref": "WEB-C1"},
            )
        ],
        responses={
            200: IdentifyOutSerializer,
            404: OpenApiResponse(ErrorSerializer, description="unknown_customer"),
            **errors(400, 401, 403, 413, 415, 429),
        },
        description="The visitor is this customer: their events not yet joined to anyone "
        "join the customer (merged_events; a resend: 0), and later ones follow. A customer "
        "without tracking consent: nothing is merged and the anonymous events are deleted.",
    )
    def post(self, request):
        body = _body(request)
        try:
            data = msgspec.json.decode(body, type=ingest.IdentifyIn)
        except msgspec.DecodeError as exc:
            raise _decode_error(exc) from None
        except msgspec.ValidationError as exc:
            path, message = ingest._split_msgspec_error(exc)
            if message.startswith("missing:"):
                raise serializers.ValidationError(
                    {message.removeprefix("missing:"): [_("This field is required.")]}
                ) from None
            field = str(path[0]) if path else "non_field_errors"
            raise serializers.ValidationError({field: [message]}) from None
        if "\x00" in data.anonymous_id or "\x00" in data.customer_ref:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Null characters are not allowed.")]}
            )
        customer = customer_by_ref(data.customer_ref)
        if customer is None:
            raise ApiError(
                status_code=404,
                code="unknown_customer",
                detail=_("There is no customer with this reference."),
            )
        merged = services.visitor_identify(anonymous_id=data.anonymous_id, customer=customer)
        return _json({"customer_ref": data.customer_ref, "merged_events": merged}, 200)
