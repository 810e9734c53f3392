"""Abuse signals (issue #17): each signal against a hand-built history with its values
worked out here, receivers that count a re-delivered event once, the rebuild command
agreeing with the incremental tallies, a flagged customer's return waiting for a
manager, clearing a flag (and forged attempts refused), HQ's risk page, and the
customer never seeing any of it."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders import services as orders
from orders.models import Fulfillment, Order, State
from orders.services import LineInput, OrderInput
from retail.models import AuditLog, OutboundMessage
from returns import services
from returns.models import Return, ReturnState
from returns.risk import assess, receivers, tally
from returns.risk import services as risk_services
from returns.risk.models import CustomerSignalMonth, SignalClearance, SignalSettings
from returns.services import LineAsk, NotAllowed
from tests import factories
from tests.retail.api.conftest import ApiClientHelper
from tests.returns import world
from tests.returns.factories import ReturnPolicyFactory

pytestmark = pytest.mark.django_db

QUIET = {
    "serial_min_returns": 1000,
    "wardrobing_min_units": 1000,
    "receiptless_min_returns": 1000,
    "stores_min": 1000,
    "arbitrage_min_units": 1000,
}


# --- A hand-built history ------------------------------------------------------------------


@pytest.fixture
def net():
    n = world.network(units=40)
    n["s3"] = factories.StoreFactory(code="S03", name="Aisle Lyon")
    n["shelf3"] = factories.store_location(n["s3"])
    tops = factories.CategoryFactory(code="tops-x", tax_rate=Decimal("20.00"))
    dresses = factories.CategoryFactory(code="dresses-x", tax_rate=Decimal("20.00"))
    n["shirt"] = factories.VariantFactory(
        sku="SHIRT-M", price=Decimal("50.00"), product__category=tops
    )
    n["dress"] = factories.VariantFactory(
        sku="DRESS-8", price=Decimal("100.00"), product__category=dresses
    )
    for variant in (n["shirt"], n["dress"]):
        factories.give_stock(n["dc"], variant, 40)
        for shelf in ("shelf1", "shelf2", "shelf3"):
            factories.give_stock(n[shelf], variant, 40)
    n["dresses"] = dresses
    return n


@pytest.fixture
def rules(net):
    """HQ's settings while the history is built: nothing flagged yet (so every return
    completes at once); each test then sets the thresholds it checks."""
    row = SignalSettings.load()
    for name, value in QUIET.items():
        setattr(row, name, value)
    row.save()
    row.occasion_categories.set([net["dresses"]])
    return row


def set_rules(**values) -> SignalSettings:
    row = SignalSettings.load()
    for name, value in {**QUIET, **values}.items():
        setattr(row, name, value)
    row.full_clean()
    row.save()
    return row


@pytest.fixture
def clerks(net):
    return {
        s: factories.StaffFactory(role="associate", home_store=net[s]) for s in ("s1", "s2", "s3")
    }


@pytest.fixture
def boss(net):
    return factories.StaffFactory(role="store_manager", home_store=net["s1"])


@pytest.fixture
def ada():
    return factories.CustomerFactory(name="Ada Lovelace", customer_ref="C-ADA", language="en")


@pytest.fixture
def events(django_capture_on_commit_callbacks):
    """Run a service and deliver its domain events (the outbox runs eagerly)."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def bought(events, customer, lines, *, ref=None, channel="web", store=None):
    """An order for `lines` [(variant, units, unit price)], delivered (web) or sold at the
    till (`store`), with its events delivered."""
    ref = ref or f"O-{uuid.uuid4().hex[:10]}"
    total = sum((price * q for _v, q, price in lines), Decimal("0.00"))
    order, _created = events(
        orders.order_place,
        OrderInput(
            order_ref=ref,
            channel=channel,
            customer=customer,
            lines=[LineInput(v, q, price) for v, q, price in lines],
            method="carry_out" if store else "ship",
            store=store,
            address=None if store else world.ADDRESS,
            tender="card",
            amount=total,
            payment_reference="psp",
            fingerprint=ref,
        ),
    )
    for f in order.fulfillments.exclude(state=State.COLLECTED):
        for to in (State.PICKING, State.PACKED, State.SHIPPED, State.DELIVERED):
            f = events(orders.fulfillment_transition, fulfillment=f, to=to, by=None)
    order.refresh_from_db()
    return order


def collected_days_ago(order, days):
    Fulfillment.objects.filter(order=order).update(
        collected_at=timezone.now() - dt.timedelta(days=days)
    )


