from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        from insights import checks, customer_rights, segment_ui  # noqa: F401 (checks register)
        from retail import customer_data, customer_filters, customer_page, events

        customer_data.register(
            "insights",
            merge=customer_rights.merge,
            count=customer_rights.count,
            export=customer_rights.export,
            erase=customer_rights.erase,
        )

        # The segment where lower apps' pages show it: a badge on the customer page,
        # a filter (and a CSV column) on HQ's customer list.
        customer_page.register(
            "insights_segment",
            render=segment_ui.customer_section,
            seconds=segment_ui.BADGE_SECONDS,
        )
        customer_filters.register(
            "segment",
            label=segment_ui.FILTER_LABEL,
            choices=segment_ui.segment_choices,
            narrow=segment_ui.narrow_to_segment,
            value=segment_ui.segment_of_customer,
            invalid=segment_ui.FILTER_INVALID,
        )

        # Each receiver only marks the days and customers an event touched as dirty;
        # the beat task `insights.tasks.rollups_refresh` re-computes them.
        for event in ("order_placed", "order_cancelled", "fulfillment_changed"):
            events.register(event, "insights.receivers.order_changed")
        for event in ("return_requested", "return_completed", "return_cancelled"):
            events.register(event, "insights.receivers.return_changed")
        events.register("customer_merged", "insights.receivers.customer_merged")
        events.register("tracking_consent_withdrawn", "insights.receivers.customer_changed")
