"""`PUT /api/v1/products/{style_code}/`: the product-information system's products,
variants, prices and translations, through `retail.catalog_feed` (as HQ's imports)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from retail import catalog_feed
from retail.api.exceptions import ApiError
from retail.api.fields import REF_HELP, REF_PATTERN, ecma
from retail.api.views import check_ref, errors
from retail.models import Product, ProductTranslation, catalogue_languages

STYLE_MAX = 32
MAX_VARIANTS = 500
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z"


class TranslationInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)


class VariantInSerializer(serializers.Serializer):
    sku = serializers.RegexField(
        SKU_PATTERN,
        max_length=40,
        error_messages={"invalid": _("A SKU is letters, digits, dots, hyphens and underscores.")},
    )
    barcode = serializers.RegexField(
        r"^[0-9]{13}\Z",
        max_length=13,
        required=False,
        allow_blank=True,
        help_text="EAN-13; an empty string removes it.",
        error_messages={"invalid": _("An EAN-13 barcode is exactly 13 digits.")},
    )
    price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="Tax included, up to two decimals.",
    )
    size = serializers.CharField(max_length=20, required=False, allow_blank=True)
    colour = serializers.CharField(max_length=40, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class ProductInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    brand = serializers.CharField(max_length=100, required=False, allow_blank=True)
    category = serializers.CharField(max_length=100, help_text="A category's name (or code).")
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    translations = serializers.DictField(
        child=TranslationInSerializer(),
        required=False,
        help_text="Per language other than English: `zh-hans`.",
    )
    attributes = serializers.DictField(
        child=serializers.CharField(max_length=200, allow_blank=True), required=False
    )
    active = serializers.BooleanField(required=False)
    variants = VariantInSerializer(many=True, min_length=1, max_length=MAX_VARIANTS)

    def validate_translations(self, value):
        languages = [code for code, _name in catalogue_languages()]
        unknown = sorted(set(value) - set(languages))
        if unknown:
            raise serializers.ValidationError(
                _("Translations can be in: %(languages)s.") % {"languages": ", ".join(languages)}
            )
        return value


class TranslationOutSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)


class VariantOutSerializer(serializers.Serializer):
    sku = serializers.CharField()
    barcode = serializers.CharField(allow_null=True)
    price = serializers.CharField(help_text="Two decimals.")
    size = serializers.CharField(allow_blank=True)
    colour = serializers.CharField(allow_blank=True)
    active = serializers.BooleanField()


class ProductOutSerializer(serializers.Serializer):
    style_code = serializers.CharField()
    name = serializers.CharField()
    brand = serializers.CharField(allow_blank=True)
    category = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    translations = serializers.DictField(child=TranslationOutSerializer())
    attributes = serializers.DictField()
    active = serializers.BooleanField()
    variants = VariantOutSerializer(many=True)
    updated_at = serializers.DateTimeField()

    @staticmethod
    def shape(product: Product) -> dict:
        translations = ProductTranslation.objects.filter(product=product).order_by("language")
        return {
            "style_code": product.style_code,
            "name": product.name,
            "brand": product.brand,
            "category": product.category.name,
            "description": product.description,
            "translations": {
                t.language: {"name": t.name, "description": t.description} for t in translations
            },
            "attributes": product.attributes,
            "active": product.active,
            "variants": [
                {
                    "sku": v.sku,
                    "barcode": v.barcode,
                    "price": f"{v.price:.2f}",
                    "size": v.size,
                    "colour": v.colour,
                    "active": v.active,
                }
                for v in product.variants.order_by("sku")
            ],
            "updated_at": product.updated_at,
        }


STYLE_CODE = OpenApiParameter(
    "style_code",
    {
        "type": "string",
        "minLength": 1,
        "maxLength": STYLE_MAX,
        "pattern": ecma(REF_PATTERN),
    },
    OpenApiParameter.PATH,
    required=True,
    description=f"The product's style code in the product-information system: up to 32 "
    f"characters. {REF_HELP}",
    examples=[OpenApiExample("style_code", value="JUMPER")],
)
PRODUCT_EXAMPLE = OpenApiExample(
    "product",
    request_only=True,
    value={
        "name": "Merino jumper",
        "brand": "Aisle Basics",
        "category": "Knitwear",
        "description": "Fine merino wool, crew neck.",
        "translations": {
            "zh-hans": {"name": "美利奴羊毛衫", "description": "细美利奴羊毛，圆领。"}
        },
        "attributes": {"material": "Wool"},
        "variants": [
            {"sku": "JUMPER-M", "barcode": "4006381333931", "price": "59.90", "size": "M"},
            {"sku": "JUMPER-L", "price": "59.90", "size": "L"},
        ],
    },
)


class ProductView(APIView):
    required_scopes = {"PUT": ["catalog:write"]}

    @extend_schema(
        operation_id="product_put",
        parameters=[STYLE_CODE],
        request=ProductInSerializer,
        examples=[PRODUCT_EXAMPLE],
        responses={
            200: ProductOutSerializer,
            201: ProductOutSerializer,
            **errors(400, 401, 403, 409, 413, 415, 429),
        },
        description="Create (201) or update (200) a product with its variants, all or "
        "nothing. Fields left out keep their value; a variant left out keeps existing "
        "(deactivate it with `active: false`; nothing is deleted). A price change is "
        "recorded with its time. An unknown category: 400 `validation_error`; a SKU that "
        "belongs to another product: 409 `sku_conflict` with `skus`. Sending the same "
        "product again changes nothing and answers 200.",
    )
    def put(self, request, style_code: str):
        check_ref(style_code, "style_code")
        data = ProductInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        product = catalog_feed.ProductIn(
            style_code=style_code,
            name=body["name"],
            category=body["category"],
            brand=body.get("brand"),
            description=body.get("description"),
            translations=body.get("translations"),
            attributes=body.get("attributes"),
            active=body.get("active"),
            variants=[
                catalog_feed.VariantIn(
                    sku=v["sku"],
                    price=v["price"],
                    barcode=v.get("barcode"),
                    size=v.get("size"),
                    colour=v.get("colour"),
                    active=v.get("active"),
                )
                for v in body["variants"]
            ],
        )
        try:
            (outcome,) = catalog_feed.catalog_apply(
                [product], api_client=request.auth, source="api"
            )
        except catalog_feed.CatalogRefused as exc:
            if exc.only_conflicts:
                raise ApiError(
                    status_code=409,
                    code="sku_conflict",
                    detail=_("These SKUs belong to another product: %(skus)s")
                    % {"skus": ", ".join(exc.sku_conflicts)},
                    skus=exc.sku_conflicts,
                ) from exc
            raise serializers.ValidationError(exc.errors.get(0, {})) from exc
        stored = Product.objects.select_related("category").get(pk=outcome.product_id)
        return Response(ProductOutSerializer.shape(stored), status=201 if outcome.created else 200)