def returned(events, order, store, by, sku, units, *, disposition="restock", reason="size"):
    ask = LineAsk(
        quantity=units,
        reason=reason,
        order_line=order.lines.get(sku=sku),
        disposition=disposition,
    )
    ret, _created = events(
        services.return_at_counter,
        order=order,
        asks=[ask],
        store=store,
        by=by,
        return_ref=f"R-{uuid.uuid4().hex}",
    )
    return ret


def receiptless(events, customer, variant, store, by, boss):
    ret, _created = events(
        services.return_at_counter,
        order=None,
        customer=customer,
        asks=[LineAsk(quantity=1, reason="other", variant=variant)],
        store=store,
        by=by,
        return_ref=f"R-{uuid.uuid4().hex}",
    )
    assert ret.state == ReturnState.AWAITING_APPROVAL  # without a receipt: always a manager
    return events(services.return_approve, ret=ret, by=boss)


def figures(customer) -> tally.Figures:
    return tally.figures_for(customer.pk)


def signal(customer, code):
    found = [s for s in assess.for_customer(customer).signals if s.code == code]
    return found[0] if found else None


# --- Each signal ---------------------------------------------------------------------------


def test_return_rate_by_units_and_by_value_across_channels(net, rules, clerks, ada, events):
    web = bought(events, ada, [(net["shirt"], 10, Decimal("50.00"))])  # 10 units, 500.00
    returned(events, web, net["s1"], clerks["s1"], "SHIRT-M", 3)  # 3 units, 150.00
    f = figures(ada)
    assert (f.bought_units, f.bought_value) == (10, Decimal("500.00"))
    assert (f.returned_units, f.returned_value, f.returns) == (3, Decimal("150.00"), 1)
    summary = assess.for_customer(ada).summary
    assert "3 of 10 units bought were returned (30.0 %)" in summary
    assert "€150.00 of €500.00 by value (30.0 %)" in summary
    # a till sale at another store counts too: 12 units for 700.00
    bought(events, ada, [(net["dress"], 2, Decimal("100.00"))], channel="store", store=net["s2"])
    f = figures(ada)
    assert (f.bought_units, f.bought_value) == (12, Decimal("700.00"))
    assert assess.rate(f.returned_units, f.bought_units) == Decimal("25.0")  # 3 / 12
    assert assess.rate(f.returned_value, f.bought_value) == Decimal("21.4")  # 150 / 700


def test_value_rate_differs_from_unit_rate(net, rules, clerks, ada, events):
    # 4 jumpers at 60.00 and 6 scarves at 20.00: 10 units, 360.00; 3 jumpers back: 180.00
    order = bought(
        events, ada, [(net["jumper"], 4, Decimal("60.00")), (net["scarf"], 6, Decimal("20.00"))]
    )
    returned(events, order, net["s1"], clerks["s1"], "JUMPER-M", 3)
    summary = assess.for_customer(ada).summary
    assert "3 of 10 units bought were returned (30.0 %)" in summary
    assert "€180.00 of €360.00 by value (50.0 %)" in summary


def test_serial_returner_above_hqs_rate_and_number_of_returns(net, rules, clerks, ada, events):
    order = bought(events, ada, [(net["shirt"], 10, Decimal("50.00"))])
    for _i in range(3):
        returned(events, order, net["s1"], clerks["s1"], "SHIRT-M", 1)
    # 3 returns, 3 of 10 units (30 %), 150.00 of 500.00 (30 %)
    set_rules(serial_rate_percent=Decimal("25"), serial_min_returns=3)
    found = signal(ada, "serial")
    assert found.text == (
        "3 returns with a return rate of 30.0 % by units and 30.0 % by value: HQ's "
        "threshold is 25 % with at least 3 returns."
    )
    set_rules(serial_rate_percent=Decimal("25"), serial_min_returns=4)  # too few returns
    assert signal(ada, "serial") is None
    set_rules(serial_rate_percent=Decimal("31"), serial_min_returns=3)  # rate too low
    assert signal(ada, "serial") is None


