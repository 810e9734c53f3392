"""Appointments, the associate arrives prepared (issue 24, Done when 1), in a real
browser at 1024×768.

A customer books a fitting through the API with two items to set aside; the
associate's home shows it; the preparation page shows the customer's journey, sizes
and the items reserved (ledger rows); the customer checks in at the store's kiosk with
the code from the confirmation, which tells the associate and starts their selling
session; they buy one of the items at the till and the associate completes the appointment:
the sale is credited to them, the bought item is marked taken and the other goes back
to the shelf. The store opens round the clock in a time zone where it is daytime, so
the first free slot is always today, whenever the test runs."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from clienteling.models import Appointment, SalesCredit, SellingSession, SetAside
from inventory.models import MovementKind, StockMovement
from retail.models import OpeningHours
from tests import factories
from tests.browser.steps import sign_in
from tests.clienteling.factories import BrowsingEventFactory, TopicFactory, offer, sale, works

pytestmark = pytest.mark.browser

ZONES = (
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Europe/Paris",
    "America/Sao_Paulo",
    "America/New_York",
    "America/Los_Angeles",
    "Pacific/Honolulu",
)


def _daytime_zone() -> str:
    """The zone where it is closest to 10:00 now (the day's slots lie ahead)."""
    now = timezone.now()
    return min(ZONES, key=lambda z: abs(now.astimezone(ZoneInfo(z)).hour + 0.5 - 10))


@pytest.fixture
def world(live_server):
    store = factories.StoreFactory(
        code="S01", name="Paris Rivoli", time_zone=_daytime_zone(), hours=False
    )
    for weekday in range(7):
        OpeningHours.objects.create(
            store=store, weekday=weekday, opens=dt.time(0), closes=dt.time(23, 59)
        )
    shelf = factories.store_location(store)
    jacket = factories.VariantFactory(
        sku="JACKET-M", size="M", price=Decimal("180.00"), product__name="Waxed cotton jacket"
    )
    shirt = factories.VariantFactory(
        sku="SHIRT-LINEN-M", size="M", price=Decimal("59.00"), product__name="Linen shirt"
    )
    factories.give_stock(shelf, jacket, 3)
    factories.give_stock(shelf, shirt, 3)
    customer = factories.CustomerFactory(
        customer_ref="WEB-MEI", name="Mei Lin Chen", tracking_consent=True
    )
    kept = factories.VariantFactory(size="M", product__category=shirt.product.category)
    sale(customer, kept, store=store, when=timezone.now() - dt.timedelta(days=40))
    for _ in range(3):
        BrowsingEventFactory(customer=customer, variant=jacket)
    associate = factories.StaffFactory(
        role="associate", home_store=store, email="sam@test.aisle", first_name="Sam"
    )
    works(associate, store, starts=(0, 0), ends=(23, 59))
    factories.StaffFactory(role="kiosk", home_store=store, email="kiosk@test.aisle")
    topic = offer(TopicFactory(code="fitting", name="Fitting", minutes=30), store)
    _client, key = factories.api_client(
        "appointments:read", "appointments:write", "orders:write", channels=["store", "web"]
    )
    return {
        "store": store,
        "shelf": shelf,
        "jacket": jacket,
        "shirt": shirt,
        "customer": customer,
        "associate": associate,
        "topic": topic,
        "api": Client(HTTP_AUTHORIZATION=f"Token {key}"),
    }


def _book_first_slot(world) -> dict:
    api, store = world["api"], world["store"]
    today = store.local_now().date()
    slots = api.get(
        "/api/v1/appointments/slots/",
        {"store": "S01", "topic": "fitting", "from": today.isoformat(), "days": 2},
    )
    assert slots.status_code == 200, slots.content
    start = slots.json()["slots"][0]["start"]
    body = {
        "appointment_ref": "WEB-APPT-1",
        "customer_ref": "WEB-MEI",
        "store": "S01",
        "topic": "fitting",
        "start": start,
        "skus": ["JACKET-M", "SHIRT-LINEN-M"],
        "note": "Wedding guest outfit",
    }
    booked = api.post("/api/v1/appointments/", json.dumps(body), content_type="application/json")
    assert booked.status_code == 201, booked.content
    return booked.json()


def _till_sale(world) -> None:
    jacket = world["jacket"]
    body = {
        "order_ref": "TILL-APPT-1",
        "channel": "store",
        "customer_ref": "WEB-MEI",
        "lines": [{"sku": jacket.sku, "quantity": 1, "unit_price": "180.00"}],
        "fulfillment": {"method": "carry_out", "store": "S01"},
        "payment": {"tender": "card", "amount": "180.00", "reference": "psp-till-1"},
    }
    placed = world["api"].post("/api/v1/orders/", json.dumps(body), content_type="application/json")
    assert placed.status_code == 201, placed.content


def test_the_associate_arrives_prepared_and_the_visit_is_credited_to_them(
    page: Page, new_page, shot, world
):
    booked = _book_first_slot(world)
    appointment = Appointment.objects.get(appointment_ref=booked["appointment_ref"])
    assert appointment.associate == world["associate"]
    reservations = StockMovement.objects.filter(
        kind=MovementKind.RESERVATION, source__startswith=f"appointment:{appointment.pk}:"
    )
    assert sorted(reservations.values_list("variant__sku", flat=True)) == [
        "JACKET-M",
        "SHIRT-LINEN-M",
    ]

    sign_in(page, "sam@test.aisle", lands="/store/")
    panel = page.locator("#appointments-panel")
    expect(panel).to_contain_text("Mei Lin Chen")
    expect(panel).to_contain_text("Fitting")
    shot(page, "home-with-appointment")

    panel.get_by_role("link", name="Prepare").click()
    expect(page.locator("#journey #viewed")).to_contain_text("Waxed cotton jacket")
    expect(page.locator("#sizes")).to_contain_text("M")
    held = page.locator('#set-asides [data-state="held"]')
    expect(held).to_have_count(2)
    expect(page.locator("#set-asides")).to_contain_text("JACKET-M")
    expect(page.locator("#set-asides")).to_contain_text("SHIRT-LINEN-M")
    shot(page, "preparation")

    # The customer checks in at the kiosk with the code from the confirmation e-mail
    # (the first slot starts within half an hour: check-in is open).
    kiosk = new_page()
    sign_in(kiosk, "kiosk@test.aisle", lands="/kiosk/")
    kiosk.locator("#kiosk-appointment-code").fill(booked["code"])
    kiosk.locator("#appointment-check-in").get_by_role("button", name="Check in").click()
    welcome = kiosk.locator("#appointment-checked-in")
    expect(welcome).to_contain_text("Welcome, Mei!")
    expect(welcome).to_contain_text("Sam knows you are here")
    expect(welcome).not_to_contain_text("Lin Chen")
    shot(kiosk, "kiosk-checked-in")
    appointment.refresh_from_db()
    assert appointment.state == "checked_in" and appointment.checked_in_at is not None
    session = SellingSession.objects.get()
    assert (session.associate, session.customer) == (world["associate"], world["customer"])

    page.reload()
    expect(page.locator("#appointment-state")).to_have_attribute("data-state", "checked_in")
    shot(page, "checked-in")

    _till_sale(world)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Complete").click()
    expect(page.locator("#appointment-state")).to_have_attribute("data-state", "completed")
    expect(page.locator('#set-asides [data-sku="JACKET-M"]')).to_have_attribute(
        "data-state", "taken"
    )
    shot(page, "completed")

    credit = SalesCredit.objects.get(order__order_ref="TILL-APPT-1")
    assert (credit.associate, credit.amount) == (world["associate"], Decimal("180.00"))
    assert dict(SetAside.objects.values_list("variant__sku", "state")) == {
        "JACKET-M": "taken",
        "SHIRT-LINEN-M": "released",
    }
    assert [level.reserved for level in world["shelf"].levels.order_by("variant__sku")] == [0, 0, 0]
