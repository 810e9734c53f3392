"""Shapes of the core endpoints, and the error shape every endpoint shares."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from retail.models import Store


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


class IndexedErrorSerializer(serializers.Serializer):
    """A refused batch: errors by item index, then field (`{"3": {"sku": ["..."]}}`), or by
    field for the request itself (`{"location": ["..."]}`)."""

    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(required=False)


class ConsentInSerializer(serializers.Serializer):
    tracking = serializers.BooleanField(required=False)
    marketing = serializers.BooleanField(required=False)


class CustomerInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    preferred_store = serializers.CharField(max_length=16, required=False, allow_null=True)
    consents = ConsentInSerializer(required=False)

    def validate_preferred_store(self, value):
        if value in (None, ""):
            return None
        store = Store.objects.filter(code=value).first()
        if store is None:
            raise serializers.ValidationError(_("There is no store with this code."))
        return store


class ConsentOutSerializer(serializers.Serializer):
    given = serializers.BooleanField()
    at = serializers.DateTimeField(allow_null=True)


class ConsentsOutSerializer(serializers.Serializer):
    tracking = ConsentOutSerializer()
    marketing = ConsentOutSerializer()


class CustomerOutSerializer(serializers.Serializer):
    customer_ref = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True, help_text="E.164")
    preferred_store = serializers.CharField(allow_null=True)
    consents = ConsentsOutSerializer()

    @staticmethod
    def shape(customer) -> dict:
        return {
            "customer_ref": customer.customer_ref,
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "preferred_store": customer.preferred_store.code if customer.preferred_store else None,
            "consents": {
                "tracking": {
                    "given": customer.tracking_consent,
                    "at": customer.tracking_consent_at,
                },
                "marketing": {
                    "given": customer.marketing_consent,
                    "at": customer.marketing_consent_at,
                },
            },
        }
