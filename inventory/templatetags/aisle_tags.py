"""The endless aisle's result cards: rendered once per product and language while
the catalog index lives (`CatalogIndex.rendered`), then only the shelf count is
added per search. Typing sends a search every few keystrokes; most cards repeat."""

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

register = template.Library()


@register.simple_tag(takes_context=True)
def aisle_card(context, hit) -> SafeString:
    cards = context["cards"]  # this index's cards in the active language
    product = hit.product
    card = cards.get(product.id)
    if card is None:
        base = cards.get("base") or cards.setdefault("base", reverse("aisle:search"))
        card = render_to_string(
            "inventory/aisle/_card.html",
            {
                "p": product,
                "url": f"{base}{product.style_code}/",
                "media_url": settings.MEDIA_URL,
                "currency": settings.AISLE_CURRENCY,
                "price_from": product.price_from,
                "price_to": product.price_to,
                "sizes": product.size_list(),
            },
        )
        cards[product.id] = card
    if hit.here:
        text = ngettext("%(n)s on the shelf here", "%(n)s on the shelf here", hit.here)
        pill = format_html('<span class="pill pill-good">{}</span>', text % {"n": hit.here})
    else:
        pill = format_html('<span class="pill">{}</span>', gettext("Not on the shelf here"))
    return mark_safe(f"{card}{pill}</a>")  # noqa: S308 - a rendered template and escaped text
