"""Validators for the core records; every message is translatable."""

import zoneinfo

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from retail.geography import configured_countries, country_served


def ean13_check_digit(first12: str) -> int:
    """The EAN-13 check digit for the first twelve digits."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def validate_ean13(value: str) -> None:
    if not (len(value) == 13 and value.isdigit()):
        raise ValidationError(_("An EAN-13 barcode is exactly 13 digits."), code="ean13_format")
    if ean13_check_digit(value[:12]) != int(value[12]):
        raise ValidationError(
            _("The barcode's check digit is wrong: %(value)s is not a valid EAN-13."),
            code="ean13_check_digit",
            params={"value": value},
        )


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a known time zone (for example Europe/Paris)."),
            code="time_zone",
            params={"value": value},
        )


def validate_country_served(value: str) -> None:
    """Refuse a country outside the network's (the currency's zone, or AISLE_COUNTRIES):
    a store or a stock location there could not sell in the network's one currency."""
    if not value or country_served(value):
        return
    if configured_countries():
        raise ValidationError(
            _(
                "%(country)s is not one of the countries Aisle serves (%(countries)s); "
                "add it to AISLE_COUNTRIES to serve it."
            ),
            code="country_not_served",
            params={"country": value, "countries": ", ".join(sorted(configured_countries()))},
        )
    raise ValidationError(
        _(
            "Aisle sells in %(currency)s: %(country)s is outside its currency zone "
            "(set AISLE_COUNTRIES to serve it)."
        ),
        code="country_not_served",
        params={"country": value, "currency": settings.AISLE_CURRENCY},
    )


def normalise_phone(raw: str, region: str | None = None) -> str:
    """Parse a phone number into E.164, or raise a ValidationError with a clear message.

    `region` is the two-letter country assumed for numbers typed without a
    country code (the store's country on the tablet).
    """
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("This does not look like a phone number. Include the country code, e.g. +44."),
            code="phone",
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("This phone number is not valid."), code="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
