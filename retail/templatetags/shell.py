"""The parts of every page's shell that are the same on every request: rendered in
Python, and the tablet's navigation once per language and current item (each
request would otherwise reverse nine URLs and translate nine labels)."""

from __future__ import annotations

import functools

from django import template
from django.conf import settings
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, gettext_noop, override

register = template.Library()

# (key the page passes as `nav`, URL name, label: translated when rendered)
STORE_NAV = (
    ("home", "retail:store_home", gettext_noop("Home")),
    ("customers", "retail:customer_search", gettext_noop("Customers")),
    ("aisle", "aisle:search", gettext_noop("Endless aisle")),
    ("cart", "cart:detail", gettext_noop("Cart")),
    ("sales", "clienteling:my_sales", gettext_noop("My sales")),
    ("pickups", "orders_store:queue", gettext_noop("Pickups")),
    ("returns", "returns_store:find", gettext_noop("Returns")),
    ("training", "training:path", gettext_noop("Training")),
    ("ship", "ship:queue", gettext_noop("Shipping")),
    ("counts", "counts:sheet", gettext_noop("Stock count")),
)


@functools.lru_cache(maxsize=64)
def _store_nav(language: str, current: str) -> SafeString:
    with override(language):
        links = format_html_join(
            "\n  ",
            '<a href="{}"{}>{}</a>',
            (
                (
                    reverse(name),
                    SafeString(' aria-current="page"') if key == current else "",
                    gettext(label),
                )
                for key, name, label in STORE_NAV
            ),
        )
        return format_html(
            '<nav class="mainnav" aria-label="{}">\n  {}\n</nav>', gettext("Store"), links
        )


@functools.lru_cache(maxsize=1)
def _store_nav_paths() -> tuple[tuple[str, str], ...]:
    """(path, key) of each item, longest path first."""
    paths = ((reverse(name), key) for key, name, _label in STORE_NAV)
    return tuple(sorted(paths, key=lambda item: -len(item[0])))


def _current_item(path: str) -> str:
    """The item whose page this is or lies under ("/store/" itself only for home)."""
    for prefix, key in _store_nav_paths():
        if path == prefix or (path.startswith(prefix) and key != "home"):
            return key
    return ""


@register.simple_tag(takes_context=True)
def store_nav(context, current: str = "") -> SafeString:
    """The tablet's main navigation, the current item marked: `current` (e.g.
    "pickups") when the page says, else the item the request's path lies under."""
    if not current and context.get("request") is not None:
        current = _current_item(context["request"].path)
    return _store_nav(get_language() or settings.LANGUAGE_CODE, current or "")


@register.simple_tag(takes_context=True)
def language_switch(context) -> SafeString:
    """One button per other language, posting to Django's `set_language` and back here."""
    request = context.get("request")
    if request is None:
        return SafeString("")
    current = get_language()
    buttons = []
    for code, _name in settings.LANGUAGES:
        if code != current:
            label = "中文" if code == "zh-hans" else "English"
            buttons.append((code, code, label))
    return format_html(
        '<form action="{}" method="post" class="inline language-switch">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input name="next" type="hidden" value="{}">{}</form>',
        reverse("set_language"),
        get_token(request),
        request.get_full_path(),
        format_html_join(
            "",
            '<button type="submit" name="language" value="{}" class="btn btn-quiet" lang="{}">'
            "{}</button>",
            buttons,
        ),
    )
