from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientelingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clienteling"
    verbose_name = _("Clienteling")

    def ready(self) -> None:
        from clienteling import customer_rights, profile, services, views
        from clienteling.appointments import customer_rights as appointment_rights
        from clienteling.appointments import services as appointments
        from clienteling.appointments import webhooks as appointment_webhooks
        from clienteling.audit_served import served_pairs as audit_served_pairs
        from inventory.services import register_shortage_handler
        from retail import customer_data, customer_page, events, messaging, retention
        from retail import webhooks as webhook_core
        from retail.audit import register_served

        customer_data.register(
            "clienteling",
            title=_("Browsing, notes and follow-ups"),
            merge=services.merge_customer,
            count=services.count_customer,
            export=customer_rights.export,
            erase=customer_rights.erase,
        )
        customer_data.register(
            "clienteling.appointments",
            title=_("Appointments"),
            merge=appointment_rights.merge,
            count=appointment_rights.count,
            export=appointment_rights.export,
            erase=appointment_rights.erase,
            blocks=appointment_rights.blocks,
        )
        # Items set aside for appointments give way to a till sale or a count, once.
        register_shortage_handler(appointments.handle_stock_shortage)
        webhook_core.register_subject(
            appointment_webhooks.SUBJECT, exists=appointment_webhooks.appointment_exists
        )
        customer_page.register(
            "clienteling",
            render=views.customer_section,
            versions=profile.PANEL_VERSIONS,
            stamps=(profile.AFFINITY_VERSION,),
            seconds=profile.PANEL_SECONDS,
            finish=views.customer_section_finish,
        )
        retention.register_anonymous_purger(
            "clienteling.anonymous_browsing",
            purge=customer_rights.anonymous_purge,
            pending=customer_rights.anonymous_pending,
        )
        retention.register_activity("clienteling.browsing", customer_rights.browsed_since)
        retention.register_activity("clienteling.serving", customer_rights.served_since)
        # Outreach is marketing: sent only with consent, with an unsubscribe link.
        messaging.register_marketing(services.OUTREACH_TEMPLATE)
        events.register("tracking_consent_withdrawn", "clienteling.receivers.tracking_withdrawn")
        events.register("stock_replenished", "clienteling.receivers.stock_replenished")
        events.register("order_placed", "clienteling.receivers.order_placed")
        events.register("order_cancelled", "clienteling.receivers.order_cancelled")
        # The customer's appointment e-mails (confirmation, move, cancellation, thanks).
        events.register("appointment_changed", "clienteling.appointments.mail.appointment_mail")
        events.register("appointment_changed", "clienteling.receivers.appointment_changed")
        # HQ's audit alerts ask where a customer was served.
        register_served("clienteling", audit_served_pairs)
