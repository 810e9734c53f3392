"""The customers endpoints (`/api/v1/customers/{customer_ref}/`)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from retail import services
from retail.api.fields import REF_HELP, REF_MAX, ref_is_valid, ref_parameter
from retail.api.serializers import CustomerInSerializer, CustomerOutSerializer, ErrorSerializer


def errors(*codes: int) -> dict:
    """The error responses an operation documents, all in the one error shape."""
    text = {
        400: "parse_error or validation_error",
        401: "not_authenticated",
        403: "permission_denied",
        404: "not_found",
        409: "conflict (see the operation)",
        413: "too_large",
        415: "unsupported_media_type",
        429: "throttled",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=text[code]) for code in codes}


def check_ref(ref: str, field: str = "customer_ref") -> None:
    """A reference from the path follows the rule its schema states (`ref_parameter`)."""
    if "\x00" in ref:  # PostgreSQL text cannot hold it
        raise exceptions.ValidationError({field: [ProhibitNullCharactersValidator.message]})
    if len(ref) > REF_MAX:
        raise exceptions.ValidationError(
            {field: [_("Ensure this field has no more than %(n)s characters.") % {"n": REF_MAX}]}
        )
    if not ref_is_valid(ref):
        raise exceptions.ValidationError({field: [str(REF_HELP)]})


CUSTOMER_REF = ref_parameter(
    "customer_ref", "The online channel's reference of the customer.", "WEB-C1"
)
CUSTOMER_EXAMPLE = OpenApiExample(
    "customer",
    request_only=True,
    value={
        "name": "Ann Lee",
        "email": "ann.lee@example.com",
        "phone": "+44 7700 900123",
        "preferred_store": "S01",
        "consents": {"tracking": True, "marketing": False},
    },
)


class CustomerView(APIView):
    required_scopes = {
        "GET": ["customers:read"],
        "PUT": ["customers:write"],
        "DELETE": ["customers:write"],
    }

    @extend_schema(
        operation_id="customer_get",
        parameters=[CUSTOMER_REF],
        responses={200: CustomerOutSerializer, **errors(400, 401, 403, 404, 429)},
        description="A customer by the online channel's reference. A reference merged into "
        "another profile answers with the surviving customer.",
    )
    def get(self, request, customer_ref: str):
        check_ref(customer_ref)
        customer = services.customer_by_ref(customer_ref)
        if customer is None:
            raise exceptions.NotFound(_("There is no customer with this reference."))
        services.audit_record(
            actor=None,
            action="customer.api_read",
            target=customer,
            detail={"api_client": getattr(request.auth, "pk", None)},
        )
        return Response(CustomerOutSerializer.shape(customer))

    @extend_schema(
        operation_id="customer_put",
        parameters=[CUSTOMER_REF],
        request=CustomerInSerializer,
        examples=[CUSTOMER_EXAMPLE],
        responses={
            200: CustomerOutSerializer,
            201: CustomerOutSerializer,
            **errors(400, 401, 403, 413, 415, 429),
        },
        description="Create (201, `name` required) or update (200) a customer. Fields left "
        "out keep their value; the phone must be a number that can be dialled (with its "
        "country code, or of the preferred store's country) and is stored in E.164; an unknown "
        "`preferred_store` is a validation_error; consents are recorded with the time of "
        "each decision.",
    )
    def put(self, request, customer_ref: str):
        check_ref(customer_ref)
        data = CustomerInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            customer, created = services.customer_upsert(
                customer_ref=customer_ref, data=data.validated_data, by=None
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return Response(CustomerOutSerializer.shape(customer), status=201 if created else 200)

    @extend_schema(
        operation_id="customer_delete",
        parameters=[CUSTOMER_REF],
        request=None,
        responses={204: None, **errors(400, 401, 403, 404, 409, 429)},
        description="Erasure at the customer's request: personal data goes from every app; "
        "orders and returns stay for accounting, anonymised (`customer_ref` null). Afterwards "
        "the reference answers 404 and events sent for it are dropped as unknown. While the "
        "customer has an open order, an unfinished return, unspent store credit or a booked "
        "appointment: 409 `erasure_blocked` with `orders` (and `returns`, `store_credit`, "
        "`appointments` where those block); nothing is erased. Unknown or already erased: 404.",
    )
    def delete(self, request, customer_ref: str):
        from retail import data_rights
        from retail.api.exceptions import ApiError
        from retail.models import Customer

        check_ref(customer_ref)
        customer = services.customer_by_ref(customer_ref)
        if customer is None:
            raise exceptions.NotFound(_("There is no customer with this reference."))
        try:
            data_rights.customer_erase(
                customer, by=None, reason=f"API client {request.auth.pk}: erasure request"
            )
        except data_rights.ErasureBlocked as exc:
            blockers = {"orders": [], **exc.blockers}
            raise ApiError(
                status_code=409,
                code="erasure_blocked",
                detail=_("This customer's data cannot be erased yet."),
                **blockers,
            ) from exc
        except Customer.DoesNotExist as exc:
            raise exceptions.NotFound(_("There is no customer with this reference.")) from exc
        return Response(status=204)


class CustomerExportView(APIView):
    required_scopes = {"GET": ["customers:read"]}

    @extend_schema(
        operation_id="customer_export",
        parameters=[CUSTOMER_REF],
        responses={
            200: OpenApiResponse(description="The export document (a section per app)."),
            **errors(400, 401, 403, 404, 429),
        },
        description="Everything Aisle holds about the customer as one JSON document, a section "
        "per app that keeps customer data (profile and consent history, browsing, orders, "
        "returns, notes, tasks, messages, …). Audit-logged.",
    )
    def get(self, request, customer_ref: str):
        from retail import data_rights

        check_ref(customer_ref)
        customer = services.customer_by_ref(customer_ref)
        if customer is None:
            raise exceptions.NotFound(_("There is no customer with this reference."))
        document = data_rights.customer_export(customer)
        services.audit_record(
            actor=None,
            action="customer.export",
            target=customer,
            detail={"api_client_id": request.auth.pk},
        )
        response = Response(document)
        response["Cache-Control"] = "no-store"
        return response
