"""The endless aisle's result cards: rendered once per product and language while
the catalog index lives (`CatalogIndex.rendered`), then only the shelf count is
added per search. Typing sends a search every few keystrokes; most cards repeat."""

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

register = template.Library()


@register.simple_tag(takes_context=True)
def aisle_cards(context, hits) -> SafeString:
    """The result list's items: each product's card (rendered once per product and
    language while the index lives) with this shelf's count added."""
    cards = context["cards"]  # this index's cards in the active language
    pills: dict[int, str] = {}  # the shelf count's words, once per count per request
    parts = []
    for hit in hits:
        card = cards.get(hit.product.id) or _card(cards, hit.product)
        pill = pills.get(hit.here)
        if pill is None:
            pill = pills[hit.here] = _pill(hit.here)
        parts.append(f"<li>{card}{pill}</a></li>")
    return mark_safe("".join(parts))  # noqa: S308 - rendered templates and escaped text


def _card(cards: dict, product) -> str:
    base = cards.get("base") or cards.setdefault("base", reverse("aisle:search"))
    card = render_to_string(
        "inventory/aisle/_card.html",
        {
            "p": product,
            "url": f"{base}{product.style_code}/",
            "price_from": product.price_from,
            "price_to": product.price_to,
            "sizes": product.size_list(),
        },
    )
    cards[product.id] = card
    return card


def _pill(here: int) -> str:
    if here:
        text = ngettext("%(n)s on the shelf here", "%(n)s on the shelf here", here)
        return format_html('<span class="pill pill-good">{}</span>', text % {"n": here})
    return format_html('<span class="pill">{}</span>', gettext("Not on the shelf here"))


@register.filter
def promise_words(reason: dict) -> str:
    """Why a promise came from where it did (`inventory.promise.explain`), as one text."""
    from inventory.promise import explain

    return " ".join(explain(reason or {}))


@register.filter
def promise_leaves(reason: dict):
    """When the promise needs the parcel to leave with the carrier (a datetime), if known."""
    import datetime as dt

    leaves = (reason or {}).get("leaves")
    return dt.datetime.fromisoformat(leaves) if leaves else None
