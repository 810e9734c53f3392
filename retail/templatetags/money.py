"""`{% load money %}`: amounts with the network's currency symbol, in the reader's language.

{{ amount|money }}            -> "€1,234.50" ("€1234.50" in Chinese; "—" for none)
{{ amount|money:currency }}   -> the same in another currency's symbol (an order's own)

For a message whose context may still carry an amount as preformatted text (queued
before amounts were sent as numbers):

{% money_or amount currency total as total %}
    -> `amount` formatted, or the `total` text when there is no amount
"""

from __future__ import annotations

from django import template

from retail.money import decimal_or_none, money_text

register = template.Library()


@register.filter
def money(value, code: str | None = None) -> str:
    return money_text(value, code or None)


@register.simple_tag
def money_or(amount, code=None, fallback=""):
    """`amount` as money, or `fallback` (text) when `amount` is missing."""
    if decimal_or_none(amount) is None:
        return fallback or "—"
    return money_text(amount, code or None)
