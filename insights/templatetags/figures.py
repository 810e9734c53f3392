"""`{% load figures %}`: numbers as the dashboards show them, in the reader's language.

{{ amount|money }}      -> "€12,345.60" (the network's currency symbol, grouped)
{{ share|percent }}     -> "12.5%"
{{ count|number }}      -> "12,345"
{{ hours|hours }}       -> "3.5 h" / "3.5 小时"
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext

register = template.Library()

SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CNY": "¥", "JPY": "¥", "CHF": "CHF "}


def _grouped(value: Decimal, places: int) -> str:
    """Rounded half up (Django's `number_format` cuts digits off), grouped per language."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return number_format(rounded, places, use_l10n=True, force_grouping=True)


def currency_symbol(code: str | None = None) -> str:
    code = code or settings.AISLE_CURRENCY
    return SYMBOLS.get(code, f"{code} ")


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def money_text(value, code: str | None = None) -> str:
    amount = _decimal(value)
    if amount is None:
        return "—"
    sign = "−" if amount < 0 else ""
    grouped = _grouped(abs(amount), 2)
    return f"{sign}{currency_symbol(code)}{grouped}"


@register.filter
def money(value, code: str | None = None) -> str:
    return money_text(value, code)


@register.filter
def percent(value, places: int = 1) -> str:
    share = _decimal(value)
    if share is None:
        return "—"
    return f"{_grouped(share * 100, int(places))}%"


@register.filter
def number(value) -> str:
    amount = _decimal(value)
    if amount is None:
        return "—"
    places = 0 if amount == amount.to_integral_value() else 1
    return _grouped(amount, places)


@register.filter
def hours(value) -> str:
    amount = _decimal(value)
    if amount is None:
        return "—"
    text = _grouped(amount, 1)
    return gettext("%(hours)s h") % {"hours": text}
