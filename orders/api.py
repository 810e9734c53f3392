"""The order API of the online channel: place, read and cancel orders."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import services
from orders.models import Channel, Order
from orders.shapes import load_order, order_shape
from retail import access, geography, postcodes
from retail import services as retail_services
from retail.api.exceptions import ApiError
from retail.api.fields import one_of_values, ref_field, ref_parameter
from retail.api.serializers import ErrorSerializer
from retail.api.views import check_ref, errors
from retail.models import Store, Variant

MAX_LINES = 100
METHODS = ["pickup", "ship", "carry_out"]


def money_field(**kwargs):
    return serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.00"), **kwargs
    )


class LineInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)
    unit_price = money_field()


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    postcode = serializers.CharField(max_length=20)
    country = serializers.RegexField(r"^[A-Z]{2}$", max_length=2)
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False)
    lon = serializers.FloatField(min_value=-180, max_value=180, required=False)

    def validate(self, attrs):
        """An address sourcing can place: a country the network serves, a postcode of
        that country's shape."""
        country, postcode = attrs.get("country", ""), attrs.get("postcode", "")
        if not geography.country_served(country):
            raise serializers.ValidationError({"country": geography.not_served_message(country)})
        if not postcodes.well_formed(country, postcode):
            raise serializers.ValidationError(
                {
                    "postcode": _("“%(postcode)s” is not a postcode in %(country)s.")
                    % {"postcode": postcode, "country": country}
                }
            )
        return attrs


class FulfillmentInSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=METHODS)
    store = serializers.CharField(
        max_length=16, required=False, help_text="A store's code: needed by pickup and carry_out."
    )
    address = AddressSerializer(required=False, help_text="Needed by ship.")

    # What `orders.services` refuses otherwise, stated in the schema.
    schema_extra = {
        "anyOf": [
            {
                "properties": {"method": one_of_values(["pickup", "carry_out"])},
                "required": ["store"],
            },
            {"properties": {"method": one_of_values(["ship"])}, "required": ["address"]},
        ]
    }


class PaymentInSerializer(serializers.Serializer):
    # How the channel says it was paid ("card", "cash", "gift_card", "store_credit", …):
    # open text, as the contract has it; `store_credit` draws on the customer's credit.
    tender = serializers.CharField(
        max_length=30,
        help_text="How it was paid, e.g. card; store_credit draws the amount from the "
        "customer's store credit (needs customer_ref; beyond the balance: 409 "
        "insufficient_credit, nothing written).",
    )
    amount = money_field(help_text="The order's total: the lines less the discount.")
    reference = serializers.CharField(max_length=100, allow_blank=True)


class OrderInSerializer(serializers.Serializer):
    order_ref = ref_field()
    channel = serializers.ChoiceField(choices=Channel.values)
    customer_ref = ref_field(required=False)
    lines = LineInSerializer(many=True, allow_empty=False, max_length=MAX_LINES)
    discount = money_field(required=False, default=Decimal("0.00"))
    fulfillment = FulfillmentInSerializer()
    payment = PaymentInSerializer()

    # Only a till sale (carry_out) may be placed without a customer.
    schema_extra = {
        "anyOf": [
            {"required": ["customer_ref"]},
            {
                "properties": {
                    "fulfillment": {"properties": {"method": one_of_values(["carry_out"])}}
                }
            },
        ]
    }


class LineOutSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.CharField()
    line_total = serializers.CharField()
    cancelled_quantity = serializers.IntegerField()
    returned_quantity = serializers.IntegerField(help_text="Units whose return is completed.")


class PaymentOutSerializer(serializers.Serializer):
    tender = serializers.CharField()
    amount = serializers.CharField()
    reference = serializers.CharField()
    at = serializers.DateTimeField()


class RefundOutSerializer(serializers.Serializer):
    amount = serializers.CharField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()
    return_ref = serializers.CharField(required=False, help_text="The return that caused it.")


class OrderReturnOutSerializer(serializers.Serializer):
    return_ref = serializers.CharField()
    state = serializers.ChoiceField(
        choices=["requested", "awaiting_approval", "completed", "refused", "cancelled"]
    )


class FulfillmentLineOutSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class FulfillmentOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.ChoiceField(
        choices=[
            "pickup",
            "ship_to_store",
            "ship_to_home",
            "ship_from_store",
            "drop_ship",
            "carry_out",
        ]
    )
    location = serializers.CharField()
    state = serializers.CharField()
    lines = FulfillmentLineOutSerializer(many=True)
    ready_by = serializers.DateTimeField(required=False, allow_null=True)
    checked_in_at = serializers.DateTimeField(required=False, allow_null=True)
    pickup_code = serializers.CharField(required=False, help_text="Once the pickup is ready.")
    tracking_ref = serializers.CharField(required=False)


class OrderOutSerializer(serializers.Serializer):
    order_ref = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.ChoiceField(choices=["open", "completed", "cancelled"])
    customer_ref = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    total = serializers.CharField()
    discount = serializers.CharField()
    lines = LineOutSerializer(many=True)
    payments = PaymentOutSerializer(many=True)
    refunds = RefundOutSerializer(many=True)
    fulfillments = FulfillmentOutSerializer(many=True)
    created_at = serializers.DateTimeField()
    returns = OrderReturnOutSerializer(many=True, help_text="The order's returns.")


