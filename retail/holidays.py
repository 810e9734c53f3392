"""Public holidays of the euro-area countries the demo network may have stores in.

`public_holidays(country, year)` gives the national public holidays of a country
(not the regional ones: a Land's or a region's own days are left to HQ), each with
its English name marked for translation, so a page can show a closure's reason in
the reader's language with `gettext(reason)`. The demo seeds them as store closures
(`retail.demo.seed_closures`); a country not listed here has New Year's Day and
Christmas Day only.

Easter-based days follow the Western (Gregorian) Easter; Greece and Cyprus keep the
Orthodox Easter, so their movable days are left out rather than given wrongly.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_noop

NEW_YEAR = (1, 1, gettext_noop("New Year's Day"))
EPIPHANY = (1, 6, gettext_noop("Epiphany"))
LABOUR_DAY = (5, 1, gettext_noop("Labour Day"))
ASSUMPTION = (8, 15, gettext_noop("Assumption Day"))
ALL_SAINTS = (11, 1, gettext_noop("All Saints' Day"))
IMMACULATE = (12, 8, gettext_noop("Immaculate Conception"))
CHRISTMAS_EVE = (12, 24, gettext_noop("Christmas Eve"))
CHRISTMAS = (12, 25, gettext_noop("Christmas Day"))
ST_STEPHEN = (12, 26, gettext_noop("St Stephen's Day"))

# Days counted from Easter Sunday.
GOOD_FRIDAY = (-2, gettext_noop("Good Friday"))
EASTER_MONDAY = (1, gettext_noop("Easter Monday"))
ASCENSION = (39, gettext_noop("Ascension Day"))
WHIT_MONDAY = (50, gettext_noop("Whit Monday"))
CORPUS_CHRISTI = (60, gettext_noop("Corpus Christi"))

# country -> (fixed days (month, day, name), days after Easter (offset, name)); the
# national day of each is in its fixed days.
HOLIDAYS: dict[str, tuple[tuple, tuple]] = {
    "FR": (
        (
            NEW_YEAR,
            LABOUR_DAY,
            (5, 8, gettext_noop("Victory in Europe Day")),
            (7, 14, gettext_noop("Bastille Day")),
            ASSUMPTION,
            ALL_SAINTS,
            (11, 11, gettext_noop("Armistice Day")),
            CHRISTMAS,
        ),
        (
            EASTER_MONDAY,
            ASCENSION,
            WHIT_MONDAY,
        ),
    ),
    "DE": (
        (
            NEW_YEAR,
            LABOUR_DAY,
            (10, 3, gettext_noop("German Unity Day")),
            CHRISTMAS,
            (12, 26, gettext_noop("Second Day of Christmas")),
        ),
        (
            GOOD_FRIDAY,
            EASTER_MONDAY,
            ASCENSION,
            WHIT_MONDAY,
        ),
    ),
    "NL": (
        (
            NEW_YEAR,
            (4, 27, gettext_noop("King's Day")),
            CHRISTMAS,
            (12, 26, gettext_noop("Second Day of Christmas")),
        ),
        (
            EASTER_MONDAY,
            ASCENSION,
            WHIT_MONDAY,
        ),
    ),
    "PT": (
        (
            NEW_YEAR,
            (4, 25, gettext_noop("Freedom Day")),
            LABOUR_DAY,
            (6, 10, gettext_noop("Portugal Day")),
            ASSUMPTION,
            (10, 5, gettext_noop("Republic Day")),
            ALL_SAINTS,
            (12, 1, gettext_noop("Restoration of Independence")),
            IMMACULATE,
            CHRISTMAS,
        ),
        (
            GOOD_FRIDAY,
            CORPUS_CHRISTI,
        ),
    ),
    "BE": (
        (
            NEW_YEAR,
            LABOUR_DAY,
            (7, 21, gettext_noop("Belgian National Day")),
            ASSUMPTION,
            ALL_SAINTS,
            (11, 11, gettext_noop("Armistice Day")),
            CHRISTMAS,
        ),
        (
            EASTER_MONDAY,
            ASCENSION,
            WHIT_MONDAY,
        ),
    ),
    "LU": (
        (
            NEW_YEAR,
            LABOUR_DAY,
            (5, 9, gettext_noop("Europe Day")),
            (6, 23, gettext_noop("Luxembourg National Day")),
            ASSUMPTION,
            ALL_SAINTS,
            CHRISTMAS,
            ST_STEPHEN,
        ),
        (
            EASTER_MONDAY,
            ASCENSION,
            WHIT_MONDAY,
        ),
    ),
    "IE": (
        (
            NEW_YEAR,
            (3, 17, gettext_noop("St Patrick's Day")),
            CHRISTMAS,
            ST_STEPHEN,
        ),
        (EASTER_MONDAY,),
    ),
    "ES": (
        (
            NEW_YEAR,
            EPIPHANY,
            LABOUR_DAY,
            ASSUMPTION,
            (10, 12, gettext_noop("Spain's National Day")),
            ALL_SAINTS,
            (12, 6, gettext_noop("Constitution Day")),
            IMMACULATE,
            CHRISTMAS,
        ),
        (GOOD_FRIDAY,),
    ),
    "IT": (
        (
            NEW_YEAR,
            EPIPHANY,
            (4, 25, gettext_noop("Liberation Day")),
            LABOUR_DAY,
            (6, 2, gettext_noop("Republic Day")),
            ASSUMPTION,
            ALL_SAINTS,
            IMMACULATE,
            CHRISTMAS,
            ST_STEPHEN,
        ),
        (EASTER_MONDAY,),
    ),
    "AT": (
        (
            NEW_YEAR,
            EPIPHANY,
            LABOUR_DAY,
            ASSUMPTION,
            (10, 26, gettext_noop("Austrian National Day")),
            ALL_SAINTS,
            IMMACULATE,
            CHRISTMAS,
            ST_STEPHEN,
        ),
        (
            EASTER_MONDAY,
            ASCENSION,
            WHIT_MONDAY,
            CORPUS_CHRISTI,
        ),
    ),
    "FI": (
        (
            NEW_YEAR,
            EPIPHANY,
            LABOUR_DAY,
            (12, 6, gettext_noop("Independence Day")),
            CHRISTMAS_EVE,
            CHRISTMAS,
            ST_STEPHEN,
        ),
        (
            GOOD_FRIDAY,
            EASTER_MONDAY,
            ASCENSION,
        ),
    ),
    "EE": (
        (
            NEW_YEAR,
            (2, 24, gettext_noop("Independence Day")),
            LABOUR_DAY,
            (6, 23, gettext_noop("Victory Day")),
            (6, 24, gettext_noop("Midsummer Day")),
            (8, 20, gettext_noop("Day of Restoration of Independence")),
            CHRISTMAS_EVE,
            CHRISTMAS,
            ST_STEPHEN,
        ),
        (GOOD_FRIDAY,),
    ),
    "LV": (
        (
            NEW_YEAR,
            LABOUR_DAY,
            (5, 4, gettext_noop("Restoration of Independence")),
            (6, 24, gettext_noop("Midsummer Day")),
            (11, 18, gettext_noop("Proclamation Day")),
            CHRISTMAS_EVE,
            CHRISTMAS,
            ST_STEPHEN,
            (12, 31, gettext_noop("New Year's Eve")),
        ),
        (
            GOOD_FRIDAY,
            EASTER_MONDAY,
        ),
    ),
    "LT": (
        (
            NEW_YEAR,
            (2, 16, gettext_noop("Restoration of the State Day")),
            (3, 11, gettext_noop("Restoration of Independence")),
            LABOUR_DAY,
            (6, 24, gettext_noop("Midsummer Day")),
            (7, 6, gettext_noop("Statehood Day")),
            ASSUMPTION,
            ALL_SAINTS,
            CHRISTMAS_EVE,
            CHRISTMAS,
            ST_STEPHEN,
        ),
        (EASTER_MONDAY,),
    ),
    "GR": (
        (
            NEW_YEAR,
            EPIPHANY,
            (3, 25, gettext_noop("Independence Day")),
            LABOUR_DAY,
            ASSUMPTION,
            (10, 28, gettext_noop("Ohi Day")),
            CHRISTMAS,
            (12, 26, gettext_noop("Second Day of Christmas")),
        ),
        (),
    ),
    "CY": (
        (
            NEW_YEAR,
            EPIPHANY,
            (3, 25, gettext_noop("Greek Independence Day")),
            (4, 1, gettext_noop("Cyprus National Day")),
            LABOUR_DAY,
            ASSUMPTION,
            (10, 1, gettext_noop("Independence Day")),
            (10, 28, gettext_noop("Ohi Day")),
            CHRISTMAS,
            ST_STEPHEN,
        ),
        (),
    ),
    "MT": (
        (
            NEW_YEAR,
            (3, 31, gettext_noop("Freedom Day")),
            LABOUR_DAY,
            ASSUMPTION,
            (9, 8, gettext_noop("Victory Day")),
            (9, 21, gettext_noop("Independence Day")),
            IMMACULATE,
            (12, 13, gettext_noop("Republic Day")),
            CHRISTMAS,
        ),
        (GOOD_FRIDAY,),
    ),
    "SI": (
        (
            NEW_YEAR,
            (2, 8, gettext_noop("Prešeren Day")),
            LABOUR_DAY,
            (6, 25, gettext_noop("Statehood Day")),
            ASSUMPTION,
            ALL_SAINTS,
            CHRISTMAS,
            (12, 26, gettext_noop("Independence and Unity Day")),
        ),
        (EASTER_MONDAY,),
    ),
    "HR": (
        (
            NEW_YEAR,
            EPIPHANY,
            LABOUR_DAY,
            (5, 30, gettext_noop("Statehood Day")),
            ASSUMPTION,
            ALL_SAINTS,
            CHRISTMAS,
            ST_STEPHEN,
        ),
        (
            EASTER_MONDAY,
            CORPUS_CHRISTI,
        ),
    ),
    "SK": (
        (
            NEW_YEAR,
            EPIPHANY,
            LABOUR_DAY,
            (8, 29, gettext_noop("Slovak National Uprising Day")),
            (9, 1, gettext_noop("Constitution Day")),
            ALL_SAINTS,
            CHRISTMAS_EVE,
            CHRISTMAS,
            ST_STEPHEN,
        ),
        (
            GOOD_FRIDAY,
            EASTER_MONDAY,
        ),
    ),
}


def easter_sunday(year: int) -> dt.date:
    """Western Easter Sunday (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def public_holidays(country: str, year: int) -> list[tuple[dt.date, str]]:
    """The country's national public holidays in a year, by date: (date, English name)."""
    fixed, movable = HOLIDAYS.get(country.upper(), ((NEW_YEAR, CHRISTMAS), ()))
    days = {dt.date(year, month, day): name for month, day, name in fixed}
    if country.upper() == "NL" and dt.date(year, 4, 27).weekday() == 6:
        # King's Day on a Sunday is kept on the Saturday before.
        days[dt.date(year, 4, 26)] = days.pop(dt.date(year, 4, 27))
    easter = easter_sunday(year)
    for offset, name in movable:
        days.setdefault(easter + dt.timedelta(days=offset), name)
    return sorted(days.items())
