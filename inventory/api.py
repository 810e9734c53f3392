"""`GET /api/v1/availability/`: what the network can promise now, per SKU and location."""

import msgspec
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from inventory.availability import MAX_SKUS, UnknownSkus, UnknownStore, network_availability
from retail.api.exceptions import ApiError
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
