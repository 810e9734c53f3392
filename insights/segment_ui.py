"""Segments where lower apps' pages show them: the badge on the customer page (a
`retail.customer_page` section) and the "segment" filter of HQ's customer list (a
`retail.customer_filters` filter). Both registered in `InsightsConfig.ready`."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import OuterRef, QuerySet, Subquery
from django.template.loader import render_to_string
from django.utils import translation
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

    Kept in the cache for `BADGE_SECONDS` per customer and language (no query on a
    hit): segments change only when the rollups are refreshed, every few minutes."""
    key = f"insights:segment-badge:{customer.pk}:{translation.get_language()}"
    html = cache.get(key)
    if html is None:
        found = segments.segment_for(customer)
        definition = segments.DEFINITIONS[found.segment] if found else ""
        html = render_to_string(
            "insights/_segment_badge.html", {"found": found, "definition": definition}
        )
        cache.set(key, html, BADGE_SECONDS)
    return SafeString(html)


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