def test_wardrobing_counts_worn_or_quick_occasion_wear_only(net, rules, clerks, ada, events):
    s1, clerk = net["s1"], clerks["s1"]
    old = bought(events, ada, [(net["dress"], 3, Decimal("100.00"))])
    collected_days_ago(old, 10)
    # worn: not sellable again, and the customer did not say it arrived damaged
    returned(events, old, s1, clerk, "DRESS-8", 1, disposition="damaged", reason="changed_mind")
    # arrived damaged: not worn; 10 days: not quick
    returned(events, old, s1, clerk, "DRESS-8", 1, disposition="damaged", reason="damaged")
    recent = bought(events, ada, [(net["dress"], 1, Decimal("100.00"))])
    returned(events, recent, s1, clerk, "DRESS-8", 1, reason="fit")  # same day: quick
    shirt = bought(events, ada, [(net["shirt"], 1, Decimal("50.00"))])
    returned(events, shirt, s1, clerk, "SHIRT-M", 1, disposition="damaged", reason="fit")
    f = figures(ada)
    assert (f.worn_units, f.quick_units, f.wardrobing_units) == (1, 1, 2)  # the shirt is no
    set_rules(wardrobing_min_units=2, wardrobing_days=3)  # occasion wear
    assert signal(ada, "wardrobing").text == (
        "2 units of occasion wear returned worn (1) or within 3 days of collection (1): "
        "HQ's threshold is 2 units."
    )
    set_rules(wardrobing_min_units=3)
    assert signal(ada, "wardrobing") is None


def test_receiptless_returns_count_and_value(net, rules, clerks, boss, ada, events):
    ReturnPolicyFactory(category=net["shirt"].product.category, receiptless_allowed=True)
    for _i in range(3):  # valued at the lowest price of 90 days: 50.00 each
        receiptless(events, ada, net["shirt"], net["s1"], clerks["s1"], boss)
    f = figures(ada)
    assert (f.receiptless_returns, f.receiptless_units, f.receiptless_value) == (
        3,
        3,
        Decimal("150.00"),
    )
    assert f.returned_units == 0 and f.arbitrage_units == 0  # bought at the catalogue price
    set_rules(receiptless_min_returns=3)
    assert signal(ada, "receiptless").text == (
        "3 returns without a receipt (3 units, €150.00 in store credit): HQ's threshold is "
        "3 returns."
    )
    set_rules(receiptless_min_returns=4)
    assert signal(ada, "receiptless") is None


def test_returns_spread_over_many_stores(net, rules, clerks, ada, events):
    order = bought(events, ada, [(net["shirt"], 5, Decimal("50.00"))])
    for s in ("s1", "s2", "s3", "s1"):
        returned(events, order, net[s], clerks[s], "SHIRT-M", 1)
    # a parcel received at the DC is no store
    online, _c = services.return_request(
        order=order,
        return_ref="ONLINE-1",
        asks=[LineAsk(quantity=1, reason="size", order_line=order.lines.get())],
    )
    events(services.return_receive, ret=online, location=net["dc"])
    f = figures(ada)
    assert (f.returns, f.stores) == (5, 3)
    set_rules(stores_min=3)
    assert signal(ada, "stores").text == (
        "Returns at 3 different stores: HQ's threshold is 3 stores."
    )
    set_rules(stores_min=4)
    assert signal(ada, "stores") is None


def test_price_arbitrage_and_the_refund_follows_what_was_paid(
    net, rules, clerks, boss, ada, events, client
):
    s1, clerk = net["s1"], clerks["s1"]
    # bought at 45.00 while the catalogue says 60.00: 2 units, 15.00 below it each
    cheap = bought(events, ada, [(net["jumper"], 2, Decimal("45.00"))])
    ret = returned(events, cheap, s1, clerk, "JUMPER-M", 2)
    assert ret.refund_amount == Decimal("90.00")  # what was paid, never 120.00
    # bought at the full 20.00; the price went up to 25.00 before the return: 5.00
    scarf = bought(events, ada, [(net["scarf"], 1, Decimal("20.00"))])
    net["scarf"].price = Decimal("25.00")
    net["scarf"].save()
    returned(events, scarf, s1, clerk, "SCARF-1", 1)
    # a full-price shirt returned at the same price: no arbitrage
    shirt = bought(events, ada, [(net["shirt"], 1, Decimal("50.00"))])
    returned(events, shirt, s1, clerk, "SHIRT-M", 1)
    f = figures(ada)
    assert (f.arbitrage_units, f.arbitrage_gap) == (3, Decimal("35.00"))
    set_rules(arbitrage_min_units=3)
    text = signal(ada, "arbitrage").text
    assert "3 units returned that were bought for less than their catalogue price" in text
    assert "35.00 below that price in all" in text
    assert "Refunds follow what was paid, never the catalogue price" in text
    # the associate reads it on the order page
    client.force_login(clerk)
    other = bought(events, ada, [(net["shirt"], 1, Decimal("50.00"))])
    html = client.get(reverse("returns_store:order", args=[other.pk])).content.decode()
    assert 'id="return-signals"' in html and 'data-signal="arbitrage"' in html
    assert "Refunds follow what was paid, never the catalogue price" in html


