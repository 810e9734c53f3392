"""`GET /api/v1/availability/`: what the network can promise now, per SKU and location;
`POST /api/v1/stock/movements/`: stock from the retailer's systems, through the ledger."""

import msgspec
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import feed
from inventory.availability import MAX_SKUS, UnknownSkus, UnknownStore, network_availability
from inventory.models import StockFeedKind
from retail.api.exceptions import ApiError
from retail.api.fields import ref_field
from retail.api.serializers import ErrorSerializer, IndexedErrorSerializer
from retail.api.views import errors


class LocationAvailabilitySerializer(serializers.Serializer):
    location = serializers.CharField()
    kind = serializers.ChoiceField(choices=["store", "dc", "supplier"])
    available = serializers.IntegerField(min_value=0)
    pickup = serializers.BooleanField(help_text="A store that offers pickup.")


class PickupSerializer(serializers.Serializer):
    store = serializers.CharField()
    available_here = serializers.IntegerField(min_value=0)
    available_by_transfer = serializers.IntegerField(min_value=0)
    ready_by = serializers.DateTimeField(allow_null=True)


class SkuAvailabilitySerializer(serializers.Serializer):
    sku = serializers.CharField()
    available = serializers.IntegerField(
        min_value=0, help_text="Network total, suppliers included."
    )
    locations = LocationAvailabilitySerializer(many=True)
    pickup = PickupSerializer(required=False)


class AvailabilitySerializer(serializers.Serializer):
    skus = SkuAvailabilitySerializer(many=True)


class AvailabilityQuerySerializer(serializers.Serializer):
    """The query: validated here, and stated in the schema from the same fields."""

    sku = serializers.ListField(
        child=serializers.CharField(max_length=40),
        min_length=1,
        max_length=MAX_SKUS,
        help_text="1 to 50 SKUs, the parameter repeated: `?sku=A&sku=B`.",
    )
    store = serializers.CharField(
        max_length=16,
        required=False,
        help_text="A store's code: adds what can be picked up there, and when.",
    )


class AvailabilityView(APIView):
    required_scopes = {"GET": ["availability:read"]}

    @extend_schema(
        operation_id="availability_get",
        parameters=[AvailabilityQuerySerializer],
        responses={200: AvailabilitySerializer, **errors(400, 401, 403, 429)},
        description="Every `available` is what a pickup or delivery order can take now "
        "(on hand − reserved − safety stock, never below 0). Unknown SKUs answer 400 "
        "`unknown_sku` with `skus`.",
    )
    def get(self, request):
        params = request.query_params.copy()
        # Blank repeats are ignored as before (`?sku=A&sku=`); none at all is refused.
        params.setlist("sku", [s for s in params.getlist("sku") if s.strip()])
        if not params.get("store", "").strip():
            params.pop("store", None)
        if not params.getlist("sku"):
            raise serializers.ValidationError({"sku": [_("Give at least one sku.")]})
        query = AvailabilityQuerySerializer(data=params)
        query.is_valid(raise_exception=True)
        skus = query.validated_data["sku"]
        store = query.validated_data.get("store")
        try:
            data = network_availability(skus, store)
        except UnknownSkus as exc:
            raise ApiError(
                status_code=400,
                code="unknown_sku",
                detail=_("Unknown SKUs: %(skus)s") % {"skus": ", ".join(exc.skus)},
                skus=exc.skus,
            ) from exc
        except UnknownStore as exc:
            raise serializers.ValidationError(
                {"store": [_("There is no store with this code.")]}
            ) from exc
        # The hottest read of the API: encoded with msgspec rather than DRF's renderer.
        return HttpResponse(msgspec.json.encode(data), content_type="application/json")


# --- Stock from the retailer's systems -------------------------------------------------


class MovementLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(
        min_value=-feed.QUANTITY_MAX,
        max_value=feed.QUANTITY_MAX,
        help_text="A count: what is on hand (0 or more); a receipt: units in (above 0); "
        "an adjustment: units in or out (not 0).",
    )


class MovementInSerializer(serializers.Serializer):
    """The body's schema. The view checks the lines itself (5,000 of them through a
    serializer would cost more than applying them), by the same rules."""

    movement_ref = ref_field()
    location = serializers.CharField(max_length=16, help_text="A stock location's code.")
    kind = serializers.ChoiceField(choices=StockFeedKind.values)
    lines = MovementLineSerializer(many=True, min_length=1, max_length=feed.MAX_LINES)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class MovementHeadSerializer(serializers.Serializer):
    movement_ref = ref_field()
    location = serializers.CharField(max_length=16)
    kind = serializers.ChoiceField(choices=StockFeedKind.values)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)


