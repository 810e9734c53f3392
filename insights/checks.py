"""System checks for insights' settings."""

import zoneinfo

from django.conf import settings
from django.core.checks import Error, register


@register()
def reporting_settings(app_configs=None, **kwargs):
    """The reporting time zone must exist and the journey window be at least a day,
    or every figure would fail (or mean nothing)."""
    errors = []
    if settings.AISLE_REPORTING_TIME_ZONE not in zoneinfo.available_timezones():
        errors.append(
            Error(
                f"AISLE_REPORTING_TIME_ZONE {settings.AISLE_REPORTING_TIME_ZONE!r} is not a "
                "known time zone.",
                hint="Use a name such as Europe/Paris, or leave it empty for TIME_ZONE.",
                id="aisle.E101",
            )
        )
    if settings.AISLE_INSIGHTS_WINDOW_DAYS < 1:
        errors.append(
            Error(
                "AISLE_INSIGHTS_WINDOW_DAYS must be at least 1.",
                hint="Webrooming, showrooming and conversion look this many days around a "
                "purchase; 14 is the default.",
                id="aisle.E102",
            )
        )
    return errors
