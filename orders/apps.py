from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from inventory.services import register_shortage_handler
        from orders.services import handle_stock_shortage

        # Physical facts win over plans: inventory asks orders to re-source reservations.
        register_shortage_handler(handle_stock_shortage)
