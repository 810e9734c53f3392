"""The Returns API of the online channel: start, receive, cancel and read returns."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.models import StockLocation
from orders.api import fingerprint
from orders.models import Order, OrderLine
from orders.returning import NotReturnable
from orders.services import OrderError
from retail.api.exceptions import ApiError
from retail.api.fields import ref_field, ref_parameter
from retail.api.serializers import ErrorSerializer
from retail.api.views import check_ref, errors
from returns import services
from returns.models import Disposition, Reason, RefundTo, Return
from returns.shapes import load_return, return_shape

MAX_LINES = 100


class ReturnLineInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)
    reason = serializers.ChoiceField(choices=Reason.values)


class ReturnInSerializer(serializers.Serializer):
    return_ref = ref_field()
    order_ref = ref_field()
    lines = ReturnLineInSerializer(many=True, allow_empty=False, max_length=MAX_LINES)
    refund_to = serializers.ChoiceField(
        choices=RefundTo.values, required=False, default=RefundTo.ORIGINAL
    )


class DispositionInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=40)
    disposition = serializers.ChoiceField(
        choices=[Disposition.RESTOCK, Disposition.DAMAGED, Disposition.VENDOR]
    )


class ReceiveInSerializer(serializers.Serializer):
    location = serializers.CharField(max_length=16, help_text="A store's or the DC's code.")
    lines = DispositionInSerializer(many=True, required=False, max_length=MAX_LINES)


class ReturnLineOutSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=Reason.values)
    disposition = serializers.ChoiceField(choices=Disposition.values, required=False)
    refund_amount = serializers.CharField(required=False)


class ReturnRefundOutSerializer(serializers.Serializer):
    amount = serializers.CharField()
    fee = serializers.CharField()
    to = serializers.ChoiceField(choices=RefundTo.values)


class ReturnOutSerializer(serializers.Serializer):
    return_ref = serializers.CharField()
    order_ref = serializers.CharField(allow_null=True)
    state = serializers.ChoiceField(
        choices=["requested", "awaiting_approval", "completed", "refused", "cancelled"]
    )
    code = serializers.CharField(help_text="Shown at any store to finish the return.")
    location = serializers.CharField(required=False)
    lines = ReturnLineOutSerializer(many=True)
    refund = ReturnRefundOutSerializer(required=False)
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(required=False)


RETURN_REF = ref_parameter(
    "return_ref", "The online channel's reference of the return.", "RET-1001"
)
RETURN_EXAMPLE = OpenApiExample(
    "a return of one unit",
    request_only=True,
    value={
        "return_ref": "RET-1001",
        "order_ref": "WEB-1001",
        "lines": [{"sku": "JUMPER-M", "quantity": 1, "reason": "size"}],
        "refund_to": "original",
    },
)


def _api_error(exc: OrderError) -> Exception:
    field = exc.extra.get("field") if isinstance(exc, services.ReturnError) else None
    if field:
        return serializers.ValidationError({field: [exc.detail]})
    extra = {k: v for k, v in exc.extra.items() if k != "field"}
    return ApiError(status_code=exc.status, code=exc.code, detail=exc.detail, **extra)


def _answer(ret: Return, status: int = 200) -> Response:
    return Response(return_shape(load_return(ret.return_ref)), status=status)


def _return_or_404(return_ref: str) -> Return:
    check_ref(return_ref, "return_ref")
    ret = Return.objects.filter(return_ref=return_ref).first()
    if ret is None:
        raise exceptions.NotFound(_("There is no return with this reference."))
    return ret


def _asks(order: Order, lines: list[dict]) -> list[services.LineAsk]:
    """The API names SKUs; an order may hold a SKU on several lines: the units go to the
    lines that can still take them, in line order."""
    order_lines = list(
        OrderLine.objects.filter(order=order).select_related("variant").order_by("pk")
    )
    asks, problems = [], {}
    left = {line.pk: line.received_quantity - line.claimed_quantity for line in order_lines}
    for i, item in enumerate(lines):
        candidates = [line for line in order_lines if line.sku == item["sku"]]
        if not candidates:
            problems[f"lines.{i}.sku"] = [_("This order has no line with this SKU.")]
            continue
        wanted = item["quantity"]
        for line in candidates:
            take = min(wanted, max(left[line.pk], 0))
            if take:
                asks.append(services.LineAsk(quantity=take, reason=item["reason"], order_line=line))
                left[line.pk] -= take
                wanted -= take
        if wanted:  # more than the order can give: the last line asks for it, and is refused
            asks.append(
                services.LineAsk(quantity=wanted, reason=item["reason"], order_line=candidates[-1])
            )
    if problems:
        raise serializers.ValidationError(problems)
    return asks


class ReturnCreateView(APIView):
    required_scopes = {"POST": ["orders:write"]}

    @extend_schema(
        operation_id="return_create",
        request=ReturnInSerializer,
        examples=[RETURN_EXAMPLE],
        responses={
            201: ReturnOutSerializer,
            200: ReturnOutSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                description="not_returnable (with `lines`: [{sku, reason}]), return_ref_conflict",
            ),
            **errors(400, 401, 403, 404, 413, 415, 429),
        },
        description="The customer starts a return online: the units are claimed and the return "
        "waits, `requested`, for a store or the DC to receive it. The same `return_ref` with the "
        "same body answers 200 with the existing return.",
    )
    def post(self, request):
        incoming = ReturnInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        existing = Return.objects.filter(return_ref=data["return_ref"]).first()
        print_ = fingerprint(request.data)
        try:
            if existing is not None:
                return _answer(services._same(existing, print_))
            order = (
                Order.objects.select_related("customer").filter(order_ref=data["order_ref"]).first()
            )
            if order is None:
                raise exceptions.NotFound(_("There is no order with this reference."))
            ret, created = services.return_request(
                order=order,
                return_ref=data["return_ref"],
                asks=_asks(order, data["lines"]),
                refund_to=data["refund_to"],
                fingerprint=print_,
            )
        except NotReturnable as exc:
            raise ApiError(
                status_code=409, code=exc.code, detail=exc.detail, lines=exc.extra.get("lines", [])
            ) from exc
        except OrderError as exc:
            raise _api_error(exc) from exc
        return _answer(ret, 201 if created else 200)


class ReturnDetailView(APIView):
    required_scopes = {"GET": ["orders:read"]}

    @extend_schema(
        operation_id="return_get",
        parameters=[RETURN_REF],
        responses={200: ReturnOutSerializer, **errors(400, 401, 403, 404, 429)},
    )
    def get(self, request, return_ref: str):
        return _answer(_return_or_404(return_ref))


class ReturnReceiveView(APIView):
    required_scopes = {"POST": ["orders:write"]}

    @extend_schema(
        operation_id="return_receive",
        parameters=[RETURN_REF],
        request=ReceiveInSerializer,
        responses={
            200: ReturnOutSerializer,
            409: OpenApiResponse(ErrorSerializer, description="not_receivable"),
            **errors(400, 401, 403, 404, 413, 415, 429),
        },
        description="The parcel reached a location that takes mailed returns: the return "
        "completes (refund, restock through the ledger). Completed already: 200, unchanged.",
    )
    def post(self, request, return_ref: str):
        ret = _return_or_404(return_ref)
        incoming = ReceiveInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        location = StockLocation.objects.filter(code=data["location"], active=True).first()
        if location is None:
            raise serializers.ValidationError(
                {"location": [_("There is no location with this code.")]}
            )
        skus = {line.sku for line in ret.lines.all()}
        dispositions = {}
        for i, item in enumerate(data.get("lines") or []):
            if item["sku"] not in skus:
                raise serializers.ValidationError(
                    {f"lines.{i}.sku": [_("This return has no line with this SKU.")]}
                )
            dispositions[item["sku"]] = item["disposition"]
        try:
            ret = services.return_receive(ret=ret, location=location, dispositions=dispositions)
        except OrderError as exc:
            raise _api_error(exc) from exc
        return _answer(ret)


class ReturnCancelView(APIView):
    required_scopes = {"POST": ["orders:write"]}

    @extend_schema(
        operation_id="return_cancel",
        parameters=[RETURN_REF],
        request=None,
        responses={
            200: ReturnOutSerializer,
            409: OpenApiResponse(ErrorSerializer, description="not_cancellable"),
            **errors(400, 401, 403, 404, 429),
        },
        description="A return not yet completed is cancelled and frees what it claimed. "
        "Cancelled already: 200, unchanged.",
    )
    def post(self, request, return_ref: str):
        ret = _return_or_404(return_ref)
        try:
            ret = services.return_cancel(ret=ret, reason=_("cancelled by the online channel"))
        except OrderError as exc:
            raise _api_error(exc) from exc
        return _answer(ret)
