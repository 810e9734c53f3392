from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "returns"
    verbose_name = _("Returns")

    def ready(self) -> None:
        from retail import customer_data
        from returns import customers

        # HQ's policy exceptions for a customer follow a customer merge.
        customer_data.register(
            "returns.policy_exceptions",
            merge=customers.merge_customer,
            count=customers.count_customer,
        )
