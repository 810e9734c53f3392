"""The customer's signed links without signing in (`clienteling.appointments.link_views`):
cancel, move to another free slot (`appointment_reschedule`), rate a completed visit
once; a tampered link or one used after the start is refused with a clear page and
nothing changed."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from clienteling.appointments import links, services
from clienteling.appointments.services import AppointmentError, SetAsideInput
from clienteling.models import Appointment, AppointmentEvent, SetAside
from inventory.models import StockLevel
from tests import factories
from tests.clienteling.appointment_world import (  # noqa: F401 (fixtures)
    MONDAY,
    ann_fixture,
    at,
    book,
    customer_fixture,
    monday_morning_fixture,
    topic_fixture,
)
from tests.clienteling.factories import associate_at

pytestmark = pytest.mark.usefixtures("monday_morning")


def tamper(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def manage_url(appointment, name="manage", *, tampered=False):
    token = links.token_for(appointment, links.Purpose.MANAGE)
    token = tamper(token) if tampered else token
    return reverse(f"appointment_links:{name}", kwargs={"token": token})


def rate_url(appointment, *, tampered=False):
    token = links.token_for(appointment, links.Purpose.RATE)
    token = tamper(token) if tampered else token
    return reverse("appointment_links:rate", kwargs={"token": token})


def state(appointment):
    appointment.refresh_from_db()
    return appointment.state, appointment.start, appointment.associate_id


# --- The page and cancelling ----------------------------------------------------------------


def test_the_link_shows_the_appointment_and_the_free_times_to_move_to(
    client, store, topic, customer, ann
):
    appointment = book(store, topic, customer, at(10))

    response = client.get(manage_url(appointment))

    assert response.status_code == 200
    html = response.content.decode()
    details = html[html.index('id="appointment-details"') :]
    assert "Fitting" in html and "Ann" in html and "Lee-Smith" not in html
    assert "10:00–11:00" in details[: details.index("</dl>")]  # store time, not UTC
    assert 'value="2030-03-04T11:00:00+01:00" required> 11:00–12:00' in html  # a free slot
    assert 'value="2030-03-04T10:00:00+01:00"' not in html  # its own
    assert response["Cache-Control"] == "no-store"
    assert AppointmentEvent.objects.filter(appointment=appointment).count() == 1  # GET: nothing


def test_the_customer_cancels_from_the_link_and_what_was_set_aside_goes_back(
    client, store, topic, customer, ann, assert_ledger_reconciles
):
    shelf = factories.store_location(store)
    variant = factories.VariantFactory()
    factories.give_stock(shelf, variant, 2)
    appointment = book(store, topic, customer, at(10), items=[SetAsideInput(variant, 1)])

    response = client.post(manage_url(appointment, "cancel"))

    assert response.status_code == 200 and "cancelled" in response.content.decode()
    assert state(appointment)[0] == "cancelled"
    assert SetAside.objects.get().state == "released"
    assert StockLevel.objects.get(location=shelf, variant=variant).reserved == 0
    event = appointment.events.get(kind="appointment_cancelled")
    assert event.by is None and "e-mail link" in event.reason
    assert client.post(manage_url(appointment, "cancel")).status_code == 200  # again: same
    assert appointment.events.filter(kind="appointment_cancelled").count() == 1


def test_a_tampered_link_is_refused_and_changes_nothing(client, store, topic, customer, ann):
    appointment = book(store, topic, customer, at(10))
    before = state(appointment)

    for response in (
        client.get(manage_url(appointment, tampered=True)),
        client.post(manage_url(appointment, "cancel", tampered=True)),
        client.post(manage_url(appointment, "reschedule", tampered=True), {"start": "x"}),
    ):
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    foreign = links.token_for(appointment, links.Purpose.RATE)  # another kind of link
    response = client.post(reverse("appointment_links:cancel", kwargs={"token": foreign}))
    assert response.status_code == 400
    assert state(appointment) == before


def test_the_link_is_refused_once_the_appointment_has_started(client, store, topic, customer, ann):
    appointment = book(store, topic, customer, at(10))
    before = state(appointment)

    with time_machine.travel(at(10, 5), tick=False):
        page = client.get(manage_url(appointment))
        cancel = client.post(manage_url(appointment, "cancel"))
        move = client.post(manage_url(appointment, "reschedule"), {"start": at(14).isoformat()})

    assert page.status_code == 409 and "has started" in page.content.decode()
    assert cancel.status_code == 409 and "only before it starts" in cancel.content.decode()
    assert move.status_code == 409
    assert state(appointment) == before


def test_a_post_without_the_csrf_token_is_refused(store, topic, customer, ann):
    appointment = book(store, topic, customer, at(10))
    strict = Client(enforce_csrf_checks=True)

    assert strict.post(manage_url(appointment, "cancel")).status_code == 403
    assert state(appointment)[0] == "booked"


# --- Moving ----------------------------------------------------------------------------------


def test_the_customer_moves_to_a_free_slot_and_keeps_the_associate_and_set_asides(
    client, store, topic, customer, ann, assert_ledger_reconciles
):
    shelf = factories.store_location(store)
    variant = factories.VariantFactory()
    factories.give_stock(shelf, variant, 2)
    appointment = book(store, topic, customer, at(10), items=[SetAsideInput(variant, 2)])
    tuesday = MONDAY + dt.timedelta(days=1)

    response = client.post(
        manage_url(appointment, "reschedule"), {"start": at(15, day=tuesday).isoformat()}
    )

    assert response.status_code == 200 and "is moved" in response.content.decode()
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (at(15, day=tuesday), at(16, day=tuesday))
    assert appointment.busy_until == appointment.end and appointment.associate == ann
    assert appointment.state == "booked"
    # Still set aside: nothing moved in the ledger; released at the new end only.
    assert SetAside.objects.get().state == "held"
    assert StockLevel.objects.get(location=shelf, variant=variant).reserved == 2
    with time_machine.travel(at(12), tick=False):
        assert services.appointments_release_ended() == 0
    with time_machine.travel(at(16, 1, day=tuesday), tick=False):
        assert services.appointments_release_ended() == 1
    assert StockLevel.objects.get(location=shelf, variant=variant).reserved == 0


def test_moving_to_a_slot_no_longer_free_is_refused_with_a_clear_message(
    client, store, topic, customer, ann
):
    appointment = book(store, topic, customer, at(10))
    book(store, topic, factories.CustomerFactory(), at(14), ref="WEB-A2")  # Ann's last hour free
    before = state(appointment)

    response = client.post(manage_url(appointment, "reschedule"), {"start": at(14).isoformat()})

    assert response.status_code == 409
    assert "no longer free" in response.content.decode()
    assert state(appointment) == before
    assert not appointment.events.filter(kind="appointment_rescheduled").exists()
    bad = client.post(manage_url(appointment, "reschedule"), {"start": "tomorrow"})
    assert bad.status_code == 400 and "Choose one of the free times" in bad.content.decode()


def test_a_move_goes_to_another_associate_when_its_own_is_busy_then(store, topic, customer, ann):
    appointment = book(store, topic, customer, at(10))
    book(store, topic, factories.CustomerFactory(), at(14), ref="WEB-A2")  # Ann again
    assert appointment.associate == ann
    bob = associate_at(store, first_name="Bob")

    moved = services.appointment_reschedule(appointment=appointment, start=at(14), by=None)

    assert moved.associate == bob and moved.start == at(14)


@pytest.mark.parametrize(
    ("start", "reason"),
    [(at(6), "in_the_past"), (at(10, 30), "not_a_slot_start"), (at(21), "outside_opening_hours")],
)
def test_a_move_to_a_time_that_is_not_a_slot_is_refused(store, topic, customer, ann, start, reason):
    appointment = book(store, topic, customer, at(10))
    before = state(appointment)

    with pytest.raises(AppointmentError) as refused:
        services.appointment_reschedule(appointment=appointment, start=start, by=None)

    assert (refused.value.code, refused.value.extra["reason"]) == ("slot_unavailable", reason)
    assert state(appointment) == before


# --- Rating --------------------------------------------------------------------------------


@pytest.fixture
def completed(store, topic, customer, ann):
    appointment = book(store, topic, customer, at(10))
    with time_machine.travel(at(11), tick=False):
        return services.appointment_finish(appointment=appointment, outcome="completed", by=ann)


def test_the_customer_rates_a_completed_visit_once(client, completed):
    url = rate_url(completed)
    form = client.get(url)
    assert form.status_code == 200 and 'name="rating"' in form.content.decode()

    response = client.post(url, {"rating": "4", "comment": "Ann found my size at once."})

    assert response.status_code == 200 and "Thank you" in response.content.decode()
    completed.refresh_from_db()
    assert (completed.rating, completed.rating_comment) == (4, "Ann found my size at once.")
    assert completed.rated_at is not None
    again = client.post(url, {"rating": "1", "comment": "changed my mind"})
    assert again.status_code == 409 and "rated already" in again.content.decode()
    completed.refresh_from_db()
    assert (completed.rating, completed.rating_comment) == (4, "Ann found my size at once.")
    assert completed.events.filter(kind="appointment_rated").count() == 1


@pytest.mark.parametrize("rating", ["0", "6", "", "five"])
def test_a_rating_outside_one_to_five_is_refused(client, completed, rating):
    response = client.post(rate_url(completed), {"rating": rating})

    assert response.status_code == 400 and "from 1 to 5 stars" in response.content.decode()
    completed.refresh_from_db()
    assert completed.rating is None and completed.rated_at is None


def test_a_tampered_rating_link_and_a_visit_not_completed_are_refused(
    client, completed, store, topic, customer
):
    response = client.post(rate_url(completed, tampered=True), {"rating": "5"})
    assert response.status_code == 400
    booked = book(store, topic, customer, at(15), ref="WEB-A3")
    response = client.post(rate_url(booked), {"rating": "5"})
    assert response.status_code == 409 and "took place" in response.content.decode()
    assert not Appointment.objects.filter(rating__isnull=False).exists()


def test_a_rating_link_expires(client, completed):
    url = rate_url(completed)
    with time_machine.travel(at(12) + dt.timedelta(days=links.RATE_DAYS + 1), tick=False):
        response = client.post(url, {"rating": "5"})
    assert response.status_code == 410
    completed.refresh_from_db()
    assert completed.rating is None


def test_the_rating_is_in_the_customers_export_and_its_comment_goes_with_erasure(
    client, completed, customer
):
    from clienteling.appointments import customer_rights

    client.post(rate_url(completed), {"rating": "5", "comment": "Mei was delighted"})

    [row] = customer_rights.export(customer)
    assert (row["rating"], row["rating_comment"]) == (5, "Mei was delighted")
    customer_rights.erase(customer)
    completed.refresh_from_db()
    assert (completed.customer, completed.rating, completed.rating_comment) == (None, 5, "")


# --- Moving under concurrency (PostgreSQL) -----------------------------------------------------

THREADS = 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_customers_moving_into_the_last_slot_at_once_exactly_one_gets_it(
    store, topic, customer, ann
):
    import threading

    from django.db import connections

    mine = [
        book(store, topic, customer, at(10, day=MONDAY + dt.timedelta(days=n + 1)), ref=f"M-{n}")
        for n in range(THREADS)
    ]
    target = at(10)  # Ann's, free: every customer wants it
    outcomes, errors = [], []
    barrier = threading.Barrier(THREADS)

    def move(pk):
        try:
            barrier.wait()
            services.appointment_reschedule(
                appointment=Appointment.objects.get(pk=pk), start=target, by=None
            )
            outcomes.append("moved")
        except AppointmentError as exc:
            outcomes.append(exc.code)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=move, args=(a.pk,)) for a in mine]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    assert sorted(outcomes) == ["moved"] + ["slot_unavailable"] * (THREADS - 1)
    assert Appointment.objects.filter(start=target, state="booked").count() == 1
