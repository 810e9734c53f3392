from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "returns"
    verbose_name = _("Returns")

    def ready(self) -> None:
        from orders import shapes as order_shapes
        from retail import customer_data, customer_page
        from returns import services, shapes, views

        # The order's shape lists its returns (orders knows nothing of them).
        order_shapes.register_section("returns", shapes.order_returns)
        # Returns follow a customer merge.
        customer_data.register(
            "returns", merge=services.merge_customer, count=services.count_customer
        )
        # The customer page's returns section: returnable orders and returns.
        customer_page.register("returns", render=views.customer_section)
