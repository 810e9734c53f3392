"""The appointments API of the online channel (`/api/v1/appointments/…`): the topics a
store offers, its bookable slots, booking, reading and cancelling."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from clienteling.appointments import services
from clienteling.appointments.models import AppointmentSource, AppointmentState, Topic
from clienteling.appointments.shapes import appointment_shape, load_appointment
from retail import services as retail_services
from retail.api.exceptions import ApiError
from retail.api.fields import ref_field, ref_parameter
from retail.api.serializers import ErrorSerializer
from retail.api.views import check_ref, errors
from retail.models import Store, Variant

MAX_DAYS = 31
MAX_SKUS = 20
#: How far from today `from` may be (either way).
FROM_RANGE = dt.timedelta(days=366)


def _store(code: str, field: str = "store") -> Store:
    store = Store.objects.filter(code=code).first()
    if store is None:
        raise serializers.ValidationError({field: [_("There is no store with this code.")]})
    return store


DAY_SCHEMA = {
    "type": "string",
    "format": "date",
    "maxLength": 10,
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
}


@extend_schema_field(DAY_SCHEMA)
class DayField(serializers.DateField):
    """A store day, YYYY-MM-DD (stated with its length and pattern in the schema)."""

    def __init__(self, **kwargs):
        super().__init__(input_formats=["iso-8601"], **kwargs)


class StoreQuerySerializer(serializers.Serializer):
    store = serializers.CharField(max_length=16, help_text="A store's code.")


class SlotsQuerySerializer(StoreQuerySerializer):
    topic = serializers.CharField(max_length=40, help_text="A topic's code.")
    # "from" is a Python keyword: declared below.
    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, default=7, required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = DayField(
            required=False,
            help_text="The first store day (YYYY-MM-DD, within a year of today); default "
            "today in the store's time zone.",
        )
        return fields

    def validate(self, attrs):
        first = attrs.get("from")
        if first is not None and abs(first - timezone.now().date()) > FROM_RANGE:
            raise serializers.ValidationError({"from": [_("Give a day within a year of today.")]})
        return attrs


class TopicOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    minutes = serializers.IntegerField()


class TopicsOutSerializer(serializers.Serializer):
    store = serializers.CharField()
    topics = TopicOutSerializer(many=True)


class SlotOutSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="In the store's time zone.")
    end = serializers.DateTimeField()
    available = serializers.IntegerField(help_text="How many associates are free then.")


class SlotsOutSerializer(serializers.Serializer):
    store = serializers.CharField()
    topic = serializers.CharField()
    slots = SlotOutSerializer(many=True)


class AppointmentInSerializer(serializers.Serializer):
    appointment_ref = ref_field()
    customer_ref = ref_field()
    store = serializers.CharField(max_length=16)
    topic = serializers.CharField(max_length=40)
    start = serializers.DateTimeField(help_text="A listed slot's start, with its offset.")
    skus = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=MAX_SKUS,
        help_text="SKUs to set aside at the store (one entry a unit), for topics that allow it.",
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class SetAsideOutSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["held", "released", "taken"])


class AppointmentOutSerializer(serializers.Serializer):
    appointment_ref = serializers.CharField()
    state = serializers.ChoiceField(choices=AppointmentState.values)
    store = serializers.CharField()
    topic = serializers.CharField()
    start = serializers.DateTimeField(help_text="In the store's time zone.")
    end = serializers.DateTimeField()
    associate = serializers.CharField(required=False, help_text="The associate's first name.")
    code = serializers.CharField(help_text="The check-in code.")
    customer_ref = serializers.CharField(allow_null=True)
    skus = serializers.ListField(child=serializers.CharField())
    set_asides = SetAsideOutSerializer(many=True)
    note = serializers.CharField(required=False)
    created_at = serializers.DateTimeField()


def fingerprint(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _api_error(exc: services.AppointmentError) -> Exception:
    if isinstance(exc, services.AppointmentInvalid):
        return serializers.ValidationError(exc.extra["errors"])
    return ApiError(status_code=exc.status, code=exc.code, detail=exc.detail, **exc.extra)


APPOINTMENT_REF = ref_parameter(
    "appointment_ref", "The online channel's reference of the appointment.", "WEB-A1"
)
BOOK_EXAMPLE = OpenApiExample(
    "fitting",
    request_only=True,
    value={
        "appointment_ref": "WEB-A1",
        "customer_ref": "WEB-C1",
        "store": "S01",
        "topic": "fitting",
        "start": "2030-03-04T10:00:00+01:00",
        "skus": ["JUMPER-M"],
    },
)


class TopicsView(APIView):
    required_scopes = {"GET": ["appointments:read"]}

    @extend_schema(
        operation_id="appointment_topics",
        parameters=[StoreQuerySerializer],
        responses={200: TopicsOutSerializer, **errors(400, 401, 403, 429)},
        description="The topics the store offers. Unknown store: 400 validation_error.",
    )
    def get(self, request):
        query = StoreQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        store = _store(query.validated_data["store"])
        topics = [
            {"code": t.code, "name": t.label, "minutes": t.minutes}
            for t in services.topics_offered(store)
        ]
        return Response({"store": store.code, "topics": topics})


class SlotsView(APIView):
    required_scopes = {"GET": ["appointments:read"]}

    @extend_schema(
        operation_id="appointment_slots",
        parameters=[SlotsQuerySerializer],
        responses={200: SlotsOutSerializer, **errors(400, 401, 403, 429)},
        description="The bookable slots from `from` for `days` store days (1 to 31, default "
        "7): inside opening hours, in the future, with an associate free for the topic; "
        "`available` is how many. Unknown store or topic (or one the store does not "
        "offer): 400 validation_error.",
    )
    def get(self, request):
        query = SlotsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        store = _store(data["store"])
        topic = Topic.objects.filter(code=data["topic"]).first()
        if topic is None or not services.is_offered(topic, store):
            raise serializers.ValidationError(
                {"topic": [_("This store does not offer this topic.")]}
            )
        first = data.get("from") or store.local_now().date()
        found = services.store_slots(store=store, topic=topic, first_day=first, days=data["days"])
        listed = [
            {"start": s.start.isoformat(), "end": s.end.isoformat(), "available": s.available}
            for s in found
        ]
        return Response({"store": store.code, "topic": topic.code, "slots": listed})


class AppointmentCreateView(APIView):
    required_scopes = {"POST": ["appointments:write"]}

    @extend_schema(
        operation_id="appointment_book",
        request=AppointmentInSerializer,
        examples=[BOOK_EXAMPLE],
        responses={
            201: AppointmentOutSerializer,
            200: AppointmentOutSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                description="slot_unavailable (with `reason`), insufficient_stock (with "
                "`skus`), appointment_ref_conflict",
            ),
            **errors(400, 401, 403, 413, 415, 429),
        },
        description="Book a listed slot. A slot no longer free, a `start` that is not a "
        "listed slot's start, or in the past: 409 slot_unavailable. Unknown customer, store "
        "or topic: 400 validation_error. SKUs the store cannot set aside: 409 "
        "insufficient_stock, nothing booked. The same `appointment_ref` with the same body: "
        "200 with the appointment.",
    )
    def post(self, request):
        incoming = AppointmentInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        problems: dict[str, list[str]] = {}
        customer = retail_services.customer_by_ref(data["customer_ref"])
        if customer is None:
            problems["customer_ref"] = [_("Unknown customer: PUT the customer first.")]
        store = Store.objects.filter(code=data["store"]).first()
        if store is None:
            problems["store"] = [_("There is no store with this code.")]
        topic = Topic.objects.filter(code=data["topic"]).first()
        if topic is None:
            problems["topic"] = [_("There is no topic with this code.")]
        wanted = Counter(data.get("skus", []))
        variants = {v.sku: v for v in Variant.objects.filter(sku__in=list(wanted))}
        unknown = sorted(set(wanted) - set(variants))
        if unknown:
            problems["skus"] = [_("Unknown SKU: %(sku)s") % {"sku": sku} for sku in unknown]
        if problems:
            raise serializers.ValidationError(problems)
        try:
            appointment, created = services.appointment_book(
                appointment_ref=data["appointment_ref"],
                customer=customer,
                store=store,
                topic=topic,
                start=data["start"],
                items=[services.SetAsideInput(variants[sku], n) for sku, n in wanted.items()],
                note=data.get("note", ""),
                source=AppointmentSource.API,
                api_client=request.auth,
                fingerprint=fingerprint(request.data),
            )
        except services.AppointmentError as exc:
            raise _api_error(exc) from exc
        shape = appointment_shape(load_appointment(appointment.appointment_ref))
        return Response(shape, status=201 if created else 200)


class AppointmentDetailView(APIView):
    required_scopes = {"GET": ["appointments:read"]}

    @extend_schema(
        operation_id="appointment_get",
        parameters=[APPOINTMENT_REF],
        responses={200: AppointmentOutSerializer, **errors(400, 401, 403, 404, 429)},
    )
    def get(self, request, appointment_ref: str):
        check_ref(appointment_ref, "appointment_ref")
        appointment = load_appointment(appointment_ref)
        if appointment is None:
            raise exceptions.NotFound(_("There is no appointment with this reference."))
        return Response(appointment_shape(appointment))


class AppointmentCancelView(APIView):
    required_scopes = {"POST": ["appointments:write"]}

    @extend_schema(
        operation_id="appointment_cancel",
        parameters=[APPOINTMENT_REF],
        request=None,
        responses={
            200: AppointmentOutSerializer,
            409: OpenApiResponse(ErrorSerializer, description="not_cancellable"),
            **errors(400, 401, 403, 404, 429),
        },
        description="Cancels the appointment: the slot is free again and anything set aside "
        "is released. Already cancelled: 200, unchanged. After it started: 409 "
        "not_cancellable.",
    )
    def post(self, request, appointment_ref: str):
        check_ref(appointment_ref, "appointment_ref")
        appointment = load_appointment(appointment_ref)
        if appointment is None:
            raise exceptions.NotFound(_("There is no appointment with this reference."))
        try:
            services.appointment_cancel(
                appointment=appointment, by=None, reason=_("cancelled by the online channel")
            )
        except services.AppointmentError as exc:
            raise _api_error(exc) from exc
        return Response(appointment_shape(load_appointment(appointment_ref)))
