"""Postcodes by country: whether one is well formed, so an address sourcing cannot
place is refused with a clear message instead of being promised blindly.

Countries without a pattern here accept any postcode.
"""

from __future__ import annotations

import re

PATTERNS = {
    "AT": r"\d{4}",
    "BE": r"\d{4}",
    "CY": r"\d{4}",
    "DE": r"\d{5}",
    "EE": r"\d{5}",
    "ES": r"(0[1-9]|[1-4]\d|5[0-2])\d{3}",
    "FI": r"\d{5}",
    "FR": r"\d{5}",
    "GR": r"\d{3} ?\d{2}",
    "HR": r"\d{5}",
    "IE": r"[A-Z]\d[\dW] ?[A-Z\d]{4}",
    "IT": r"\d{5}",
    "LT": r"(LT-)?\d{5}",
    "LU": r"(L-)?\d{4}",
    "LV": r"(LV-)?\d{4}",
    "MT": r"[A-Z]{3} ?\d{4}",
    "NL": r"[1-9]\d{3} ?[A-Z]{2}",
    "PT": r"\d{4}-\d{3}",
    "SI": r"\d{4}",
    "SK": r"\d{3} ?\d{2}",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
    "US": r"\d{5}(-\d{4})?",
}
_COMPILED = {country: re.compile(pattern) for country, pattern in PATTERNS.items()}


def well_formed(country: str, postcode: str) -> bool:
    """True when `postcode` has the shape of one in `country` (any, without a pattern)."""
    pattern = _COMPILED.get(country.upper())
    return pattern is None or bool(pattern.fullmatch(postcode.strip().upper()))


def example(country: str) -> str:
    return {
        "FR": "75001",
        "DE": "10117",
        "NL": "1012 JS",
        "PT": "1100-053",
        "BE": "1000",
        "IE": "D02 VF65",
        "ES": "28013",
        "IT": "20122",
        "AT": "1070",
    }.get(country.upper(), "")