def test_only_the_last_12_months_count(net, rules, clerks, ada, events):
    old = bought(events, ada, [(net["shirt"], 4, Decimal("50.00"))])
    bought(events, ada, [(net["shirt"], 1, Decimal("50.00"))])
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    receivers.order_changed({"order_id": old.pk})  # a re-delivery recounts it where it is
    assert figures(ada).bought_units == 1
    assert tally.figures_for(ada.pk, months=24).bought_units == 5


# --- Incremental, idempotent, rebuilt ------------------------------------------------------


def test_receivers_delivered_twice_count_once(net, rules, clerks, ada, events):
    order = bought(events, ada, [(net["shirt"], 10, Decimal("50.00"))])
    ret = returned(events, order, net["s1"], clerks["s1"], "SHIRT-M", 3)
    before = figures(ada)
    assert (before.bought_units, before.returned_units) == (10, 3)  # through the events
    for _again in range(2):
        receivers.order_changed({"order_id": order.pk, "order_ref": order.order_ref})
        receivers.fulfillment_changed({"order_ref": order.order_ref})
        receivers.return_changed({"return_id": ret.pk})
    after = figures(ada)
    assert after.values == before.values and after.stores == before.stores == 1
    assert tally.return_refresh(return_id=ret.pk) is False  # nothing left to change


def test_a_cancelled_order_no_longer_counts_as_bought(net, rules, ada, events):
    order = bought(events, ada, [(net["shirt"], 2, Decimal("50.00"))], ref="PICK-1")
    assert figures(ada).bought_units == 2
    pickup, _c = events(
        orders.order_place,
        OrderInput(
            order_ref="PICK-2",
            channel="web",
            customer=ada,
            lines=[LineInput(net["shirt"], 3, Decimal("50.00"))],
            method="pickup",
            store=net["s1"],
            tender="card",
            amount=Decimal("150.00"),
            payment_reference="psp",
            fingerprint="PICK-2",
        ),
    )
    assert figures(ada).bought_units == 5
    events(orders.order_cancel, order=Order.objects.get(pk=pickup.pk), by=None)
    assert (figures(ada).bought_units, figures(ada).bought_value) == (2, Decimal("100.00"))
    assert order.status != "cancelled"


def _snapshot() -> set:
    rows = set()
    for b in CustomerSignalMonth.objects.all():
        values = tuple((name, getattr(b, name)) for name in tally.FIGURES)
        if any(v for _n, v in values):
            rows.add((b.customer_id, b.month, b.store_id, values))
    return rows


def test_the_rebuild_command_equals_the_incremental_figures(net, rules, clerks, boss, ada, events):
    other = factories.CustomerFactory()
    ReturnPolicyFactory(category=net["shirt"].product.category, receiptless_allowed=True)
    a = bought(
        events, ada, [(net["shirt"], 5, Decimal("45.00")), (net["dress"], 2, Decimal("100.00"))]
    )
    returned(events, a, net["s1"], clerks["s1"], "SHIRT-M", 2)
    returned(events, a, net["s2"], clerks["s2"], "DRESS-8", 1, disposition="donate", reason="fit")
    receiptless(events, ada, net["shirt"], net["s1"], clerks["s1"], boss)
    b = bought(
        events, other, [(net["jumper"], 3, Decimal("60.00"))], channel="store", store=net["s2"]
    )
    returned(events, b, net["s2"], clerks["s2"], "JUMPER-M", 1)
    incremental = _snapshot()
    assert len(incremental) == 5  # ada: bought, S01, S02; other: bought, S02
    out = StringIO()
    call_command("rebuild_return_signals", "--batch", "2", stdout=out)
    assert _snapshot() == incremental
    text = out.getvalue()
    assert "orders: 2 to count" in text and "orders: 2/2" in text
    assert "returns: 4 to count" in text and "returns: 4/4" in text
    assert "5 monthly tallies written" in text


def test_a_customer_merge_adds_the_tallies_up(net, rules, clerks, ada, events):
    dup = factories.CustomerFactory(name="Ada L.")
    o1 = bought(events, ada, [(net["shirt"], 2, Decimal("50.00"))])
    o2 = bought(events, dup, [(net["shirt"], 3, Decimal("50.00"))])
    returned(events, o1, net["s1"], clerks["s1"], "SHIRT-M", 1)
    returned(events, o2, net["s1"], clerks["s1"], "SHIRT-M", 2)
    from retail.services import customer_merge

    events(customer_merge, survivor=ada, duplicate=dup, by=None)
    f = figures(ada)
    assert (f.bought_units, f.returned_units, f.returns, f.stores) == (5, 3, 2, 1)
    assert not CustomerSignalMonth.objects.filter(customer=dup).exists()
    # a late re-delivery of the duplicate's return counts once, for the survivor
    receivers.return_changed({"return_id": Return.objects.get(order=o2).pk})
    assert figures(ada).returned_units == 3


