"""Issue 24, "Booking from everywhere": the kiosk books an appointment for a customer
who proves their profile with a one-time code, as when reserving in their name. A
topic, a day, a free time, the code, a confirmation: booked with source kiosk and
confirmed by e-mail. Refusals (a time taken meanwhile, a wrong code, an unknown
address) write nothing; the kiosk shows first names only and forgets the customer."""

from __future__ import annotations

import datetime as dt
import re
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from clienteling.appointments import services
from clienteling.models import Appointment
from kiosk import booking
from retail.models import OutboundMessage
from tests import factories
from tests.clienteling.factories import TopicFactory, associate_at, offer

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2030, 3, 4, 8, 0, tzinfo=PARIS)  # a Monday, before opening
TEN = dt.datetime(2030, 3, 4, 10, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def morning():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def fitting(store):
    topic = offer(TopicFactory(code="fitting", name="Fitting", minutes=60), store)
    associate_at(store, first_name="Ann", last_name="Lee-Smith")
    return topic


@pytest.fixture
def mei(db):
    return factories.CustomerFactory(name="Mei Lin Chen", email="mei@example.com")


@pytest.fixture
def kiosk(kiosk_user):
    client = Client()
    client.force_login(kiosk_user)
    return client


def choose(kiosk, topic, start=TEN):
    return kiosk.post(reverse("kiosk:book_choose"), {"topic": topic.pk, "start": start.isoformat()})


def prove(kiosk, email="mei@example.com", code=None):
    sent = kiosk.post(reverse("kiosk:book_send_code"), {"email": email})
    assert sent.status_code == 200
    if code is None:
        message = OutboundMessage.objects.filter(template="kiosk_booking_code").latest("pk")
        code = message.context["code"]
    return kiosk.post(reverse("kiosk:book_prove"), {"email": email, "code": code})


def confirm(kiosk):
    page = kiosk.get(reverse("kiosk:book_confirm"))
    assert page.status_code == 200
    nonce = re.search(r'name="nonce" value="([0-9a-f]{32})"', page.content.decode()).group(1)
    return page, kiosk.post(reverse("kiosk:book_confirm"), {"nonce": nonce}), nonce


def test_a_customer_books_at_the_kiosk_and_gets_the_confirmation(
    kiosk, store, fitting, mei, django_capture_on_commit_callbacks
):
    home = kiosk.get(reverse("kiosk:home")).content.decode()
    assert reverse("kiosk:book") in home
    topics = kiosk.get(reverse("kiosk:book")).content.decode()
    assert "Fitting" in topics
    slots = kiosk.get(reverse("kiosk:book_slots"), {"topic": fitting.pk}).content.decode()
    assert f'value="{TEN.isoformat()}"' in slots and ">10:00<" in slots

    assert choose(kiosk, fitting).url == reverse("kiosk:book_who")
    with django_capture_on_commit_callbacks(execute=True):
        proven = prove(kiosk)
    assert proven.status_code == 302 and proven.url == reverse("kiosk:book_confirm")
    assert OutboundMessage.objects.get(template="kiosk_booking_code").customer == mei

    with django_capture_on_commit_callbacks(execute=True):
        page, booked, nonce = confirm(kiosk)
        again = kiosk.post(reverse("kiosk:book_confirm"), {"nonce": nonce})  # a double tap
    assert "Mei" in page.content.decode() and "Lin Chen" not in page.content.decode()
    assert "mei@example.com" not in page.content.decode()
    assert booked.url == reverse("kiosk:book_done") and again.url == reverse("kiosk:book_done")

    appointment = Appointment.objects.get()
    assert appointment.source == "kiosk" and appointment.customer == mei
    assert appointment.start == TEN and appointment.topic == fitting
    assert appointment.associate.first_name == "Ann"
    confirmation = OutboundMessage.objects.get(template="appointment_confirmation")
    assert confirmation.customer == mei and confirmation.context["code"] == appointment.code

    done = kiosk.get(reverse("kiosk:book_done")).content.decode()
    assert "Mei" in done and "Ann" in done and "10:00" in done
    assert "Lin Chen" not in done and "Lee-Smith" not in done and appointment.code not in done
    # Nothing of Mei stays for the next customer: a new booking needs a new code.
    assert not {booking.SLOT_KEY, booking.WHO_KEY} & set(kiosk.session.keys())
    choose(kiosk, fitting, TEN + dt.timedelta(hours=2))
    assert kiosk.get(reverse("kiosk:book_confirm")).url == reverse("kiosk:book_who")
    kiosk.get(reverse("kiosk:home"))
    assert booking.DONE_KEY not in kiosk.session
    assert kiosk.get(reverse("kiosk:book_done")).url == reverse("kiosk:home")


def test_a_time_taken_meanwhile_offers_the_free_times_again(kiosk, store, fitting, mei):
    choose(kiosk, fitting)
    prove(kiosk)
    rival = factories.CustomerFactory(name="Rival Customer", email="rival@example.com")
    services.appointment_book(
        appointment_ref="WEB-RIVAL", customer=rival, store=store, topic=fitting, start=TEN,
        source="api",
    )  # fmt: skip
    _page, refused, _nonce = confirm(kiosk)

    assert refused.status_code == 409
    html = refused.content.decode()
    assert "just taken" in html and reverse("kiosk:book_choose") in html
    assert f'value="{TEN.isoformat()}"' not in html  # the taken time is not offered
    assert "Rival" not in html and "rival@example.com" not in html
    assert list(Appointment.objects.values_list("appointment_ref", flat=True)) == ["WEB-RIVAL"]
    # The proof holds for a few minutes: another time goes straight to the confirmation.
    assert choose(kiosk, fitting, TEN + dt.timedelta(hours=1)).url == reverse("kiosk:book_confirm")
    # A time that is not free cannot even be chosen.
    taken = choose(kiosk, fitting)
    assert taken.status_code == 409 and "no longer free" in taken.content.decode()


def test_a_wrong_code_or_an_unknown_address_books_nothing(kiosk, store, fitting, mei):
    choose(kiosk, fitting)
    wrong = prove(kiosk, code="000000")
    unknown = prove(kiosk, email="nobody@example.com", code="123456")

    assert wrong.status_code == 400 and unknown.status_code == 400
    assert "not right" in wrong.content.decode()
    assert wrong.content.decode().count("not right") == unknown.content.decode().count("not right")
    # Nothing was sent to nobody, and no profile is proven.
    assert OutboundMessage.objects.filter(template="kiosk_booking_code").count() == 1
    assert kiosk.get(reverse("kiosk:book_confirm")).url == reverse("kiosk:book_who")
    assert not Appointment.objects.exists()


def test_a_code_sent_to_reserve_does_not_book(kiosk, store, fitting, mei):
    """Each proof is for its own purpose: the reserve flow's code is no booking's."""
    parka = factories.VariantFactory(product=factories.ProductFactory(style_code="PK-1"))
    factories.give_stock(factories.store_location(store), parka, 1)
    choose(kiosk, fitting)
    kiosk.post(reverse("kiosk:send_code", args=["PK-1"]), {"email": "mei@example.com"})
    code = OutboundMessage.objects.get(template="kiosk_code").context["code"]
    refused = kiosk.post(reverse("kiosk:book_prove"), {"email": "mei@example.com", "code": code})
    assert refused.status_code == 400 and not Appointment.objects.exists()


def test_a_kiosk_books_only_so_many_an_hour(kiosk, store, fitting, mei, settings):
    settings.AISLE_KIOSK_BOOKINGS_PER_HOUR = 1
    choose(kiosk, fitting)
    prove(kiosk)
    assert confirm(kiosk)[1].status_code == 302
    choose(kiosk, fitting, TEN + dt.timedelta(hours=1))
    prove(kiosk)
    refused = confirm(kiosk)[1]
    assert refused.status_code == 429 and "Ask an associate" in refused.content.decode()
    assert Appointment.objects.count() == 1


def test_a_store_without_topics_says_so_and_other_stores_topics_are_refused(
    kiosk, store, other_store
):
    elsewhere = offer(TopicFactory(code="styling", name="Styling"), other_store)
    page = kiosk.get(reverse("kiosk:book"))
    assert page.status_code == 200 and "does not offer appointments" in page.content.decode()
    assert kiosk.get(reverse("kiosk:book_slots"), {"topic": elsewhere.pk}).url == reverse(
        "kiosk:book"
    )
    assert choose(kiosk, elsewhere).status_code == 400
    assert not Appointment.objects.exists()


def test_only_a_kiosk_books(client, associate, fitting):
    client.force_login(associate)
    assert client.get(reverse("kiosk:book")).status_code == 403
    assert choose(client, fitting).status_code == 403


def test_the_idle_reset_forgets_the_booking(kiosk, store, fitting, mei, settings):
    from retail.sessions import LAST_SEEN_KEY

    choose(kiosk, fitting)
    prove(kiosk)
    session = kiosk.session
    session[LAST_SEEN_KEY] = time.time() - settings.AISLE_KIOSK_IDLE_SECONDS - 5
    session.save()
    after = kiosk.get(reverse("kiosk:book_confirm"))
    assert after.status_code == 302 and after.url == reverse("kiosk:home")
    # The next customer starts from the topics; Mei's proof is gone.
    assert kiosk.get(reverse("kiosk:book_confirm")).url == reverse("kiosk:book")
    choose(kiosk, fitting)
    assert kiosk.get(reverse("kiosk:book_confirm")).url == reverse("kiosk:book_who")
    assert not Appointment.objects.exists()


def test_the_free_times_take_as_many_queries_for_one_associate_or_many(
    kiosk, store, fitting, mei, django_assert_max_num_queries
):
    from clienteling.models import WorkingHours

    def staff() -> int:
        return WorkingHours.objects.values("associate").distinct().count()

    kiosk.get(reverse("kiosk:book"))  # the session and the store, once
    for size in (1, 4):
        while staff() < size:
            associate_at(store)
            services.appointment_book(
                appointment_ref=f"WEB-{staff()}", customer=mei, store=store, topic=fitting,
                start=TEN + dt.timedelta(hours=staff()), source="api",
            )  # fmt: skip
        with django_assert_max_num_queries(8):
            page = kiosk.get(reverse("kiosk:book_slots"), {"topic": fitting.pk})
        assert page.status_code == 200 and 'name="start"' in page.content.decode()
