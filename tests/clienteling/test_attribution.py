"""Cross-channel attribution: an online order within the window credits the
associates who served the customer (last touch 60 %, the others 40 %), nobody
outside it; a redelivered event credits nothing twice; reversals lower the credit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from clienteling import attribution
from clienteling.models import ClientelingSettings, SalesCredit, SellingSession
from clienteling.services import note_add
from orders.models import Order
from orders.services import LineInput, OrderInput, order_cancel, order_place
from retail.models import AuditLog
from tests import factories

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
_deliver = None


@pytest.fixture
def world(store, other_store):
    dc = factories.StockLocationFactory(code="DC1")
    variant = factories.VariantFactory(price=Decimal("100.00"))
    factories.give_stock(dc, variant, 50)
    return {
        "variant": variant,
        "customer": factories.CustomerFactory(customer_ref="WEB-1", preferred_store=store),
        "anna": factories.StaffFactory(role="associate", home_store=store, first_name="Anna"),
        "ben": factories.StaffFactory(role="associate", home_store=other_store, first_name="Ben"),
    }


@pytest.fixture(autouse=True)
def _events_delivered(django_capture_on_commit_callbacks):
    """Domain events are published after commit: run them as a worker would."""
    global _deliver
    _deliver = django_capture_on_commit_callbacks
    yield


def online_order(world, ref="W-1", quantity=1) -> Order:
    """An order of the online channel through `POST /api/v1/orders/`; its
    `order_placed` event is delivered as a worker would."""
    variant = world["variant"]
    _client, key = factories.api_client("orders:write")
    total = f"{variant.price * quantity:.2f}"
    body = {
        "order_ref": ref,
        "channel": "web",
        "customer_ref": world["customer"].customer_ref,
        "lines": [{"sku": variant.sku, "quantity": quantity, "unit_price": f"{variant.price}"}],
        "fulfillment": {
            "method": "ship",
            "address": {
                "name": "Mei",
                "line1": "Oranienstraße 1",
                "city": "Berlin",
                "postcode": "10997",
                "country": "DE",
            },
        },
        "payment": {"tender": "card", "amount": total, "reference": f"psp-{ref}"},
    }
    with _deliver(execute=True):
        response = Client().post(
            "/api/v1/orders/",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
        )
    assert response.status_code == 201, response.content
    return Order.objects.get(order_ref=ref)


def credits(order) -> dict[str, tuple[Decimal, Decimal]]:
    return {
        c.associate.first_name: (c.share, c.amount)
        for c in SalesCredit.objects.filter(order=order).select_related("associate")
    }


def test_an_online_order_in_the_window_credits_the_associate_who_served(world, store):
    with time_machine.travel(START, tick=False):
        note_add(
            customer=world["customer"], text="Likes waxed cotton", by=world["anna"], store=store
        )
    with time_machine.travel(START + dt.timedelta(days=5), tick=False):
        order = online_order(world)
    assert credits(order) == {"Anna": (Decimal("100"), Decimal("100.00"))}
    credit = SalesCredit.objects.get(order=order)
    assert (credit.channel, credit.store) == ("web", store)
    assert credit.reason == "served on 2 Nov in S01: note"


def test_outside_the_window_or_unserved_credits_nobody(world, store):
    ClientelingSettings.objects.create(attribution_days=14)
    with time_machine.travel(START, tick=False):
        note_add(customer=world["customer"], text="Browsing coats", by=world["anna"], store=store)
    with time_machine.travel(START + dt.timedelta(days=15), tick=False):
        late = online_order(world, "W-LATE")
    assert credits(late) == {}
    stranger = factories.CustomerFactory()
    world_other = {**world, "customer": stranger}
    with time_machine.travel(START + dt.timedelta(days=1), tick=False):
        unserved = online_order(world_other, "W-NOBODY")
    assert credits(unserved) == {}


def test_viewing_the_profile_alone_does_not_count(world, store):
    client = Client()
    client.force_login(world["anna"])
    client.get(reverse("retail:customer_detail", args=[world["customer"].pk]))
    assert AuditLog.objects.filter(action="customer.view").exists()
    assert not SellingSession.objects.exists()
    assert credits(online_order(world)) == {}


def test_two_associates_split_last_touch_sixty_others_forty(world, store, other_store):
    with time_machine.travel(START, tick=False):
        attribution.serving_record(
            associate=world["ben"], store=other_store, customer=world["customer"], action="serving"
        )
    with time_machine.travel(START + dt.timedelta(days=2), tick=False):
        note_add(
            customer=world["customer"], text="Wants the olive one", by=world["anna"], store=store
        )
        attribution.serving_record(
            associate=world["anna"],
            store=store,
            customer=world["customer"],
            action="recommendation",
        )
        attribution.serving_record(
            associate=world["anna"],
            store=store,
            customer=world["customer"],
            action="recommendation",
        )
    with time_machine.travel(START + dt.timedelta(days=3), tick=False):
        order = online_order(world, quantity=3)  # 300.00
    assert credits(order) == {
        "Anna": (Decimal("60.00"), Decimal("180.00")),
        "Ben": (Decimal("40.00"), Decimal("120.00")),
    }
    anna = SalesCredit.objects.get(order=order, associate=world["anna"])
    assert anna.reason == "served on 4 Nov in S01: note + 2 × recommendation"


def test_a_redelivered_event_credits_nothing_twice(world, store):
    note_add(customer=world["customer"], text="Size M", by=world["anna"], store=store)
    order = online_order(world)
    payload = {"order_id": order.pk}
    from clienteling import receivers

    receivers.order_placed(payload)
    receivers.order_placed(payload)
    assert SalesCredit.objects.filter(order=order).count() == 1


def test_cancelling_reverses_and_a_return_lowers_the_credit(world, store, other_store):
    attribution.serving_record(
        associate=world["ben"], store=other_store, customer=world["customer"], action="serving"
    )
    note_add(customer=world["customer"], text="Two jackets", by=world["anna"], store=store)
    order = online_order(world, quantity=2)  # 200.00: Anna 120, Ben 80
    attribution.credit_reverse(order_id=order.pk, amount=Decimal("100.00"))  # one returned
    got = {
        c.associate.first_name: c.amount - c.reversed_amount
        for c in SalesCredit.objects.filter(order=order).select_related("associate")
    }
    assert got == {"Anna": Decimal("60.00"), "Ben": Decimal("40.00")}
    other = online_order(world, "W-2")
    with _deliver(execute=True):
        order_cancel(order=other, by=None, reason="customer asked")
    assert all(c.amount == c.reversed_amount for c in SalesCredit.objects.filter(order=other))


def test_an_order_placed_by_the_associate_is_theirs_in_full(world, store):
    attribution.serving_record(
        associate=world["ben"], store=store, customer=world["customer"], action="serving"
    )
    variant = world["variant"]
    factories.give_stock(factories.store_location(store), variant, 2)
    with _deliver(execute=True):
        order, _ = order_place(
            OrderInput(
                order_ref="S01-C1",
                channel="store",
                customer=world["customer"],
                lines=[LineInput(variant, 1, variant.price)],
                method="pickup",
                store=store,
                tender="card",
                amount=variant.price,
                by=world["anna"],
                credited_to=world["anna"],
            )
        )
    assert credits(order) == {"Anna": (Decimal("100"), Decimal("100.00"))}


def test_sessions_follow_a_customer_merge(world, store):
    from retail.services import customer_merge

    duplicate = factories.CustomerFactory()
    attribution.serving_record(
        associate=world["anna"], store=store, customer=duplicate, action="serving"
    )
    customer_merge(survivor=world["customer"], duplicate=duplicate, by=None)
    assert SellingSession.objects.get().customer == world["customer"]
    assert credits(online_order(world)) == {"Anna": (Decimal("100"), Decimal("100.00"))}


def test_the_associate_and_hq_see_the_credits(world, store):
    note_add(customer=world["customer"], text="Coat", by=world["anna"], store=store)
    order = online_order(world)
    client = Client()
    client.force_login(world["anna"])
    serving = client.post(reverse("clienteling:serving", args=[world["customer"].pk]))
    assert serving.status_code == 302
    html = client.get(reverse("clienteling:my_sales")).content.decode()
    assert f'data-order="{order.order_ref}"' in html and "100.00" in html
    hq = factories.StaffFactory(role="hq_admin")
    hq_client = Client()
    factories.login_with_totp(hq_client, hq)
    page = hq_client.get(reverse("clienteling_hq:sales")).content.decode()
    assert 'data-store="S01"' in page and "Anna" in page and "100.00" in page
    # The header says which columns are channels (it read "Store | Store | Total").
    head = page.split("<thead>")[1].split("</thead>")[0]
    assert "<th>Store</th>" in head and "Channel: Web" in head


def test_the_sales_pages_run_in_a_fixed_number_of_queries(
    world, store, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    note_add(customer=world["customer"], text="Coat", by=world["anna"], store=store)
    online_order(world, "W-A")
    anna = Client()
    anna.force_login(world["anna"])
    hq = Client()
    factories.login_with_totp(hq, factories.StaffFactory(role="hq_admin"))
    pages = [(anna, reverse("clienteling:my_sales")), (hq, reverse("clienteling_hq:sales"))]
    small = []
    for client, url in pages:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        small.append(len(captured.captured_queries))
    for n in range(5):
        online_order(world, f"W-B{n}")
    for (client, url), count in zip(pages, small, strict=True):
        with django_assert_max_num_queries(count):
            html = client.get(url).content.decode()
        assert "Web" in html  # the channel in words
