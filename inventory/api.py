"""`GET /api/v1/availability/`: what the network can promise now, per SKU and location."""

import msgspec
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
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


class AvailabilityView(APIView):
    required_scopes = {"GET": ["availability:read"]}

    @extend_schema(
        operation_id="availability_get",
        parameters=[
            OpenApiParameter("sku", str, many=True, required=True, description="1 to 50 SKUs."),
            OpenApiParameter("store", str, required=False, description="A store's code."),
        ],
        responses={200: AvailabilitySerializer, **errors(400, 401, 403, 429)},
        description="Every `available` is what a pickup or delivery order can take now "
        "(on hand − reserved − safety stock, never below 0). Unknown SKUs answer 400 "
        "`unknown_sku` with `skus`.",
    )
    def get(self, request):
        skus = [s.strip() for s in request.query_params.getlist("sku") if s.strip()]
        store = request.query_params.get("store")
        problems = {}
        if not skus:
            problems["sku"] = [_("Give at least one sku.")]
        elif len(skus) > MAX_SKUS:
            problems["sku"] = [_("At most %(n)s SKUs in one request.") % {"n": MAX_SKUS}]
        elif any(len(s) > 40 for s in skus):
            problems["sku"] = [_("A SKU has at most 40 characters.")]
        if problems:
            raise serializers.ValidationError(problems)
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