# --- A flagged customer's return waits for a manager -----------------------------------------


@pytest.fixture
def flagged(net, rules, clerks, boss, ada, events):
    """Ada made 3 returns without a receipt: HQ's threshold is 3."""
    ReturnPolicyFactory(category=net["shirt"].product.category, receiptless_allowed=True)
    for _i in range(3):
        receiptless(events, ada, net["shirt"], net["s1"], clerks["s1"], boss)
    set_rules(receiptless_min_returns=3)
    return ada


REASON = "Return signals for this customer (Returns without a receipt): a manager approves"


def test_a_flagged_customers_return_waits_for_a_manager_who_approves_it(
    net, flagged, clerks, boss, events, client
):
    order = bought(events, flagged, [(net["shirt"], 2, Decimal("50.00"))])
    client.force_login(clerks["s1"])
    page = client.get(reverse("returns_store:order", args=[order.pk])).content.decode()
    assert 'data-flagged="1"' in page and 'data-signal="receiptless"' in page
    assert 'id="signals-clear-form"' not in page  # an associate cannot clear
    ret = returned(events, order, net["s1"], clerks["s1"], "SHIRT-M", 1)
    assert ret.state == ReturnState.AWAITING_APPROVAL
    assert ret.approval_reasons == [REASON]  # 50.00 alone would complete at once
    # an associate's forged approval: 403, nothing changes
    denied = client.post(reverse("returns_store:approve", args=[ret.pk]), {"reason": "ok"})
    assert denied.status_code == 403
    ret.refresh_from_db()
    assert ret.state == ReturnState.AWAITING_APPROVAL and not order.refunds.exists()
    detail = client.get(reverse("returns_store:detail", args=[ret.pk])).content.decode()
    assert REASON in detail and 'id="return-signals"' in detail
    client.force_login(boss)
    assert client.post(reverse("returns_store:approve", args=[ret.pk])).status_code == 302
    ret.refresh_from_db()
    assert ret.state == ReturnState.COMPLETED and ret.decided_by == boss
    assert ret.refund_amount == Decimal("50.00")
    assert sum(r.amount for r in order.refunds.all()) == Decimal("50.00")


def test_a_refusal_by_the_manager_frees_the_units(net, flagged, clerks, boss, events):
    order = bought(events, flagged, [(net["shirt"], 1, Decimal("50.00"))])
    ret = returned(events, order, net["s1"], clerks["s1"], "SHIRT-M", 1)
    events(services.return_refuse, ret=ret, by=boss, reason="Worn, tags cut")
    ret.refresh_from_db()
    assert ret.state == ReturnState.REFUSED and order.lines.get().claimed_quantity == 0


