from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from inventory.services import register_shortage_handler
        from orders import services, webhooks  # noqa: F401 - webhooks registers its beat task
        from retail import customer_data

        # Physical facts win over plans: inventory asks orders to re-source reservations.
        register_shortage_handler(services.handle_stock_shortage)
        # Orders follow a customer merge.
        customer_data.register(
            "orders", merge=services.orders_merge_customer, count=services.orders_count_customer
        )
