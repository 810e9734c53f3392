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
    ("appointments", "appointments:day", gettext_noop("Appointments")),
    ("aisle", "aisle:search", gettext_noop("Endless aisle")),
    ("cart", "cart:detail", gettext_noop("Cart")),
    ("sales", "clienteling:my_sales", gettext_noop("My sales")),
    ("pickups", "orders_store:queue", gettext_noop("Pickups")),
    ("returns", "returns_store:find", gettext_noop("Returns")),
    ("training", "training:path", gettext_noop("Training")),
    ("ship", "ship:queue", gettext_noop("Shipping")),
    ("counts", "counts:sheet", gettext_noop("Stock count")),
)


# HQ's navigation, the same way (`hq_nav`).
HQ_NAV = (
    ("dashboard", "insights_hq:dashboard", gettext_noop("Dashboard")),
    ("network", "retail:hq_overview", gettext_noop("Network")),
    ("pickups", "orders_hq:pickups", gettext_noop("Pickups")),
    ("pick_lists", "ship_hq:pick_lists", gettext_noop("Pick lists")),
    ("counts", "counts_hq:differences", gettext_noop("Stock counts")),
    ("returns", "returns_hq:overview", gettext_noop("Returns")),
    ("risk", "returns_hq:risk", gettext_noop("Return risk")),
    ("sales", "clienteling_hq:sales", gettext_noop("Influenced sales")),
    ("incentives", "insights_incentives_hq:network", gettext_noop("Incentives")),
    ("journal", "journal_hq:journal", gettext_noop("Finance journal")),
    ("customers", "hq_customers:search", gettext_noop("Customers")),
    ("training", "training_hq:network", gettext_noop("Training")),
    ("audit", "audit_hq:log", gettext_noop("Audit")),
    ("admin", "admin:index", gettext_noop("Administration")),
)
#: kind -> (items, the nav's accessible name, the item that is the area's home page)
NAVS = {
    "store": (STORE_NAV, gettext_noop("Store"), "home"),
    "hq": (HQ_NAV, gettext_noop("HQ"), "dashboard"),
}


@functools.lru_cache(maxsize=128)
def _nav(kind: str, language: str, current: str) -> SafeString:
    items, name, _home = NAVS[kind]
    with override(language):
        links = format_html_join(
            "\n  ",
            '<a href="{}"{}>{}</a>',
            (
                (
                    reverse(url_name),
                    SafeString(' aria-current="page"') if key == current else "",
                    gettext(label),
                )
                for key, url_name, label in items
            ),
        )
        return format_html(
            '<nav class="mainnav" aria-label="{}">\n  {}\n</nav>', gettext(name), links
        )


@functools.lru_cache(maxsize=4)
def _nav_paths(kind: str) -> tuple[tuple[str, str], ...]:
    """(path, key) of each item, longest path first."""
    paths = ((reverse(url_name), key) for key, url_name, _label in NAVS[kind][0])
    return tuple(sorted(paths, key=lambda item: -len(item[0])))


def _current_item(path: str, kind: str = "store") -> str:
    """The item whose page this is or lies under (the area's home page itself only
    for its own item)."""
    home = NAVS[kind][2]
    for prefix, key in _nav_paths(kind):
        if path == prefix or (path.startswith(prefix) and key != home):
            return key
    return ""


def _render_nav(context, kind: str, current: str) -> SafeString:
    if not current and context.get("request") is not None:
        current = _current_item(context["request"].path, kind)
    return _nav(kind, get_language() or settings.LANGUAGE_CODE, current or "")


@register.simple_tag(takes_context=True)
def store_nav(context, current: str = "") -> SafeString:
    """The tablet's main navigation, the current item marked: `current` (e.g.
    "pickups") when the page says, else the item the request's path lies under."""
    return _render_nav(context, "store", current)


@register.simple_tag(takes_context=True)
def hq_nav(context, current: str = "") -> SafeString:
    """HQ's navigation, the current page's item marked (never "Network" everywhere)."""
    return _render_nav(context, "hq", current)


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


@register.simple_tag
def client_strings() -> SafeString:
    """The translated sentences of `static/js/aisle.js`, as a JSON data block (not a
    script: the Content-Security-Policy runs no inline code)."""
    from django.utils.html import json_script

    from retail.offline import client_strings as strings

    return json_script(strings(), "aisle-strings")