class MovementOutSerializer(serializers.Serializer):
    movement_ref = serializers.CharField()
    applied = serializers.IntegerField(help_text="Lines applied (a resend: the first time's).")


def _lines(raw) -> list[feed.MovementLine]:
    """The lines, or a validation_error naming each bad line by its index."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= feed.MAX_LINES:
        raise ApiError(
            status_code=400,
            code="validation_error",
            detail=_("The movement is not valid: nothing was applied."),
            errors={"lines": [_("Send 1 to %(n)s lines.") % {"n": f"{feed.MAX_LINES:,}"}]},
        )
    lines, problems = [], {}
    for index, item in enumerate(raw):
        found = {}
        if not isinstance(item, dict):
            problems[str(index)] = {"non_field_errors": [_('A line is {"sku", "quantity"}.')]}
            continue
        unknown = sorted(set(item) - {"sku", "quantity"})
        if unknown:
            found["non_field_errors"] = [
                _("Unknown fields: %(names)s.") % {"names": ", ".join(map(str, unknown))}
            ]
        sku = item.get("sku")
        if not isinstance(sku, str) or not sku.strip() or len(sku) > 40 or "\x00" in sku:
            found["sku"] = [_("A SKU is text of 1 to 40 characters.")]
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            found["quantity"] = [_("A quantity is a whole number.")]
        if found:
            problems[str(index)] = found
        else:
            lines.append(feed.MovementLine(sku=sku.strip(), quantity=quantity))
    if problems:
        raise ApiError(
            status_code=400,
            code="validation_error",
            detail=_("The movement is not valid: nothing was applied."),
            errors=problems,
        )
    return lines


class StockMovementsView(APIView):
    required_scopes = {"POST": ["stock:write"]}

    @extend_schema(
        operation_id="stock_movements_post",
        request=MovementInSerializer,
        examples=[
            OpenApiExample(
                "a nightly count",
                request_only=True,
                value={
                    "movement_ref": "ERP-COUNT-2026-12-05-S01",
                    "location": "S01",
                    "kind": "count",
                    "lines": [{"sku": "JUMPER-M", "quantity": 12}],
                    "reason": "nightly count from the ERP",
                },
            )
        ],
        responses={
            200: MovementOutSerializer,
            201: MovementOutSerializer,
            400: OpenApiResponse(
                IndexedErrorSerializer,
                description="parse_error, or validation_error: by line index "
                '({"3": {"quantity": ["..."]}}) or by field ({"location": ["..."]}); '
                "nothing is applied.",
            ),
            409: OpenApiResponse(ErrorSerializer, description="movement_ref_conflict"),
            **errors(401, 403, 413, 415, 429),
        },
        description="1 to 5,000 lines at one location, all or nothing, through the stock "
        "ledger: a count sets on hand, a receipt adds, an adjustment adds or removes. "
        "Taking on hand below what is reserved releases the latest reservations and "
        "re-sources their orders, as a count on the tablet does. The same movement_ref "
        "with the same body: 200 and nothing applied again; with another body: 409 "
        "`movement_ref_conflict`.",
    )
    def post(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [_("Send an object with the movement's fields.")]}
            )
        head = MovementHeadSerializer(data={k: v for k, v in body.items() if k != "lines"})
        head.is_valid(raise_exception=True)
        unknown = sorted(set(body) - {"movement_ref", "location", "kind", "lines", "reason"})
        if unknown:
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        _("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)}
                    ]
                }
            )
        lines = _lines(body.get("lines"))
        data = head.validated_data
        try:
            result = feed.stock_movement_apply(
                movement_ref=data["movement_ref"],
                location=data["location"],
                kind=data["kind"],
                lines=lines,
                reason=data.get("reason", ""),
                api_client=request.auth,
            )
        except feed.FeedRefused as exc:
            raise ApiError(
                status_code=400,
                code="validation_error",
                detail=_("The movement is not valid: nothing was applied."),
                errors=exc.errors,
            ) from exc
        except feed.MovementRefConflict as exc:
            raise ApiError(status_code=409, code="movement_ref_conflict", detail=str(exc)) from exc
        return Response(
            {"movement_ref": result.movement_ref, "applied": result.applied},
            status=201 if result.created else 200,
        )
