"""`{% load figures %}`: numbers as the dashboards show them, in the reader's language.
Money is `retail.money`'s (the same `money` filter as `{% load money %}`).

{{ amount|money }}      -> "€12,345.60" (the network's currency symbol, grouped)
{{ share|percent }}     -> "12.5%"
{{ count|number }}      -> "12,345"
{{ hours|hours }}       -> "3.5 h" / "3.5 小时"
"""

from __future__ import annotations

from django import template
from django.utils.translation import gettext

from retail.money import decimal_or_none, grouped
from retail.templatetags.money import money

register = template.Library()
register.filter("money", money)


@register.filter
def percent(value, places: int = 1) -> str:
    share = decimal_or_none(value)
    if share is None:
        return "—"
    return f"{grouped(share * 100, int(places))}%"


@register.filter
def number(value) -> str:
    amount = decimal_or_none(value)
    if amount is None:
        return "—"
    places = 0 if amount == amount.to_integral_value() else 1
    return grouped(amount, places)


@register.filter
def hours(value) -> str:
    amount = decimal_or_none(value)
    if amount is None:
        return "—"
    text = grouped(amount, 1)
    return gettext("%(hours)s h") % {"hours": text}
