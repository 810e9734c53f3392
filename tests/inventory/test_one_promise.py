"""One promise everywhere: the tablet's product page, the cart, the kiosk and the
availability API show the same source and the same date for the same item and store,
each read from what the page or the answer shows; the order placed records it; and an
order whose promise changed or passed since it was shown is not placed."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from inventory.models import CarrierService
from orders.models import Order
from retail.models import StoreClosure
from tests import factories
from tests.inventory.places import place
from tests.retail.api.conftest import ApiClientHelper

pytestmark = pytest.mark.django_db

WEDNESDAY = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)  # 11:00 in Paris


@pytest.fixture
def world(store, other_store):
    """S01 in Paris holds the jumper in M; the L is at Saint-Denis (S02) and the DC."""
    place(store, "Paris")
    place(other_store, "Saint-Denis")
    CarrierService.objects.create(
        name="Hexa Fret", country="FR", service="transfer", cutoff=dt.time(18), transit_days=1
    )
    CarrierService.objects.create(
        name="Hexa Colis", country="FR", service="home", cutoff=dt.time(16), transit_days=2
    )
    shelf = factories.store_location(store, lead_time_days=0)
    saint_denis = factories.store_location(other_store, lead_time_days=0)
    dc = factories.StockLocationFactory(
        code="DC1", name="Aisle DC Roissy", country="FR", postcode="95700",
        time_zone="Europe/Paris", lead_time_days=0,
        latitude=Decimal("49.009700"), longitude=Decimal("2.547900"),
    )  # fmt: skip
    product = factories.ProductFactory(style_code="KNT-9", name="Merino jumper")
    medium = factories.VariantFactory(product=product, sku="KNT-9-M", size="M", price="60.00")
    large = factories.VariantFactory(product=product, sku="KNT-9-L", size="L", price="60.00")
    factories.give_stock(shelf, medium, 2)
    factories.give_stock(saint_denis, large, 3)
    factories.give_stock(dc, large, 4)
    _client, key = factories.api_client("availability:read")
    return {"api": ApiClientHelper(key), "store": store}


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _row_promise(html: str, sku: str) -> tuple[str, dt.datetime]:
    """The (source, ready time) a page shows for `sku`, from its markup."""
    row = re.search(rf'data-sku="{sku}".*?(?=data-sku=|</tbody>|</fieldset>)', html, re.S)
    assert row, f"{sku} is not on the page"
    source = re.search(r'data-source="([^"]+)"', row.group(0)).group(1)
    ready = re.search(r'data-ready="([^"]+)"', row.group(0)).group(1)
    return source, dt.datetime.fromisoformat(ready)


def _cart_promise(html: str) -> tuple[str, dt.datetime]:
    plan = html[html.index('id="cart-plan"') :]
    [source] = re.findall(r'<tr data-location="([^"]+)"', plan)
    ready = re.search(r'name="promised_by" value="([^"]+)"', html).group(1)
    return source, dt.datetime.fromisoformat(ready)


@pytest.mark.parametrize("sku", ["KNT-9-M", "KNT-9-L"])
def test_every_path_shows_the_same_promise_and_the_order_records_it(world, store, sku):
    associate = factories.StaffFactory(role="associate", home_store=store)
    tablet = _logged_in(associate)
    kiosk = _logged_in(factories.StaffFactory(role="kiosk", home_store=store))
    customer = factories.CustomerFactory(name="Mei Lin Chen", email="mei@example.com")
    with time_machine.travel(WEDNESDAY, tick=False):
        product_page = tablet.get(reverse("aisle:product", args=["KNT-9"])).content.decode()
        kiosk_page = kiosk.get(reverse("kiosk:aisle_product", args=["KNT-9"])).content.decode()
        answer = world["api"].get(f"/api/v1/availability/?sku={sku}&store={store.code}").json()
        tablet.post(reverse("cart:for_customer", kwargs={"pk": customer.pk}))
        tablet.post(reverse("cart:add"), {"sku": sku})
        cart_page = tablet.get(reverse("cart:detail")).content.decode()

        on_tablet = _row_promise(product_page, sku)
        on_kiosk = _row_promise(kiosk_page, sku)
        [entry] = answer["skus"]
        by_api = (
            entry["locations"][0]["location"],
            dt.datetime.fromisoformat(entry["pickup"]["ready_by"]),
        )
        in_cart = _cart_promise(cart_page)
        assert on_tablet == on_kiosk == by_api == in_cart

        source, ready = in_cart
        if sku == "KNT-9-M":  # on the shelf: picked within two hours
            assert source == store.code and ready == WEDNESDAY + dt.timedelta(hours=2)
        else:  # the DC, as soon as Saint-Denis: leaves at 18:00, received Thursday by 11:00
            assert source == "DC1" and ready == dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
            assert "the distribution centre, is as soon as any store" in cart_page
            assert "the distribution centre, is as soon as any store" in product_page

        response = tablet.post(
            reverse("cart:place"), {"tender": "card", "promised_by": ready.isoformat()}
        )
    assert response.status_code == 302
    [fulfillment] = Order.objects.get(customer=customer).fulfillments.all()
    assert fulfillment.location.code == source
    assert fulfillment.ready_by == fulfillment.promised_by == ready
    assert fulfillment.promise["source"] == source
    assert fulfillment.promise["ready_by"] == ready.isoformat()


def test_an_order_whose_promise_moved_since_it_was_shown_is_not_placed(world, store):
    associate = factories.StaffFactory(role="associate", home_store=store)
    tablet = _logged_in(associate)
    customer = factories.CustomerFactory(email="ana@example.com")
    with time_machine.travel(WEDNESDAY, tick=False):
        tablet.post(reverse("cart:for_customer", kwargs={"pk": customer.pk}))
        tablet.post(reverse("cart:add"), {"sku": "KNT-9-L"})
        _source, shown = _cart_promise(tablet.get(reverse("cart:detail")).content.decode())
        # Thursday becomes a holiday at S01 after the customer was told "Thursday".
        StoreClosure.objects.create(store=store, date=dt.date(2026, 11, 26), reason="Holiday")
        refused = tablet.post(
            reverse("cart:place"), {"tender": "card", "promised_by": shown.isoformat()}
        )
        assert refused.status_code == 400
        text = refused.content.decode()
        assert "The promise shown to the customer has changed: it is now Fri 27 Nov 11:00." in text
        assert not Order.objects.exists()
        # Placed again with the new promise shown, it goes through.
        _source, now_shown = _cart_promise(text)
        assert now_shown == dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
        placed = tablet.post(
            reverse("cart:place"), {"tender": "card", "promised_by": now_shown.isoformat()}
        )
    assert placed.status_code == 302
    assert Order.objects.get().fulfillments.get().promised_by == now_shown


def test_a_promise_already_past_is_not_placed(world, store):
    tablet = _logged_in(factories.StaffFactory(role="associate", home_store=store))
    customer = factories.CustomerFactory(email="li@example.com")
    tablet.post(reverse("cart:for_customer", kwargs={"pk": customer.pk}))
    tablet.post(reverse("cart:add"), {"sku": "KNT-9-M"})
    past = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC).isoformat()
    response = tablet.post(reverse("cart:place"), {"tender": "card", "promised_by": past})
    assert response.status_code == 400
    assert "The promise shown to the customer has changed" in response.content.decode()
    assert not Order.objects.exists()


def test_a_shelf_promise_placed_minutes_later_still_stands(world, store):
    """Picked two opening hours from now: the promise moves with the clock. Ten minutes
    later it is still the one the customer heard; half an hour later it is not."""
    tablet = _logged_in(factories.StaffFactory(role="associate", home_store=store))
    customer = factories.CustomerFactory(email="jo@example.com")
    with time_machine.travel(WEDNESDAY, tick=False):
        tablet.post(reverse("cart:for_customer", kwargs={"pk": customer.pk}))
        tablet.post(reverse("cart:add"), {"sku": "KNT-9-M"})
        _source, shown = _cart_promise(tablet.get(reverse("cart:detail")).content.decode())
    with time_machine.travel(WEDNESDAY + dt.timedelta(minutes=30), tick=False):
        late = tablet.post(
            reverse("cart:place"), {"tender": "card", "promised_by": shown.isoformat()}
        )
    assert late.status_code == 400 and not Order.objects.exists()
    with time_machine.travel(WEDNESDAY + dt.timedelta(minutes=10), tick=False):
        placed = tablet.post(
            reverse("cart:place"), {"tender": "card", "promised_by": shown.isoformat()}
        )
    assert placed.status_code == 302
    promised = Order.objects.get().fulfillments.get().promised_by
    assert promised == shown + dt.timedelta(minutes=10)
