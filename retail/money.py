"""Money as people read it: the network's currency symbol and the reader's grouping.

    money_text(Decimal("1234.5"))          -> "€1,234.50" (English), "€1234.50" (Chinese:
                                              Django's zh_Hans formats group nothing)
    money_text(Decimal("-30"))             -> "−€30.00" (a real minus sign)
    money_text(None)                       -> "—"
    money_heading(_("Total"))              -> "Total (€)" / "合计 (€)"

Amounts are rounded half up to the cent (Django's `number_format` would cut digits
off) and formatted in the active language, so a page shows them in the reader's
language and a message in its recipient's (`retail.messaging` renders inside the
customer's language). Templates use `{% load money %}` and `{{ amount|money }}`;
the admin uses `money_column` for its list columns.

CSV exports keep amounts machine-readable (`money_cell`: "1234.50", so a spreadsheet
sums them) and name the currency in the column's header instead (`money_heading`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext

#: The symbol each currency code is shown with; any other code is shown as "XYZ 1.00".
SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CNY": "¥", "JPY": "¥", "CHF": "CHF "}

CENT = Decimal("0.01")


def grouped(value: Decimal, places: int) -> str:
    """`value` rounded half up to `places` decimals, grouped per the active language."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return number_format(rounded, places, use_l10n=True, force_grouping=True)


def decimal_or_none(value) -> Decimal | None:
    """A Decimal from a number or a numeric string; None for None, "" or anything else."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def currency_symbol(code: str | None = None) -> str:
    """The symbol of `code` (the network's currency by default), as money_text puts it
    before the amount ("€", "CHF ", or "XYZ " for a code without a symbol)."""
    code = code or settings.AISLE_CURRENCY
    return SYMBOLS.get(code, f"{code} ")


def money_text(value, code: str | None = None) -> str:
    """`value` (a Decimal, number or numeric string) with the currency's symbol, rounded
    half up to the cent and grouped per the active language; "—" when there is none."""
    amount = decimal_or_none(value)
    if amount is None:
        return "—"
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "−" if cents < 0 else ""
    return f"{sign}{currency_symbol(code)}{grouped(abs(cents), 2)}"


def money_heading(label, code: str | None = None) -> str:
    """A money column's header in a CSV export: the label with the currency, e.g.
    "Total (€)", in the active language."""
    return gettext("%(label)s (%(currency)s)") % {
        "label": label,
        "currency": currency_symbol(code).strip(),
    }


def money_cell(value) -> str:
    """A money cell in a CSV export: a plain number with two decimals ("1234.50",
    "-30.00"), rounded half up; empty when there is none."""
    amount = decimal_or_none(value)
    if amount is None:
        return ""
    return f"{amount.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"


def money_column(model, field: str, *, currency_field: str | None = None):
    """An admin `list_display` column showing `model`'s `field` with the currency symbol
    ("€59.90", in the reader's language), headed by the field's own name and sortable
    by it. `currency_field` names the row's own currency, when it keeps one:

        class OrderAdmin(admin.ModelAdmin):
            total_money = money_column(Order, "total", currency_field="currency")
            list_display = (..., "total_money")
    """
    from django.contrib import admin  # only where the admin is built, never at import

    @admin.display(description=model._meta.get_field(field).verbose_name, ordering=field)
    def column(self, obj) -> str:
        code = getattr(obj, currency_field, None) if currency_field else None
        return money_text(getattr(obj, field), code or None)

    column.__name__ = f"{field}_money"
    return column
