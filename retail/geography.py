"""Which countries the network serves: the zone of its one currency.

The network sells in one currency (`AISLE_CURRENCY`), so its stores, stock locations
and the customers it delivers to sit in the countries that use that currency. HQ can
name the countries itself with `AISLE_COUNTRIES` (a comma-separated list of
two-letter ISO codes); that list then replaces the currency's zone, for a network
that prices in euros but also serves, say, a store across a border.

Countries are ISO 3166-1 alpha-2 codes, upper case (`XK` is the code Kosovo uses by
common agreement).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The euro: the 21 members of the euro area on 1 January 2026 (Bulgaria joined that
# day; Croatia in 2023) ...
EURO_AREA = _codes("AT BE BG CY DE EE ES FI FR GR HR IE IT LT LU LV MT NL PT SI SK")
# ... the states that use it by monetary agreement with the EU (Andorra, Monaco,
# San Marino, Vatican City) or on their own (Montenegro, Kosovo) ...
EURO_BY_AGREEMENT = _codes("AD MC SM VA")
EURO_UNILATERAL = _codes("ME XK")
# ... and the members' territories that have ISO codes of their own: Åland (FI);
# French Guiana, Guadeloupe, Martinique, Mayotte, Réunion, Saint Barthélemy,
# Saint Martin, Saint Pierre and Miquelon, the French Southern Territories (FR).
EURO_TERRITORIES = _codes("AX GF GP MQ YT RE BL MF PM TF")

CURRENCY_COUNTRIES: dict[str, frozenset[str]] = {
    "EUR": EURO_AREA | EURO_BY_AGREEMENT | EURO_UNILATERAL | EURO_TERRITORIES,
    # Sterling, with the Crown Dependencies (their own notes, at par) and South Georgia.
    "GBP": _codes("GB GG IM JE GS"),
    # The dollar, with the US territories and the states that use it as their own.
    "USD": _codes("US PR GU VI AS MP UM EC SV PA TL FM MH PW TC VG BQ IO"),
    "CHF": _codes("CH LI"),
    "SEK": _codes("SE"),
    "NOK": _codes("NO SJ BV"),
    "DKK": _codes("DK FO GL"),
    "ISK": _codes("IS"),
    "PLN": _codes("PL"),
    "CZK": _codes("CZ"),
    "HUF": _codes("HU"),
    "RON": _codes("RO"),
    "CAD": _codes("CA"),
    "AUD": _codes("AU CX CC HM KI NF NR TV"),
    "NZD": _codes("NZ CK NU PN TK"),
    "JPY": _codes("JP"),
    "CNY": _codes("CN"),
    "HKD": _codes("HK"),
    "SGD": _codes("SG"),
}


def currency_zone(currency: str | None = None) -> frozenset[str]:
    """The countries that use a currency (default: the network's); empty when unknown."""
    code = (currency or settings.AISLE_CURRENCY or "").strip().upper()
    return CURRENCY_COUNTRIES.get(code, frozenset())


def configured_countries() -> frozenset[str]:
    """The countries HQ named in `AISLE_COUNTRIES` (empty when it named none)."""
    return frozenset(
        code.strip().upper() for code in settings.AISLE_COUNTRIES or () if code.strip()
    )


def network_countries() -> frozenset[str]:
    """The countries the network serves: `AISLE_COUNTRIES` when set, else the zone of
    `AISLE_CURRENCY`. Empty when neither says (an unknown currency and no list)."""
    return configured_countries() or currency_zone()


def country_served(code: str) -> bool:
    """Whether a store, a stock location or a delivery may be in this country.

    With no countries known (a currency this module does not list and no
    `AISLE_COUNTRIES`) nothing can be judged, so every country passes; the system
    check `aisle.W018` says so.
    """
    countries = network_countries()
    return not countries or (code or "").strip().upper() in countries


def not_served_message(code: str) -> str:
    """Why an address in `code` is refused, in the active language."""
    named = configured_countries()
    if named:
        return gettext("The network does not deliver to %(country)s: it serves %(countries)s.") % {
            "country": code or "—",
            "countries": ", ".join(sorted(named)),
        }
    return gettext(
        "The network does not deliver to %(country)s: it serves the countries of its "
        "currency (%(currency)s)."
    ) % {"country": code or "—", "currency": settings.AISLE_CURRENCY}
