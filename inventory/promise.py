"""When a parcel can reach a customer or a store, and why a source was chosen, in words.

Every promise Aisle makes (the tablet's product page and cart, the kiosk, the
availability API, the order placed) comes from `inventory.sourcing.plan_sourcing`,
and every date in it from the journey worked out here:

- A location readies a parcel first: a store picks it within its opening hours
  (closures included); a DC or a supplier after its handling working days
  (`StockLocation.lead_time_days`).
- The parcel leaves on a working day (Monday to Friday) if it is ready by its
  carrier's cut-off in the sender's local time, else on the next working day.
  The carrier is the sending country's active `CarrierService` for the service
  (home delivery, or transfer to a store); without one, `DEFAULT_CARRIER`.
- It travels the carrier's transit working days, plus its cross-border days when
  the destination is in another country.
- A transfer is ready for pickup once received at the store (`RECEIVE_TIME`,
  within that store's opening hours); a home delivery arrives on its day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inventory.models import CarrierService, StockLocation
from inventory.network import carriers
from retail.dates import when_text
from retail.hours import ready_moment
from retail.models import Store

WORKING_DAYS = frozenset(range(5))  # Monday to Friday
# Time to pick a pickup order from the shelf, and to receive a transfer, in opening hours.
PICK_TIME = dt.timedelta(hours=2)
RECEIVE_TIME = dt.timedelta(hours=2)
# A home delivery's promise is its day; the order records the end of the carrier's round.
DELIVERED_BY = dt.time(18, 0)


@dataclass(frozen=True)
class Carrier:
    name: str
    cutoff: dt.time
    transit_days: int
    cross_border_days: int


DEFAULT_CARRIER = Carrier("", dt.time(16, 0), 2, 2)


def carrier_for(country: str, service: str, known: dict | None = None) -> Carrier:
    """The active carrier service from `country` (`known`: the network's carriers, read
    once by the caller; else read here)."""
    found = (carriers() if known is None else known).get((country, service))
    if found is None:
        return DEFAULT_CARRIER
    return Carrier(found.name, found.cutoff, found.transit_days, found.cross_border_days)


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The working day `count` working days after `day`."""
    while count > 0:
        day += dt.timedelta(days=1)
        if day.weekday() in WORKING_DAYS:
            count -= 1
    return day


@dataclass(frozen=True)
class Leg:
    """One parcel's journey from a location."""

    leaves: dt.datetime  # when the carrier collects it (aware)
    arrives: dt.date  # the working day it is delivered
    carrier: str
    transit_days: int  # working days on the way, border days included
    border: bool


def parcel_leg(
    source: StockLocation,
    *,
    service: str,
    to_country: str,
    now: dt.datetime,
    hours,
    known: dict | None = None,
) -> Leg | None:
    """The journey of a parcel readied at `source` from `now` on; None when the source
    cannot ready it in the next two weeks (a store closed that long)."""
    tz = source.tz
    start = now
    if source.lead_time_days:
        first_day = add_working_days(now.astimezone(tz).date(), source.lead_time_days)
        start = dt.datetime.combine(first_day, dt.time(0), tzinfo=tz)
    if source.store_id:
        ready = ready_moment(source.store, start, PICK_TIME, hours.get(source.store_id, {}))
        if ready is None:
            return None
    else:
        ready = start
    carrier = carrier_for(source.country, service, known)
    local = ready.astimezone(tz)
    day = local.date()
    if day.weekday() not in WORKING_DAYS or local.time() > carrier.cutoff:
        day = add_working_days(day, 1)
    border = bool(to_country and source.country) and source.country != to_country
    transit = carrier.transit_days + (carrier.cross_border_days if border else 0)
    return Leg(
        leaves=dt.datetime.combine(day, carrier.cutoff, tzinfo=tz),
        arrives=add_working_days(day, transit),
        carrier=carrier.name,
        transit_days=transit,
        border=border,
    )


def transfer_ready(
    source: StockLocation, store: Store, *, now: dt.datetime, hours, known: dict | None = None
) -> tuple[dt.datetime | None, Leg | None]:
    """When units sent from `source` are ready for pickup at `store`, and their journey."""
    leg = parcel_leg(
        source,
        service=CarrierService.Service.TRANSFER,
        to_country=store.country,
        now=now,
        hours=hours,
        known=known,
    )
    if leg is None:
        return None, None
    arrival = max(dt.datetime.combine(leg.arrives, dt.time(0), tzinfo=store.tz), leg.leaves)
    return ready_moment(store, arrival, RECEIVE_TIME, hours.get(store.pk, {})), leg


def shelf_ready(store: Store, *, now: dt.datetime, hours) -> dt.datetime | None:
    """When units on the store's own shelf are picked and ready for pickup."""
    return ready_moment(store, now, PICK_TIME, hours.get(store.pk, {}))