def test_the_preview_says_a_manager_must_approve(net, flagged, clerks, events, client):
    order = bought(events, flagged, [(net["shirt"], 1, Decimal("50.00"))])
    client.force_login(clerks["s1"])
    line = order.lines.get()
    data = {
        "return_ref": f"R-{uuid.uuid4().hex}",
        "refund_to": "original",
        f"l{line.pk}_qty": "1",
        f"l{line.pk}_reason": "size",
        f"l{line.pk}_disp": "restock",
    }
    html = client.post(
        reverse("returns_store:preview", args=[order.pk]), data, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "A manager must approve" in html and REASON in html
    assert not Return.objects.filter(order=order).exists()


def test_a_forged_clear_by_an_associate_is_refused_and_a_manager_clears(
    net, flagged, clerks, boss, events, client
):
    url = reverse("returns_store:signals_clear", args=[flagged.pk])
    client.force_login(clerks["s1"])
    assert client.post(url, {"reason": "I know her"}).status_code == 403
    assert not SignalClearance.objects.exists()
    assert not AuditLog.objects.filter(action="returns.signals_clear").exists()
    client.force_login(boss)
    order = bought(events, flagged, [(net["shirt"], 1, Decimal("50.00"))])
    page = reverse("returns_store:order", args=[order.pk])
    assert 'id="signals-clear-form"' in client.get(page).content.decode()
    empty = client.post(url, {"reason": " ", "next": page})
    assert empty.status_code == 400 and "Say why the flag is cleared." in empty.content.decode()
    assert not SignalClearance.objects.exists()
    done = client.post(url, {"reason": "Tailor buying for clients", "next": page})
    assert done.status_code == 302 and done["Location"] == page
    again = client.post(url, {"reason": "Tailor buying for clients", "next": page})
    assert again.status_code == 302  # a double tap clears once
    assert AuditLog.objects.filter(action="returns.signals_clear").count() == 1
    clearance = SignalClearance.objects.get()
    assert clearance.signals == ["receiptless"] and clearance.cleared_by == boss
    assert clearance.valid_until - clearance.created_at == dt.timedelta(days=90)
    audit = AuditLog.objects.get(action="returns.signals_clear")
    assert audit.target_id == str(flagged.pk) and audit.actor == boss
    assert "Tailor" not in json.dumps(audit.detail)  # the reason stays on the clearance
    # shown, but the return no longer waits
    html = client.get(page).content.decode()
    assert 'id="signals-cleared"' in html and 'data-flagged="0"' in html
    ret = returned(events, order, net["s1"], clerks["s1"], "SHIRT-M", 1)
    assert ret.state == ReturnState.COMPLETED and ret.approval_reasons == []


def test_a_manager_of_another_store_cannot_clear_here(net, flagged, client):
    other = factories.StaffFactory(role="store_manager", home_store=net["s2"])
    assert risk_services.may_clear(other, net["s1"]) is False
    with pytest.raises(NotAllowed):
        risk_services.signals_clear(customer=flagged, by=other, reason="ok then", store=net["s1"])
    assert not SignalClearance.objects.exists()


# --- Never shown to the customer ---------------------------------------------------------


def test_the_customer_never_sees_a_signal(net, flagged, clerks, boss, events, client):
    order = bought(events, flagged, [(net["shirt"], 2, Decimal("50.00"))])
    ret = returned(events, order, net["s1"], clerks["s1"], "SHIRT-M", 1)
    events(services.return_approve, ret=ret, by=boss)
    _c, key = factories.api_client("orders:read", "customers:read")
    api = ApiClientHelper(key)
    for url in (
        f"/api/v1/returns/{ret.return_ref}/",
        f"/api/v1/orders/{order.order_ref}/",
        f"/api/v1/customers/{flagged.customer_ref}/export/",
    ):
        response = api.get(url)
        assert response.status_code == 200
        text = response.content.decode().lower()
        assert "signal" not in text and "score" not in text and "a manager approves" not in text
        assert "receiptless" not in text and "arbitrage" not in text
    # the export holds the monthly counts of what they bought and returned, nothing more
    tallies = api.get(f"/api/v1/customers/{flagged.customer_ref}/export/").json()["sections"][
        "returns.tallies"
    ]
    assert tallies == [
        {
            "month": tally.month_of(timezone.now()).strftime("%Y-%m"),
            "store": None,
            "units_bought": 2,
            "value_bought": "100.00",
            "returns": 0,
            "units_returned": 0,
            "value_returned": "0.00",
        },
        {
            "month": tally.month_of(timezone.now()).strftime("%Y-%m"),
            "store": "S01",
            "units_bought": 0,
            "value_bought": "0.00",
            "returns": 4,
            "units_returned": 4,
            "value_returned": "200.00",
        },
    ]
    for message in OutboundMessage.objects.filter(customer=flagged):
        text = json.dumps(message.context).lower()
        assert "signal" not in text and "score" not in text
    client.force_login(clerks["s1"])  # the printed receipt the customer takes home
    receipt = client.get(reverse("returns_store:receipt", args=[ret.pk])).content.decode()
    assert "return-signals" not in receipt and "Return signals" not in receipt
    client.force_login(factories.StaffFactory(role="kiosk", home_store=net["s1"]))
    kiosk = client.get(reverse("kiosk:home")).content.decode()
    assert "return-signals" not in kiosk and "Return signals" not in kiosk


# --- HQ's settings and risk page --------------------------------------------------------


def test_hqs_settings_are_validated_and_edited_in_admin(hq_client):
    row = SignalSettings.load()
    for field, bad in (
        ("serial_rate_percent", Decimal("0")),
        ("serial_rate_percent", Decimal("101")),
        ("stores_min", 1),
        ("clearance_days", 0),
    ):
        candidate = SignalSettings.load()
        setattr(candidate, field, bad)
        with pytest.raises(ValidationError) as caught:
            candidate.full_clean()
        assert field in caught.value.message_dict
    response = hq_client.get(reverse("admin:returns_signalsettings_changelist"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:returns_signalsettings_change", args=[row.pk])
    assert hq_client.get(response["Location"]).status_code == 200


def test_hqs_risk_page_sorts_filters_masks_and_is_audited(
    net, flagged, clerks, events, hq_client, hq_user
):
    calm = factories.CustomerFactory(name="Calm Customer", customer_ref="C-CALM")
    order = bought(events, calm, [(net["shirt"], 10, Decimal("50.00"))])
    returned(events, order, net["s2"], clerks["s2"], "SHIRT-M", 1)
    url = reverse("returns_hq:risk")
    html = hq_client.get(url).content.decode()
    assert f'data-customer="{flagged.pk}" data-score="1"' in html
    assert "C-ADA" in html and "A••• L•••" in html and "Ada Lovelace" not in html
    assert "C-CALM" not in html  # no signal: not listed unless asked
    assert "3 returns without a receipt (3 units, €150.00 in store credit)" in html
    everyone = hq_client.get(url, {"min_score": 0}).content.decode()
    assert everyone.index("C-ADA") < everyone.index("C-CALM")  # sorted by risk
    assert "C-CALM" in hq_client.get(url, {"min_score": 0, "store": "S02"}).content.decode()
    assert "C-ADA" not in hq_client.get(url, {"min_score": 0, "store": "S02"}).content.decode()
    assert "C-ADA" in hq_client.get(url, {"signal": "receiptless"}).content.decode()
    assert "C-ADA" not in hq_client.get(url, {"signal": "stores"}).content.decode()
    assert "C-ADA" in hq_client.get(url, {"q": "c-ada", "months": 3}).content.decode()
    audit = AuditLog.objects.filter(action="returns.risk_list", actor=hq_user).first()
    assert audit is not None and flagged.pk in audit.detail["shown"]
    for bad, says in (
        ({"months": "7"}, "Choose a period from the list."),
        ({"store": "NOPE"}, "There is no store with this code."),
        ({"signal": "gossip"}, "Choose a signal from the list."),
        ({"min_score": "9"}, "There are only 5 signals."),
    ):
        response = hq_client.get(url, bad)
        assert response.status_code == 400 and says in response.content.decode()


def test_hq_clears_a_flag_with_a_reason(net, flagged, hq_client, hq_user):
    url = reverse("returns_hq:risk")
    bad = hq_client.post(url, {"customer": flagged.pk, "reason": ""})
    assert bad.status_code == 400 and "Say why the flag is cleared." in bad.content.decode()
    unknown = hq_client.post(url, {"customer": "99999999", "reason": "no one"})
    assert unknown.status_code == 400 and not SignalClearance.objects.exists()
    done = hq_client.post(url, {"customer": flagged.pk, "reason": "Verified with the store"})
    assert done.status_code == 302
    clearance = SignalClearance.objects.get()
    assert clearance.cleared_by == hq_user and clearance.store is None
    assert AuditLog.objects.filter(
        action="returns.signals_clear", target_id=str(flagged.pk)
    ).exists()
    assert assess.for_customer(flagged).flagged is False


def _flag_many(n, store):
    """n customers with 3 returns without a receipt each, through the tally service."""
    month = tally.month_of(timezone.now())
    for _i in range(n):
        customer = factories.CustomerFactory()
        tally._apply(
            f"test:{customer.pk}",
            tally.Contribution(
                customer.pk,
                month,
                store.pk,
                {
                    "returns": 3,
                    "receiptless_returns": 3,
                    "receiptless_units": 3,
                    "receiptless_value": Decimal("60.00"),
                },
            ),
        )


def _queries(client, url, params) -> int:
    client.get(url, params)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_hqs_risk_page_runs_a_fixed_number_of_queries(net, rules, hq_client):
    set_rules(receiptless_min_returns=3)
    url = reverse("returns_hq:risk")
    cases = ({}, {"signal": "receiptless", "store": "S01"}, {"page": 2})
    _flag_many(2, net["s1"])
    small = [_queries(hq_client, url, params) for params in cases]
    _flag_many(40, net["s1"])
    large = [_queries(hq_client, url, params) for params in cases]
    assert small == large
    html = hq_client.get(url, {"page": 2}).content.decode()
    assert html.count("data-customer=") == 42 - 25 and "Page 2 of 2" in html


def test_the_lists_sql_signals_agree_with_the_words(net, rules):
    """HQ's list sorts and filters in SQL; each row's words come from `assess`: both
    apply the same thresholds, at and around each boundary."""
    from returns.hq_signals_views import RiskFilterForm, risk_rows

    set_rules(
        serial_rate_percent=Decimal("30"),
        serial_min_returns=2,
        wardrobing_min_units=2,
        receiptless_min_returns=2,
        stores_min=2,
        arbitrage_min_units=2,
    )
    month = tally.month_of(timezone.now())
    histories = [
        # (bought units, bought value, returns, returned units, returned value)
        (10, "500.00", 2, 3, "150.00"),  # exactly 30 % by units and value
        (10, "500.00", 2, 2, "149.99"),  # below by both
        (10, "100.00", 2, 2, "30.00"),  # 20 % by units, 30 % by value
        (0, "0.00", 2, 1, "10.00"),  # returns with nothing bought in the window
        (3, "90.00", 1, 3, "90.00"),  # 100 % but one return only
    ]
    extra = [
        {"wardrobing_units": 2},
        {"wardrobing_units": 1, "receiptless_returns": 2},
        {"arbitrage_units": 2, "arbitrage_gap": Decimal("3.00")},
        {},
        {"arbitrage_units": 1},
    ]
    stores = [net["s1"], net["s2"]]
    for i, ((bu, bv, n, ru, rv), more) in enumerate(zip(histories, extra, strict=True)):
        customer = factories.CustomerFactory()
        tally._apply(
            f"test:b{i}",
            tally.Contribution(
                customer.pk, month, None, {"bought_units": bu, "bought_value": Decimal(bv)}
            ),
        )
        for j in range(n):
            figures_ = {"returns": 1}
            if j == 0:
                figures_.update({"returned_units": ru, "returned_value": Decimal(rv), **more})
            tally._apply(
                f"test:r{i}:{j}",
                tally.Contribution(customer.pk, month, stores[j % 2].pk, figures_),
            )
    form = RiskFilterForm({"min_score": 0})
    assert form.is_valid()
    rows = list(risk_rows(form, SignalSettings.load()))
    assert len(rows) == len(histories)
    rules_now = SignalSettings.load()
    seen = {}
    for row in rows:
        words = assess.assess(tally.Figures.from_row(row), rules_now).codes
        sql = [code for code in assess.SIGNALS if row[f"sig_{code}"]]
        assert words == sql, row
        assert row["score"] == len(words)
        seen[row["customer_id"]] = words
    assert sorted(map(len, seen.values()), reverse=True) == [r["score"] for r in rows]
    assert sorted(seen.values()) == sorted(
        [
            ["serial", "wardrobing", "stores"],  # exactly at the rate
            ["receiptless", "stores"],  # just below it
            ["serial", "stores", "arbitrage"],  # by value only
            ["serial", "stores"],  # nothing bought in the window
            [],  # one return is too few
        ]
    )


def test_the_signals_speak_the_staffs_language(net, flagged):
    from django.utils import translation

    with translation.override("zh-hans"):
        found = assess.for_customer(flagged)
        assert found.summary.startswith("最近 12 个月")
        assert found.signals[0].label == "无小票退货"
        assert found.signals[0].text == (
            "3 次无小票退货（3 件，店铺积分 €150.00）：总部的阈值为 3 次。"
        )
        assert services.with_signal_reason([], flagged) == [
            "该顾客有退货信号（无小票退货）：需经理批准"
        ]


def test_a_flagged_customers_online_return_waits_when_received_at_the_counter(
    net, flagged, clerks, events
):
    order = bought(events, flagged, [(net["shirt"], 2, Decimal("50.00"))])
    asks = [LineAsk(quantity=1, reason="size", order_line=order.lines.get())]
    at_counter, _c = services.return_request(order=order, return_ref="WEB-R-1", asks=asks)
    assert at_counter.approval_reasons == []  # the customer's request says nothing
    events(
        services.return_receive,
        ret=at_counter,
        location=net["shelf1"],
        by=clerks["s1"],
        store=net["s1"],
        check_approval=True,
    )
    at_counter.refresh_from_db()
    assert at_counter.state == ReturnState.AWAITING_APPROVAL
    assert at_counter.approval_reasons == [REASON]
    # a parcel the DC receives through the API completes, as the contract says
    asks = [LineAsk(quantity=1, reason="size", order_line=order.lines.get())]
    parcel, _c = services.return_request(order=order, return_ref="WEB-R-2", asks=asks)
    events(services.return_receive, ret=parcel, location=net["dc"])
    parcel.refresh_from_db()
    assert parcel.state == ReturnState.COMPLETED and parcel.refund_amount == Decimal("50.00")
