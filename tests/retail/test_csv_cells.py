"""CSV cells (`retail.csv_export.safe_cell`): formulas are quoted, plain numbers —
negative amounts included — stay numbers a spreadsheet can add up."""

from __future__ import annotations

from decimal import Decimal

import pytest

from retail.csv_export import safe_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (Decimal("-30.00"), "-30.00"),
        ("-7", "-7"),
        (12, "12"),
        (None, ""),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("-2+3", "'-2+3"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-", "'-"),
    ],
)
def test_formulas_are_quoted_and_plain_numbers_are_not(value, cell):
    assert safe_cell(value) == cell
