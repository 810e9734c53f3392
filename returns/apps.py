from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "returns"
    verbose_name = _("Returns")

    def ready(self) -> None:
        from orders import shapes as order_shapes
        from retail import customer_data, customer_page, events
        from retail.audit import register_served
        from returns import customers, services, shapes, views
        from returns.audit_served import served_pairs as audit_served_pairs
        from returns.risk import tally

        # The order's shape lists its returns (orders knows nothing of them).
        order_shapes.register_section("returns", shapes.order_returns)
        # Returns, and HQ's policy exceptions for a customer, follow a customer merge.
        customer_data.register(
            "returns",
            title=_("Returns"),
            merge=services.merge_customer,
            count=services.count_customer,
            export=customers.returns_export,
            erase=customers.returns_erase,
            blocks=customers.returns_blocks,
        )
        customer_data.register(
            "returns.policy_exceptions",
            title=_("Return policy exceptions"),
            merge=customers.merge_customer,
            count=customers.count_customer,
            export=customers.exceptions_export,
            erase=customers.exceptions_erase,
        )
        # The customer page's returns section: returnable orders and returns.
        customer_page.register(
            "returns",
            render=views.customer_section,
            versions=views.CUSTOMER_SECTION_VERSIONS,
            seconds=views.CUSTOMER_SECTION_SECONDS,
        )
        # HQ's audit alerts ask where a customer was served.
        register_served("returns", audit_served_pairs)
        # The abuse signals' tallies: kept by the order and return events, merged and
        # erased with the customer.
        customer_data.register(
            "returns.tallies",
            merge=tally.merge_customer,
            count=tally.count_customer,
            export=tally.export_customer,
            erase=tally.erase_customer,
        )
        for event in ("order_placed", "order_cancelled"):
            events.register(event, "returns.risk.receivers.order_changed")
        events.register("fulfillment_changed", "returns.risk.receivers.fulfillment_changed")
        for event in ("return_completed", "return_cancelled"):
            events.register(event, "returns.risk.receivers.return_changed")
