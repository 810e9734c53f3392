from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from inventory.services import register_shortage_handler
        from orders import credit, credit_views, customer_rights, services, webhooks
        from orders.audit_served import served_pairs as audit_served_pairs
        from retail import customer_data, customer_page, retention
        from retail import webhooks as webhook_core
        from retail.audit import register_served

        # Physical facts win over plans: inventory asks orders to re-source reservations.
        register_shortage_handler(services.handle_stock_shortage)
        # Orders follow a customer merge.
        customer_data.register(
            "orders",
            title=_("Orders"),
            merge=services.orders_merge_customer,
            count=services.orders_count_customer,
            export=customer_rights.orders_export,
            erase=customer_rights.orders_erase,
            blocks=customer_rights.orders_blocks,
        )
        # Store credit follows a merge too, and shows on the customer page.
        customer_data.register(
            "store_credit",
            title=_("Store credit entries"),
            merge=credit.merge_customer,
            count=credit.count_customer,
            export=customer_rights.credit_export,
            erase=customer_rights.credit_erase,
            blocks=customer_rights.credit_blocks,
        )
        customer_page.register(
            "store_credit",
            render=credit_views.customer_section,
            versions=credit_views.CUSTOMER_SECTION_VERSIONS,
            seconds=credit_views.CUSTOMER_SECTION_SECONDS,
        )
        # Retention: a customer who ordered is active.
        retention.register_activity("orders", customer_rights.active_since)
        # Order webhooks: the core drops the deliveries of an order that was deleted.
        webhook_core.register_subject(webhooks.SUBJECT, exists=webhooks.order_exists)
        # HQ's audit alerts ask where a customer was served.
        register_served("orders", audit_served_pairs)