def home_leg(
    source: StockLocation, *, country: str, now: dt.datetime, hours, known: dict | None = None
) -> Leg | None:
    return parcel_leg(
        source,
        service=CarrierService.Service.HOME,
        to_country=country,
        now=now,
        hours=hours,
        known=known,
    )


def delivered_by(source: StockLocation, leg: Leg) -> dt.datetime:
    """The moment a home delivery is promised for: the end of its day's round."""
    return dt.datetime.combine(leg.arrives, DELIVERED_BY, tzinfo=source.tz)


# --- Why this source, in words ------------------------------------------------------


class Why:
    SHELF = "shelf"  # on the pickup store's own shelf
    CARRY_OUT = "carry_out"  # taken from the shelf now
    ONLY = "only"  # the only location in the country with stock
    SOONEST = "soonest"  # sooner than every other location with stock
    DC = "dc"  # as soon as a store: the DC keeps store shelves for walk-in customers
    NEAREST = "nearest"  # as soon as the others, and nearest
    SPLIT = "split"  # no single location has it all: fewest parcels
    ABROAD = "abroad"  # nothing in the country: sent across a border
    DROP_SHIP = "drop_ship"  # only a supplier has it


def reason(
    *,
    why: str,
    location: StockLocation,
    ready_by: dt.datetime | None,
    leg: Leg | None = None,
    km: float | None = None,
    same_area: bool = False,
    to_country: str = "",
    units: int = 0,
    closed: list[dt.date] | None = None,
) -> dict:
    """A promise's reason as plain data (kept on the order, rendered in any language)."""
    return {
        "why": why,
        "source": location.code,
        "name": location.name,
        "kind": location.kind,
        "from_country": location.country,
        "to_country": to_country,
        "km": None if km is None else round(km, 1),
        "same_area": same_area,
        "carrier": leg.carrier if leg else "",
        "leaves": leg.leaves.isoformat() if leg else None,
        "transit_days": leg.transit_days if leg else 0,
        "border": bool(leg and leg.border),
        "ready_by": ready_by.isoformat() if ready_by else None,
        "units": units,
        "closed": [day.isoformat() for day in closed or ()],
    }


def explain(data: dict) -> list[str]:
    """The reason as sentences for the associate, in the active language."""
    if not data:
        return []
    source = f"{data['source']} {data['name']}"
    why = data.get("why")
    sentences = []
    if why == Why.SHELF:
        sentences.append(_("On this store's shelf: picked and ready within opening hours."))
    elif why == Why.CARRY_OUT:
        sentences.append(_("On this store's shelf: the customer takes it now."))
    elif why == Why.ONLY:
        sentences.append(
            _("%(source)s is the only location in the country with stock.") % {"source": source}
        )
    elif why == Why.SOONEST:
        sentences.append(
            _("%(source)s is the soonest of the locations with stock.") % {"source": source}
        )
    elif why == Why.DC:
        sentences.append(
            _(
                "%(source)s, the distribution centre, is as soon as any store, and store "
                "shelves keep their stock for customers who walk in."
            )
            % {"source": source}
        )
    elif why == Why.NEAREST:
        sentences.append(
            _("%(source)s is as soon as the others and the nearest.") % {"source": source}
        )
    elif why == Why.SPLIT:
        sentences.append(
            ngettext(
                "No single location has everything: %(source)s sends %(units)s unit, "
                "the most any one parcel can take.",
                "No single location has everything: %(source)s sends %(units)s units, "
                "the most any one parcel can take.",
                data.get("units") or 0,
            )
            % {"source": source, "units": data.get("units") or 0}
        )
    elif why == Why.ABROAD:
        sentences.append(
            _("Not in stock in %(country)s: %(source)s sends it from %(from)s.")
            % {
                "country": data.get("to_country"),
                "source": source,
                "from": data.get("from_country"),
            }
        )
    elif why == Why.DROP_SHIP:
        sentences.append(
            _("Only the supplier %(source)s has it: it ships straight to the customer.")
            % {"source": source}
        )
    if data.get("km") is not None:
        sentences.append(_("%(km)s km away.") % {"km": data["km"]})
    elif data.get("same_area"):
        sentences.append(_("In the same postcode area as the address."))
    if data.get("leaves"):
        leaves = when_text(dt.datetime.fromisoformat(data["leaves"]), "day_time")
        carrier = data.get("carrier") or _("the standard carrier")
        sentences.append(
            ngettext(
                "Leaves %(leaves)s with %(carrier)s, %(days)s working day on the way.",
                "Leaves %(leaves)s with %(carrier)s, %(days)s working days on the way.",
                data.get("transit_days") or 0,
            )
            % {"leaves": leaves, "carrier": carrier, "days": data.get("transit_days") or 0}
        )
        if data.get("border"):
            sentences.append(_("It crosses a border, which adds days."))
    for day in data.get("closed") or ():
        closed_on = when_text(dt.date.fromisoformat(day), "weekday")
        sentences.append(_("The store is closed on %(day)s.") % {"day": closed_on})
    return sentences
