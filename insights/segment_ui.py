"""Segments where lower apps' pages show them: the badge on the customer page (a
`retail.customer_page` section) and the "segment" filter of HQ's customer list (a
`retail.customer_filters` filter). Both registered in `InsightsConfig.ready`."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from insights import segments
from insights.models import CustomerSummary

FILTER_LABEL = _("Segment")
FILTER_INVALID = _("There is no such segment: choose one from the list.")
BADGE_SECONDS = 300


def customer_section(request, customer, store) -> SafeString:
    """The customer's channel-usage segment and why it applies; "not enough history yet"
    when they have none. The page has checked access and audited.

    Kept by the page for `BADGE_SECONDS` (`retail.customer_page`; no query on a hit):
    segments change only when the rollups are refreshed, every few minutes."""
    found = segments.segment_for(customer)
    definition = segments.DEFINITIONS[found.segment] if found else ""
    return render_to_string(
        "insights/_segment_badge.html", {"found": found, "definition": definition}
    )


def segment_choices() -> list[tuple[str, object]]:
    return [(name, segments.LABELS[name]) for name in segments.SEGMENTS]


def narrow_to_segment(customers: QuerySet, value: str) -> QuerySet:
    return customers.filter(
        pk__in=CustomerSummary.objects.filter(segment=value).values("customer_id")
    )


def segment_of_customer() -> Subquery:
    return Subquery(
        CustomerSummary.objects.filter(customer_id=OuterRef("pk")).values("segment")[:1]
    )
