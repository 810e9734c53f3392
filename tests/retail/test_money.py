"""Money as people read it (`retail.money`): the network's currency symbol, grouped per
language, rounded half up to the cent, a real minus sign, "—" for none; plain numbers
under a header that names the currency in CSV exports."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.formats import number_format

from orders.admin import OrderAdmin
from retail.money import currency_symbol, money_cell, money_heading, money_text

D = Decimal


@pytest.fixture(autouse=True)
def _euro(settings):
    settings.AISLE_CURRENCY = "EUR"


@pytest.mark.parametrize(
    "value, text",
    [
        (D("1234.5"), "€1,234.50"),
        (D("1234567.891"), "€1,234,567.89"),
        (D("0"), "€0.00"),
        ("59.9", "€59.90"),  # message contexts carry amounts as strings
        (12, "€12.00"),
        (D("0.005"), "€0.01"),  # half up, never to even
        (D("0.015"), "€0.02"),
        (D("2.345"), "€2.35"),
        (D("-2.345"), "−€2.35"),  # half up away from zero, either side
        (D("-30"), "−€30.00"),  # U+2212, a real minus sign
        (D("-0.001"), "€0.00"),  # no "minus nothing"
        (None, "—"),
        ("", "—"),
        ("not a number", "—"),
    ],
)
def test_money_text_in_english(value, text):
    assert money_text(value) == text


def test_money_text_in_chinese_keeps_the_symbol_and_djangos_grouping():
    with translation.override("zh-hans"):
        grouped = number_format(D("1234567.50"), 2, use_l10n=True, force_grouping=True)
        assert money_text(D("1234567.5")) == f"€{grouped}"
        # Django's zh_Hans formats: "." for decimals and no thousands separator.
        assert money_text(D("1234.5")) == "€1234.50"
        assert money_text(D("0.005")) == "€0.01"
        assert money_text(D("-1234.5")) == "−€1234.50"
        assert money_text(None) == "—"


def test_the_symbol_follows_the_network_or_the_given_currency(settings):
    assert currency_symbol() == "€"
    assert money_text(D("5"), "GBP") == "£5.00"
    assert money_text(D("5"), "CHF") == "CHF 5.00"
    assert money_text(D("5"), "SEK") == "SEK 5.00"  # no symbol: the code
    settings.AISLE_CURRENCY = "GBP"
    assert money_text(D("1234.5")) == "£1,234.50"


def test_the_template_filter_formats_in_the_active_language():
    template = Template(
        "{% load money %}{{ amount|money }}|{{ amount|money:'GBP' }}|{{ none|money }}"
    )
    context = {"amount": D("1234.5"), "none": None}
    assert template.render(Context(context)) == "€1,234.50|£1,234.50|—"
    with translation.override("zh-hans"):
        assert template.render(Context(context)) == "€1234.50|£1234.50|—"


def test_insights_figures_use_the_same_money():
    template = Template("{% load figures %}{{ amount|money }}")
    assert template.render(Context({"amount": D("-1234.5")})) == "−€1,234.50"


def test_money_or_formats_an_amount_or_keeps_text_already_formatted():
    template = Template("{% load money %}{% money_or amount currency total as total %}{{ total }}")
    assert template.render(Context({"amount": "1234.50", "currency": "EUR"})) == "€1,234.50"
    # A message queued before amounts were sent as numbers.
    assert template.render(Context({"total": "1234.50 EUR"})) == "1234.50 EUR"
    assert template.render(Context({})) == "—"


def test_csv_money_is_a_plain_number_under_a_header_naming_the_currency():
    assert money_cell(D("1234.5")) == "1234.50"
    assert money_cell(D("-30")) == "-30.00"
    assert money_cell(D("2.345")) == "2.35"
    assert money_cell(None) == ""
    assert money_heading("Total") == "Total (€)"
    assert money_heading("Total", "CHF") == "Total (CHF)"


def test_the_admin_column_shows_the_symbol_and_sorts_by_the_field():
    column = OrderAdmin.total_money

    class Row:
        total, currency = D("1234.5"), "EUR"

    assert column(None, Row()) == "€1,234.50"
    assert column.admin_order_field == "total"
    assert str(column.short_description) == "total"