def _api_error(exc: services.OrderError) -> Exception:
    if isinstance(exc, services.OrderValidationError):
        return serializers.ValidationError(exc.extra["errors"])
    return ApiError(status_code=exc.status, code=exc.code, detail=exc.detail, **exc.extra)


def fingerprint(data) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description="insufficient_stock (with `skus`), price_mismatch, order_ref_conflict, "
    "insufficient_credit (tender store_credit beyond the customer's balance, with `balance`)",
)


ORDER_REF = ref_parameter("order_ref", "The online channel's reference of the order.", "WEB-1001")
ORDER_EXAMPLE = OpenApiExample(
    "pickup",
    request_only=True,
    value={
        "order_ref": "WEB-1001",
        "channel": "web",
        "customer_ref": "WEB-C1",
        "lines": [{"sku": "JUMPER-M", "quantity": 1, "unit_price": "59.90"}],
        "fulfillment": {"method": "pickup", "store": "S01"},
        "payment": {"tender": "card", "amount": "59.90", "reference": "psp-8842"},
    },
)


class OrderCreateView(APIView):
    required_scopes = {"POST": ["orders:write"]}

    @extend_schema(
        operation_id="order_create",
        request=OrderInSerializer,
        examples=[ORDER_EXAMPLE],
        responses={
            201: OrderOutSerializer,
            200: OrderOutSerializer,
            409: CONFLICT,
            **errors(400, 401, 403, 413, 415, 429),
        },
        description="Place an order. The same `order_ref` with the same body answers 200 with "
        "the existing order; `payment_mismatch` is a 400.",
    )
    def post(self, request):
        incoming = OrderInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        if not access.api_client_may_place(request.user, data["channel"]):
            raise exceptions.PermissionDenied(
                _("Orders in the %(channel)s channel are not allowed for this client.")
                % {"channel": data["channel"]}
            )
        variants = {
            v.sku: v
            for v in Variant.objects.select_related("product__category").filter(
                sku__in=[line["sku"] for line in data["lines"]]
            )
        }
        problems = {}
        for i, line in enumerate(data["lines"]):
            if line["sku"] not in variants:
                problems[f"lines.{i}.sku"] = [_("Unknown SKU.")]
        customer = None
        if "customer_ref" in data:
            customer = retail_services.customer_by_ref(data["customer_ref"])
            if customer is None:
                problems["customer_ref"] = [
                    _("Unknown customer: PUT the customer before the order.")
                ]
        store = None
        if data["fulfillment"].get("store"):
            store = Store.objects.filter(code=data["fulfillment"]["store"]).first()
            if store is None:
                problems["fulfillment.store"] = [_("There is no store with this code.")]
        if problems:
            raise serializers.ValidationError(problems)
        address = data["fulfillment"].get("address")
        order_input = services.OrderInput(
            order_ref=data["order_ref"],
            channel=data["channel"],
            customer=customer,
            lines=[
                services.LineInput(variants[line["sku"]], line["quantity"], line["unit_price"])
                for line in data["lines"]
            ],
            method=data["fulfillment"]["method"],
            store=store,
            address=dict(address) if address else None,
            discount=data["discount"],
            tender=data["payment"]["tender"],
            amount=data["payment"]["amount"],
            payment_reference=data["payment"]["reference"],
            fingerprint=fingerprint(request.data),
        )
        try:
            order, created = services.order_place(order_input)
        except services.OrderError as exc:
            raise _api_error(exc) from exc
        # The order comes back fully loaded (inside its transaction): once it has
        # committed, answering it needs no query that a failing database could refuse.
        return Response(order_shape(order), status=201 if created else 200)


class OrderDetailView(APIView):
    required_scopes = {"GET": ["orders:read"]}

    @extend_schema(
        operation_id="order_get",
        parameters=[ORDER_REF],
        responses={200: OrderOutSerializer, **errors(400, 401, 403, 404, 429)},
    )
    def get(self, request, order_ref: str):
        check_ref(order_ref, "order_ref")
        order = load_order(order_ref)
        if order is None:
            raise exceptions.NotFound(_("There is no order with this reference."))
        return Response(order_shape(order))


class OrderCancelView(APIView):
    required_scopes = {"POST": ["orders:write"]}

    @extend_schema(
        operation_id="order_cancel",
        parameters=[ORDER_REF],
        request=None,
        responses={
            200: OrderOutSerializer,
            409: OpenApiResponse(ErrorSerializer, description="not_cancellable"),
            **errors(400, 401, 403, 404, 429),
        },
        description="Cancels every fulfilment not yet handed over or shipped, releases its stock "
        "and records the refund. Already cancelled: 200, unchanged.",
    )
    def post(self, request, order_ref: str):
        check_ref(order_ref, "order_ref")
        order = Order.objects.filter(order_ref=order_ref).first()
        if order is None:
            raise exceptions.NotFound(_("There is no order with this reference."))
        try:
            services.order_cancel(order=order, by=None, reason=_("cancelled by the online channel"))
        except services.OrderError as exc:
            raise _api_error(exc) from exc
        return Response(order_shape(load_order(order_ref)))
