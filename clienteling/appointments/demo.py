"""Demo appointments (called from `clienteling.demo.seed`): the topics of
`demo_topics.json` offered in every store, working hours for each store's staff
(Monday to Saturday, 10:00–18:00 with a lunch break, inside opening hours), and in
every store appointments of the last two weeks (completed, no-shows, a few cancelled)
and the next week (booked), written in bulk with fixed references so a second run
adds nothing. The demo customer Mei Lin Chen has a fitting tomorrow at the first
store, booked through the service with two items set aside on the shelf.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.db.models import F
from django.utils import timezone

from clienteling.appointments import services
from clienteling.appointments.models import (
    Appointment,
    AppointmentEvent,
    AppointmentSource,
    AppointmentState,
    Topic,
    TopicOffering,
    WorkingHours,
)
from inventory.models import StockLevel
from retail.demo import DEMO_CUSTOMER, DemoContext
from retail.hours import week_hours
from retail.models import Customer, Role, StaffProfile, Store

TOPICS = Path(__file__).with_name("demo_topics.json")
DAYS_BACK = 14
DAYS_AHEAD = 7
WORK = (dt.time(10), dt.time(18), dt.time(13), dt.time(14))
#: Demo appointments start at these store times (inside every demo store's hours).
STARTS = (dt.time(11), dt.time(15))


def seed(ctx: DemoContext) -> None:
    topics = _topics()
    stores = list(
        Store.objects.filter(is_open=True).order_by("code").prefetch_related("opening_hours")
    )
    if not stores:
        return
    TopicOffering.objects.bulk_create(
        [TopicOffering(topic=t, store=s) for t in topics for s in stores], ignore_conflicts=True
    )
    staff = _working_hours(stores)
    made = _appointments(ctx, stores, staff, topics)
    _mei(stores[0], topics)
    ctx.step(f"Appointments: {len(topics)} topics, {made:,} appointments in {len(stores)} stores")


def _topics() -> list[Topic]:
    rows = json.loads(TOPICS.read_text(encoding="utf-8"))
    for row in rows:
        Topic.objects.get_or_create(code=row["code"], defaults=row)
    return list(Topic.objects.filter(code__in=[r["code"] for r in rows]).order_by("code"))


def _working_hours(stores: list[Store]) -> dict[int, list[int]]:
    """store id → its staff's ids (home store), each working Monday to Saturday."""
    staff: dict[int, list[int]] = {s.pk: [] for s in stores}
    for user_id, store_id in (
        StaffProfile.objects.filter(
            role__in=(Role.ASSOCIATE, Role.STORE_MANAGER),
            home_store__in=stores,
            user__is_active=True,
        )
        .order_by("user_id")
        .values_list("user_id", "home_store_id")
    ):
        staff[store_id].append(user_id)
    starts, ends, b_starts, b_ends = WORK
    WorkingHours.objects.bulk_create(
        [
            WorkingHours(
                associate_id=user_id,
                store_id=store_id,
                weekday=weekday,
                starts=starts,
                ends=ends,
                break_starts=b_starts,
                break_ends=b_ends,
            )
            for store_id, ids in staff.items()
            for user_id in ids
            for weekday in range(6)
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    return staff


def _appointments(ctx, stores, staff, topics) -> int:
    rng = ctx.rng("clienteling:appointments")
    fitting = next(t for t in topics if t.code == "fitting")
    customers = list(
        Customer.objects.filter(customer_ref__isnull=False, merged_into__isnull=True)
        .exclude(customer_ref=DEMO_CUSTOMER["customer_ref"])
        .order_by("pk")
        .values_list("pk", flat=True)[:2000]
    )
    if not customers:
        return 0
    now = timezone.now()
    rows = []
    for store in stores:
        tz, opening = store.tz, week_hours(store)
        today = now.astimezone(tz).date()
        for offset in range(-DAYS_BACK, DAYS_AHEAD + 1):
            day = today + dt.timedelta(days=offset)
            span = opening.span(day)
            if span is None or day.weekday() > 5:
                continue
            # Two of the store's staff, one appointment each at each start time.
            for n, associate_id in enumerate(staff[store.pk][:2]):
                for start_time in STARTS:
                    if not (span[0] <= start_time and start_time.hour + 1 <= span[1].hour):
                        continue
                    start = dt.datetime.combine(day, start_time, tzinfo=tz)
                    end = start + dt.timedelta(minutes=fitting.minutes)
                    if end <= now:
                        draw = rng.random()
                        state = (
                            AppointmentState.COMPLETED
                            if draw < 0.75
                            else AppointmentState.NO_SHOW
                            if draw < 0.9
                            else AppointmentState.CANCELLED
                        )
                    elif start > now:
                        state = AppointmentState.BOOKED
                    else:
                        continue
                    ref = f"DEMO-{store.code}-{day:%Y%m%d}-{start_time:%H%M}-{n}"
                    rows.append(
                        Appointment(
                            appointment_ref=ref,
                            customer_id=rng.choice(customers),
                            store=store,
                            topic=fitting,
                            associate_id=associate_id,
                            start=start,
                            end=end,
                            busy_until=end + dt.timedelta(minutes=fitting.buffer_minutes),
                            state=state,
                            code="".join(rng.choice(services.CODE_ALPHABET) for _ in range(6)),
                            source=rng.choice(AppointmentSource.values),
                            fingerprint=ref,
                        )
                    )
    known = set(
        Appointment.objects.filter(appointment_ref__startswith="DEMO-").values_list(
            "appointment_ref", flat=True
        )
    )
    fresh = [a for a in rows if a.appointment_ref not in known]
    Appointment.objects.bulk_create(fresh, batch_size=2000)
    ids = list(
        Appointment.objects.filter(
            appointment_ref__in=[a.appointment_ref for a in fresh]
        ).values_list("pk", "state", "start", "associate_id")
    )
    # Booked two to six days ahead (the booking lead time the insights show).
    for lead in range(2, 7):
        Appointment.objects.filter(pk__in=[pk for pk, *_r in ids if pk % 5 == lead - 2]).update(
            created_at=F("start") - dt.timedelta(days=lead)
        )
    events = []
    for pk, state, start, _associate in ids:
        booked_at = start - dt.timedelta(days=2 + pk % 5)
        events.append(
            AppointmentEvent(
                appointment_id=pk, at=booked_at, kind="appointment_booked", to_state="booked"
            )
        )
        if state != AppointmentState.BOOKED:
            events.append(
                AppointmentEvent(
                    appointment_id=pk,
                    at=start + dt.timedelta(hours=1) if state != "cancelled" else booked_at,
                    kind=f"appointment_{state}",
                    from_state=AppointmentState.BOOKED,
                    to_state=state,
                )
            )
    AppointmentEvent.objects.bulk_create(events, batch_size=2000)
    return len(fresh)


def _mei(store: Store, topics: list[Topic]) -> None:
    """Mei's fitting tomorrow at the first store, with two items in her size set aside."""
    mei = Customer.objects.filter(customer_ref=DEMO_CUSTOMER["customer_ref"]).first()
    if mei is None or Appointment.objects.filter(appointment_ref="DEMO-MEI-FITTING").exists():
        return
    fitting = next(t for t in topics if t.code == "fitting")
    tomorrow = store.local_now().date() + dt.timedelta(days=1)
    slots = services.store_slots(store=store, topic=fitting, first_day=tomorrow, days=3)
    if not slots:
        return
    on_shelf = list(
        StockLevel.objects.filter(
            location__store=store,
            variant__size="S",
            variant__active=True,
            on_hand__gte=F("reserved") + F("safety_stock") + 2,
        )
        .order_by("variant_id")
        .select_related("variant")[:2]
    )
    try:
        services.appointment_book(
            appointment_ref="DEMO-MEI-FITTING",
            customer=mei,
            store=store,
            topic=fitting,
            start=slots[0].start,
            items=[services.SetAsideInput(level.variant) for level in on_shelf],
            note="Wedding guest outfit; likes linen.",
            source=AppointmentSource.API,
            fingerprint="DEMO-MEI-FITTING",
        )
    except services.AppointmentError:
        return  # the shelf or the slot changed meanwhile: the demo goes without
