"""The kiosk's appointment check-in screen: kiosk accounts only, first names only; the
pickup box takes an appointment's code or QR too."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from clienteling.appointments import services
from tests import factories
from tests.clienteling.factories import TopicFactory, associate_at, offer

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
START = dt.datetime(2030, 3, 4, 10, 0, tzinfo=PARIS)


@pytest.fixture
def booked(store):
    topic = offer(TopicFactory(code="fitting", name="Fitting"), store)
    associate_at(store, first_name="Ann", last_name="Lee-Smith")
    customer = factories.CustomerFactory(name="Mei Lin Chen", email="mei@example.com")
    with time_machine.travel(START - dt.timedelta(days=1), tick=False):
        appointment, _ = services.appointment_book(
            appointment_ref="WEB-A1",
            customer=customer,
            store=store,
            topic=topic,
            start=START,
            source="api",
        )
    return appointment


@pytest.mark.parametrize("box", ["kiosk:appointment_check_in", "kiosk:check_in"])
def test_the_kiosk_checks_in_an_appointment_and_shows_first_names_only(
    client, kiosk_user, booked, box
):
    with time_machine.travel(START - dt.timedelta(minutes=10), tick=False):
        client.force_login(kiosk_user)  # (an idle kiosk session would be reset)
        home = client.get(reverse("kiosk:home"))
        assert reverse("kiosk:appointment_check_in") in home.content.decode()
        response = client.post(reverse(box), {"code": services.qr_payload(booked)})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Mei" in html and "Lin Chen" not in html and "mei@example.com" not in html
    assert "Ann" in html and "Lee-Smith" not in html and "10:00" in html
    booked.refresh_from_db()
    assert booked.state == "checked_in"


def test_the_kiosk_explains_a_refusal(client, kiosk_user, booked):
    with time_machine.travel(START - dt.timedelta(hours=2), tick=False):
        client.force_login(kiosk_user)
        early = client.post(reverse("kiosk:appointment_check_in"), {"code": booked.code})
        wrong = client.post(reverse("kiosk:appointment_check_in"), {"code": "nope"})

    assert early.status_code == 409 and "check in from 09:30" in early.content.decode()
    assert wrong.status_code == 400 and "No appointment here" in wrong.content.decode()
    booked.refresh_from_db()
    assert booked.state == "booked"


def test_only_a_kiosk_checks_in(client, associate, booked):
    client.force_login(associate)
    response = client.post(reverse("kiosk:appointment_check_in"), {"code": booked.code})
    assert response.status_code == 403
