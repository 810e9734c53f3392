"""The associate's side of appointments (`clienteling.appointments.associate`, `hours`,
`day`, `sizes` and the tablet pages): items set aside by hand through the ledger, the
customer's arrival starting a selling session that earns the associate the credit,
completion marking bought items taken, the preparation task the day before, a
manager's hours, the day view, booking from the customer page."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from clienteling.appointments import associate as tablet
from clienteling.appointments import day as store_day
from clienteling.appointments import hours, services, sizes
from clienteling.appointments.hours import Day, HoursError
from clienteling.appointments.services import AppointmentError, SetAsideInput
from clienteling.models import (
    Appointment,
    FollowUpTask,
    SalesCredit,
    SellingSession,
    SetAside,
    WorkingException,
    WorkingHours,
)
from inventory.models import StockLevel
from tests import factories
from tests.clienteling.factories import TopicFactory, associate_at, offer, sale

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2030, 3, 4)
NOW = dt.datetime(2030, 3, 4, 7, 0, tzinfo=PARIS)  # Monday, before the store opens


def at(hour, minute=0, day=MONDAY):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _monday_morning():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def topic(store):
    return offer(TopicFactory(code="fitting", minutes=60, set_aside=True), store)


@pytest.fixture
def customer(db):
    return factories.CustomerFactory(customer_ref="WEB-C1")


@pytest.fixture
def shelf(store):
    return factories.store_location(store)


def book(store, topic, customer, start, *, ref="WEB-A1", items=()):
    appointment, _ = services.appointment_book(
        appointment_ref=ref,
        customer=customer,
        store=store,
        topic=topic,
        start=start,
        items=items,
        source="api",
        fingerprint=ref,
    )
    return appointment


def level(shelf, variant):
    return StockLevel.objects.get(location=shelf, variant=variant)


# --- Sizes ----------------------------------------------------------------------------------


def test_sizes_come_from_kept_units_and_an_exchange_for_size_shifts_them():
    when = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    lines = [
        sizes.Bought("Shirts", 1, "M", 2, at=when),
        sizes.Bought("Shirts", 2, "L", 1, at=when + dt.timedelta(days=1)),
        sizes.Bought("Shoes", 3, "42", 1, returned=1, at=when),  # returned: says nothing
        sizes.Bought("Shoes", 3, "43", 1, at=when + dt.timedelta(days=2)),  # the exchange
        sizes.Bought("Shoes", 4, "42", 1, at=when),  # kept once elsewhere
        sizes.Bought("Bags", 5, "One Size", 1, at=when),
    ]

    inferred = {s.category: s for s in sizes.infer(lines)}

    assert set(inferred) == {"Shirts", "Shoes"}
    assert (inferred["Shirts"].size, inferred["Shirts"].units, inferred["Shirts"].others) == (
        "M",
        2,
        ["L"],
    )
    # 42 was exchanged for 43 on the same product: 43 wins over the other 42 kept.
    assert inferred["Shoes"].size == "43"
    assert inferred["Shoes"].not_theirs == ["42"]


def test_a_size_tie_goes_to_the_latest_purchase():
    when = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    lines = [
        sizes.Bought("Trousers", 1, "32", 1, at=when),
        sizes.Bought("Trousers", 2, "34", 1, at=when + dt.timedelta(days=30)),
    ]
    assert [s.size for s in sizes.infer(lines)] == ["34"]


def test_sizes_are_read_from_the_customers_orders(store, customer):
    shirt = factories.VariantFactory(size="M")
    sale(customer, shirt, store=store)

    [inferred] = sizes.customer_sizes(customer)

    assert (inferred.category, inferred.size, inferred.units) == (
        shirt.product.category.name,
        "M",
        1,
    )


# --- Items set aside by hand ------------------------------------------------------------------


def test_an_item_added_by_the_associate_is_reserved_and_removed_once(
    store, topic, customer, shelf, associate, assert_ledger_reconciles
):
    associate_at(store)
    variant = factories.VariantFactory()
    factories.give_stock(shelf, variant, 3)
    appointment = book(store, topic, customer, at(10))

    row = tablet.set_aside_add(appointment=appointment, variant=variant, quantity=2, by=associate)

    assert (row.state, row.quantity) == ("held", 2)
    assert level(shelf, variant).reserved == 2
    tablet.set_aside_remove(set_aside=row, by=associate)
    tablet.set_aside_remove(set_aside=row, by=associate)  # a double tap
    assert level(shelf, variant).reserved == 0
    assert SetAside.objects.get(pk=row.pk).state == "released"
    kinds = list(appointment.events.values_list("kind", flat=True))
    assert kinds == ["appointment_booked", "set_aside_added", "set_aside_released"]
    assert_ledger_reconciles()


def test_an_item_out_of_stock_is_refused_and_nothing_is_written(
    store, topic, customer, shelf, associate
):
    associate_at(store)
    variant = factories.VariantFactory()
    factories.give_stock(shelf, variant, 1)
    appointment = book(store, topic, customer, at(10))

    with pytest.raises(AppointmentError) as refused:
        tablet.set_aside_add(appointment=appointment, variant=variant, quantity=2, by=associate)

    assert refused.value.code == "insufficient_stock"
    assert variant.sku in refused.value.detail
    assert not SetAside.objects.exists()
    assert level(shelf, variant).reserved == 0
    assert appointment.events.count() == 1


# --- Arrival, attribution, completion ---------------------------------------------------------


def test_an_order_after_the_arrival_is_credited_to_the_assigned_associate(
    store,
    topic,
    customer,
    shelf,
    associate,
    django_capture_on_commit_callbacks,
    assert_ledger_reconciles,
):
    anna = associate_at(store, first_name="Anna")
    coat, scarf = factories.VariantFactory(price=Decimal("120.00")), factories.VariantFactory()
    factories.give_stock(shelf, coat, 2)
    factories.give_stock(shelf, scarf, 2)
    appointment = book(
        store, topic, customer, at(10), items=[SetAsideInput(coat), SetAsideInput(scarf)]
    )
    assert appointment.associate == anna

    with time_machine.travel(at(9, 55), tick=False):
        tablet.appointment_arrive(appointment=appointment, by=associate)
        tablet.appointment_arrive(appointment=appointment, by=associate)  # a double tap
    session = SellingSession.objects.get()
    assert (session.associate, session.customer, session.store) == (anna, customer, store)

    with (
        time_machine.travel(at(10, 40), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        order = sale(customer, coat, store=store, ref="TILL-1")
    credit = SalesCredit.objects.get(order=order)
    assert (credit.associate, credit.amount) == (anna, Decimal("120.00"))

    with time_machine.travel(at(10, 50), tick=False):
        done = tablet.appointment_complete(appointment=appointment, by=associate)
    assert done.state == "completed"
    states = dict(SetAside.objects.values_list("variant__sku", "state"))
    assert states == {coat.sku: "taken", scarf.sku: "released"}
    assert (level(shelf, coat).reserved, level(shelf, scarf).reserved) == (0, 0)
    assert (level(shelf, coat).on_hand, level(shelf, scarf).on_hand) == (2, 2)  # 3 given, 1 sold
    assert_ledger_reconciles()


def test_arrival_and_no_show_are_refused_at_the_wrong_time(store, topic, customer, associate):
    associate_at(store)
    appointment = book(store, topic, customer, at(13))

    with pytest.raises(AppointmentError) as early:
        tablet.appointment_arrive(appointment=appointment, by=associate)
    with pytest.raises(AppointmentError) as no_show:
        tablet.appointment_no_show(appointment=appointment, by=associate)
    with pytest.raises(AppointmentError) as complete:
        tablet.appointment_complete(appointment=appointment, by=associate)

    assert (early.value.code, no_show.value.code, complete.value.code) == (
        "not_today",
        "not_started",
        "not_started",
    )
    assert Appointment.objects.get().state == "booked"
    with time_machine.travel(at(13, 15), tick=False):
        assert tablet.appointment_no_show(appointment=appointment, by=associate).state == "no_show"


# --- The preparation task ---------------------------------------------------------------------


def test_the_day_before_the_associate_gets_one_task_to_prepare(store, topic, customer):
    anna = associate_at(store)
    tomorrow = MONDAY + dt.timedelta(days=1)
    appointment = book(store, topic, customer, at(15, day=tomorrow))
    book(store, topic, customer, at(15, day=MONDAY + dt.timedelta(days=5)), ref="LATER")

    with time_machine.travel(at(10), tick=False):
        assert tablet.appointments_prepare() == 1
        assert tablet.appointments_prepare() == 0  # the next beat

    task = FollowUpTask.objects.get()
    assert (task.assigned_to, task.customer, task.store, task.due_on) == (
        anna,
        customer,
        store,
        MONDAY,
    )
    assert task.key == f"appointment_prepare:{appointment.pk}"
    assert "15:00" in task.title


# --- A manager's hours ------------------------------------------------------------------------


def test_a_manager_sets_the_week_and_bad_days_refuse_it_all(store, manager):
    ann = associate_at(store, weekdays=[0])
    good = Day(dt.time(10), dt.time(18), dt.time(13), dt.time(14))

    with pytest.raises(HoursError) as refused:
        hours.working_week_set(
            associate=ann,
            store=store,
            days={0: good, 1: Day(dt.time(18), dt.time(10)), 2: None},
            by=manager,
        )
    assert set(refused.value.errors) == {"day1"}
    assert WorkingHours.objects.get(associate=ann).starts == dt.time(9)  # unchanged

    hours.working_week_set(associate=ann, store=store, days={0: None, 2: good}, by=manager)
    assert list(WorkingHours.objects.filter(associate=ann).values_list("weekday", "starts")) == [
        (2, dt.time(10))
    ]


def test_only_a_manager_of_the_store_edits_hours(store, associate):
    ann = associate_at(store)
    with pytest.raises(HoursError):
        hours.working_week_set(associate=ann, store=store, days={0: None}, by=associate)
    assert WorkingHours.objects.filter(associate=ann).count() == 7


def test_overlapping_exceptions_are_refused(store, manager):
    ann = associate_at(store)
    first = MONDAY + dt.timedelta(days=7)
    hours.working_exception_add(
        associate=ann,
        store=store,
        kind="leave",
        starts_on=first,
        ends_on=first + dt.timedelta(days=4),
        by=manager,
    )
    with pytest.raises(HoursError) as refused:
        hours.working_exception_add(
            associate=ann,
            store=store,
            kind="training",
            starts_on=first + dt.timedelta(days=2),
            ends_on=first + dt.timedelta(days=2),
            by=manager,
        )
    assert "starts_on" in refused.value.errors
    with pytest.raises(HoursError) as backwards:
        hours.working_exception_add(
            associate=ann, store=store, kind="leave", starts_on=first, ends_on=MONDAY, by=manager
        )
    assert "ends_on" in backwards.value.errors
    assert WorkingException.objects.count() == 1


# --- The store's day --------------------------------------------------------------------------


def test_the_day_shows_each_associates_appointments_and_free_time(store, topic, customer):
    ann = associate_at(
        store, first_name="Ann", starts=(9, 0), ends=(17, 0), pause=((12, 0), (13, 0))
    )
    associate_at(store, first_name="Bob", weekdays=[1])  # not on Mondays
    book(store, topic, customer, at(10))

    rows = store_day.load(store, MONDAY)

    assert [r.associate for r in rows] == [ann]
    [row] = rows
    assert [a.start for a in row.appointments] == [at(10)]
    assert row.free == [(at(9), at(10)), (at(11), at(12)), (at(13), at(17))]


# --- Pages ------------------------------------------------------------------------------------


def test_the_preparation_page_shows_sizes_items_and_actions(
    client, store, topic, customer, shelf, associate
):
    associate_at(store)
    coat = factories.VariantFactory(size="L")
    factories.give_stock(shelf, coat, 2)
    sale(customer, coat, store=store)
    appointment = book(store, topic, customer, at(10), items=[SetAsideInput(coat)])
    client.force_login(associate)

    page = client.get(reverse("appointments:detail", args=[appointment.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-sku="{coat.sku}" data-state="held"' in html
    assert 'id="arrive"' in html
    assert f'data-category="{coat.product.category.name}"' in html
    response = client.post(reverse("appointments:complete", args=[appointment.pk]))
    assert response.status_code == 409  # not started: refused on the page
    assert "check the customer in first" in response.content.decode()


def test_the_home_panel_and_the_day_view_take_as_many_queries_for_one_or_many(
    client, store, topic, customer, django_assert_max_num_queries
):
    anna = associate_at(store)
    book(store, topic, customer, at(10))
    client.force_login(anna)
    client.get(reverse("appointments:panel"))  # the session and the store, once

    for size in (1, 4):
        while Appointment.objects.count() < size:
            n = Appointment.objects.count()
            associate_at(store)  # more associates, more rows in the day view
            book(store, topic, customer, at(11 + n), ref=f"A-{n}")
        with django_assert_max_num_queries(8):
            panel = client.get(reverse("appointments:panel"))
        with django_assert_max_num_queries(16):
            day = client.get(reverse("appointments:day"), {"date": MONDAY.isoformat()})
        assert day.content.decode().count('class="task-item" data-ref="') == size
    assert panel.content.decode().count('data-ref="') >= 1


def test_booking_from_the_customer_page(client, store, topic, customer, shelf, associate):
    associate_at(store)
    variant = factories.VariantFactory()
    factories.give_stock(shelf, variant, 1)
    client.force_login(associate)
    form = client.get(reverse("appointments:book", args=[customer.pk]))
    assert form.status_code == 200
    body = {
        "topic": topic.pk,
        "day": MONDAY.isoformat(),
        "start": at(11).isoformat(),
        "skus": variant.sku,
        "note": "Wedding in June",
        "nonce": "n1",
    }

    response = client.post(reverse("appointments:book", args=[customer.pk]), body)
    again = client.post(reverse("appointments:book", args=[customer.pk]), body)  # double tap

    appointment = Appointment.objects.get()
    assert response.status_code == again.status_code == 302
    assert (appointment.source, appointment.start, appointment.note) == (
        "tablet",
        at(11),
        "Wedding in June",
    )
    assert appointment.set_asides.get().variant == variant
    taken = client.post(
        reverse("appointments:book", args=[customer.pk]), {**body, "nonce": "n2", "skus": ""}
    )
    assert taken.status_code == 409
    assert "no longer free" in taken.content.decode()
    assert Appointment.objects.count() == 1


def test_working_hours_pages_are_for_managers_only(client, store, associate, manager):
    ann = associate_at(store)
    client.force_login(associate)
    assert client.get(reverse("appointments:hours")).status_code == 403
    client.force_login(manager)
    assert client.get(reverse("appointments:hours")).status_code == 200
    bad = client.post(
        reverse("appointments:hours_edit", args=[ann.pk]),
        {"d0_starts": "18:00", "d0_ends": "09:00"},
    )
    assert bad.status_code == 400
    assert WorkingHours.objects.get(associate=ann, weekday=0).starts == dt.time(9)


def test_a_manager_saves_a_week_and_deletes_an_exception_after_confirming(client, store, manager):
    ann = associate_at(store, weekdays=[0])
    leave = WorkingException.objects.create(
        associate=ann, kind="leave", starts_on=MONDAY, ends_on=MONDAY
    )
    client.force_login(manager)
    week = {"d1_starts": "10:00", "d1_ends": "18:00", "d1_break_starts": "13:00"}

    half = client.post(reverse("appointments:hours_edit", args=[ann.pk]), week)
    assert half.status_code == 400  # a break without its end
    week["d1_break_ends"] = "14:00"
    saved = client.post(reverse("appointments:hours_edit", args=[ann.pk]), week)
    assert saved.status_code == 302
    assert list(WorkingHours.objects.filter(associate=ann).values_list("weekday", flat=True)) == [1]

    confirm = client.get(reverse("appointments:exception_delete", args=[leave.pk]))
    assert confirm.status_code == 200
    assert WorkingException.objects.exists()  # asking deletes nothing
    client.post(reverse("appointments:exception_delete", args=[leave.pk]))
    assert not WorkingException.objects.exists()


def test_the_day_view_navigates_and_says_when_nobody_works(client, store, associate):
    client.force_login(associate)

    page = client.get(reverse("appointments:day"), {"date": "2030-03-10"})
    bad = client.get(reverse("appointments:day"), {"date": "10/03/2030"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "?date=2030-03-09" in html and "?date=2030-03-11" in html
    assert "Nobody works here that day" in html
    assert bad.status_code == 400


def test_appointments_the_new_hours_no_longer_cover_are_listed(store, topic, customer, manager):
    ann = associate_at(store, pause=((13, 0), (14, 0)))
    morning = book(store, topic, customer, at(10), ref="A-1")
    afternoon = book(store, topic, customer, at(15), ref="A-2")
    assert hours.appointments_outside_hours(ann, store) == []

    hours.working_week_set(
        associate=ann, store=store, days={0: Day(dt.time(9), dt.time(14))}, by=manager
    )
    assert hours.appointments_outside_hours(ann, store) == [afternoon]
    WorkingException.objects.create(
        associate=ann,
        kind="training",
        starts_on=MONDAY,
        ends_on=MONDAY,
        starts=dt.time(9, 30),
        ends=dt.time(10, 30),
    )
    assert hours.appointments_outside_hours(ann, store) == [morning, afternoon]


def test_the_preparation_task_follows_a_reassignment_and_ends_with_a_cancellation(
    store, topic, customer, manager, django_capture_on_commit_callbacks
):
    anna = associate_at(store)
    appointment = book(store, topic, customer, at(15, day=MONDAY + dt.timedelta(days=1)))
    ben = associate_at(store)
    with time_machine.travel(at(10), tick=False):
        tablet.appointments_prepare()
    assert FollowUpTask.objects.get().assigned_to == anna

    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_reassign(appointment=appointment, associate=ben, by=manager)
    assert FollowUpTask.objects.get().assigned_to == ben

    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_cancel(appointment=appointment, by=None)
    assert FollowUpTask.objects.get().state == "done"


def test_on_the_page_an_item_out_of_stock_is_refused_and_a_manager_reassigns(
    client, store, topic, customer, shelf, associate, manager
):
    associate_at(store)
    variant = factories.VariantFactory()
    factories.give_stock(shelf, variant, 1)
    appointment = book(store, topic, customer, at(10))
    client.force_login(associate)
    url = reverse("appointments:set_aside_add", args=[appointment.pk])

    short = client.post(url, {"sku": variant.sku, "quantity": 2})
    unknown = client.post(url, {"sku": "NO-SUCH-SKU", "quantity": 1})
    added = client.post(url, {"sku": variant.sku, "quantity": 1})

    assert short.status_code == 409
    assert "Not enough units" in short.content.decode()
    assert unknown.status_code == 400
    assert added.status_code == 302
    assert level(shelf, variant).reserved == 1
    page = client.get(reverse("appointments:detail", args=[appointment.pk]))
    assert 'id="reassign-form"' not in page.content.decode()  # associates do not reassign

    ben = associate_at(store, first_name="Ben")
    client.force_login(manager)
    page = client.get(reverse("appointments:detail", args=[appointment.pk]))
    assert f'<option value="{ben.pk}">' in page.content.decode()
    reassigned = client.post(
        reverse("appointments:reassign", args=[appointment.pk]), {"associate": ben.pk}
    )
    assert reassigned.status_code == 302
    assert Appointment.objects.get().associate == ben
