from django.contrib import admin

from insights.models import IncentiveWeights
from retail.admin import AisleModelAdmin as HQOnly


@admin.register(IncentiveWeights)
class IncentiveWeightsAdmin(HQOnly):
    """HQ's incentive weights: one row (validated by the model's `clean`)."""

    list_display = (
        "__str__",
        "own_store_sales",
        "attributed_online",
        "pickup_handed",
        "followup_converted",
        "returns_deducted",
        "updated_at",
    )

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not IncentiveWeights.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
