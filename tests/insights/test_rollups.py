"""The rollups: dated in the right time zone, idempotent, refreshed incrementally from
the domain events' dirty marks, a late event re-opening only its day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from django.utils import timezone

from insights import receivers, rollups
from insights.models import (
    AssociateDay,
    BrowseDay,
    CustomerChannel,
    CustomerSummary,
    DirtyCustomer,
    DirtyDay,
    FulfilmentFact,
    OrderDay,
    PurchaseFact,
    RefundDay,
    SalesDay,
)
from retail import events
from tests import factories
from tests.insights import factories as f

TABLES = (
    SalesDay,
    OrderDay,
    RefundDay,
    FulfilmentFact,
    AssociateDay,
    CustomerChannel,
    CustomerSummary,
    PurchaseFact,
    BrowseDay,
)


def snapshot(*models) -> dict:
    """Every rollup row's values, without ids: what the tables hold."""
    skip = {"id", "refreshed_at"}
    result = {}
    for model in models or TABLES:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
        result[model.__name__] = sorted(
            tuple(str(v) for v in row) for row in model.objects.values_list(*fields)
        )
    return result


def test_store_sales_are_dated_in_the_store_time_zone_online_in_the_reporting_one(world, settings):
    settings.AISLE_REPORTING_TIME_ZONE = "Asia/Tokyo"
    a = factories.VariantFactory(product__category__code="bags", price=D("50.00"))
    # 00:30 on 2 Dec in Shanghai is 16:30 on 1 Dec in UTC: Shanghai's 2 Dec.
    f.sale("store", f.at("2026-12-02 00:30", "Asia/Shanghai"), [(a, 1, "50.00")], store=world.sh)
    # 23:30 on 1 Dec in New York is 04:30 on 2 Dec in UTC: New York's 1 Dec.
    f.sale("kiosk", f.at("2026-12-01 23:30", "America/New_York"), [(a, 1, "50.00")], store=world.ny)
    # A web order at 23:30 UTC on 1 Dec, picked up at NY: Tokyo's 2 Dec (08:30 there).
    f.sale("web", f.at("2026-12-01 23:30"), [(a, 1, "50.00")], store=world.ny)
    rollups.refresh(full=True)

    def day_of(store, channel):
        return set(
            SalesDay.objects.filter(
                store=store, channel=channel, category=a.product.category, net=D("50.00")
            ).values_list("day", flat=True)
        )

    assert day_of(world.sh, "store") == {dt.date(2026, 12, 2)}
    assert day_of(world.ny, "kiosk") == {dt.date(2026, 12, 1)}
    assert day_of(world.ny, "web") == {dt.date(2026, 12, 2)}


def test_a_sale_at_2330_local_counts_on_that_local_day_east_and_west(world):
    rollups.refresh(full=True)
    # O1 at 23:30 in Shanghai on 1 Dec; O2 at 23:30 in New York on 1 Dec (2 Dec in UTC).
    assert OrderDay.objects.get(store=world.sh, channel="store", day=dt.date(2026, 12, 1)).net == D(
        "170.00"
    )
    assert OrderDay.objects.get(store=world.ny, channel="store", day=dt.date(2026, 12, 1)).net == D(
        "30.00"
    )
    assert not OrderDay.objects.filter(store=world.ny, day=dt.date(2026, 12, 2)).exists()


def test_sales_day_splits_gross_discount_net_and_tax_by_category(world):
    rollups.refresh(full=True)
    # O1: 2 × A at 50 (shirts, 20 %) and the lamp at 70 (catalog 80, home, 10 %).
    shirts = SalesDay.objects.get(store=world.sh, day=dt.date(2026, 12, 1), category__code="shirts")
    home = SalesDay.objects.get(store=world.sh, day=dt.date(2026, 12, 1), category__code="home")
    assert (shirts.units, shirts.gross, shirts.discount, shirts.net, shirts.tax) == (
        2,
        D("100.00"),
        D("0.00"),
        D("100.00"),
        D("16.67"),  # 100 × 20 / 120
    )
    assert (home.units, home.gross, home.discount, home.net, home.tax) == (
        1,
        D("80.00"),
        D("10.00"),
        D("70.00"),
        D("6.36"),  # 70 × 10 / 110
    )


def test_cancelled_and_expired_units_are_not_sales_and_their_refund_is_not_a_return(world):
    rollups.refresh(full=True)
    # O5 (app, pickup at SH, expired): the unit cancelled; 50.00 refunded 3 Dec.
    row = SalesDay.objects.get(store=world.sh, channel="app")
    assert (row.units, row.units_cancelled, row.net) == (0, 1, D("0.00"))
    order_day = OrderDay.objects.get(store=world.sh, channel="app")
    assert (order_day.orders, order_day.cancelled_orders, order_day.net) == (1, 1, D("0.00"))
    refund = RefundDay.objects.get(store=world.sh, channel="app")
    assert (refund.day, refund.amount, refund.from_return) == (
        dt.date(2026, 12, 3),
        D("50.00"),
        False,
    )


def test_returns_count_on_the_day_they_happen_in_the_order_bucket(world):
    rollups.refresh(full=True)
    # O3 (web, 2 Dec, no store): one B returned at NY on 3 Dec, 30.00 refunded.
    sold = SalesDay.objects.get(store=None, channel="web", day=dt.date(2026, 12, 2))
    back = SalesDay.objects.get(store=None, channel="web", day=dt.date(2026, 12, 3))
    assert (sold.units, sold.units_returned) == (3, 0)
    assert (back.units_returned, back.returned_value) == (1, D("30.00"))
    refund = RefundDay.objects.get(store=None, day=dt.date(2026, 12, 3))
    assert (refund.amount, refund.from_return, refund.tender) == (D("30.00"), True, "card")


def test_full_refresh_twice_writes_the_same_tables(world):
    rollups.refresh(full=True)
    first = snapshot()
    assert first["SalesDay"] and first["PurchaseFact"] and first["AssociateDay"]
    rollups.refresh(full=True)
    assert snapshot() == first


def test_refreshing_a_day_twice_changes_nothing(world):
    rollups.refresh(full=True)
    first = snapshot()
    rollups.refresh_day(world.sh.pk, dt.date(2026, 12, 2))
    rollups.refresh_day(world.sh.pk, dt.date(2026, 12, 2))
    rollups.refresh_customers([c.pk for c in world.customers.values()])
    assert snapshot() == first


def test_the_insights_receivers_are_registered_for_the_domain_events():
    for event in ("order_placed", "order_cancelled", "fulfillment_changed"):
        assert "insights.receivers.order_changed" in events.receivers_for(event)
    for event in ("return_completed", "return_cancelled", "return_requested"):
        assert "insights.receivers.return_changed" in events.receivers_for(event)
    assert "insights.receivers.customer_merged" in events.receivers_for("customer_merged")


def test_an_order_event_marks_its_day_and_customer_and_the_beat_refreshes_only_them(world):
    rollups.refresh(full=True)
    before = snapshot(SalesDay, OrderDay)
    order = f.sale(
        "store", f.at("2026-11-20 10:00"), [(world.variants["b"], 2, "30.00")],
        customer=world.customers["bob"], store=world.ny,
    )  # fmt: skip
    receivers.order_changed({"order_id": order.pk})
    receivers.order_changed({"order_id": order.pk})  # redelivered: one mark
    today_ny = timezone.now().astimezone(world.ny.tz).date()
    assert set(DirtyDay.objects.values_list("store_id", "day")) == {
        (world.ny.pk, dt.date(2026, 11, 20)),
        (world.ny.pk, today_ny),
    }
    assert list(DirtyCustomer.objects.values_list("customer_id", flat=True)) == [
        world.customers["bob"].pk
    ]
    done = rollups.refresh_dirty()
    assert done == {"days": 2, "customers": 1}
    assert not DirtyDay.objects.exists() and not DirtyCustomer.objects.exists()
    after = snapshot(SalesDay, OrderDay)
    added = {k: sorted(set(after[k]) - set(before[k])) for k in after}
    removed = {k: sorted(set(before[k]) - set(after[k])) for k in after}
    assert removed == {"SalesDay": [], "OrderDay": []}
    assert [row[0] for row in added["OrderDay"]] == ["2026-11-20"]
    assert CustomerSummary.objects.get(customer=world.customers["bob"]).orders == 2


def test_a_late_return_reopens_only_its_day(world):
    rollups.refresh(full=True)
    before = snapshot(SalesDay, OrderDay, RefundDay)
    # O3 (2 Dec) gets a second return, completed now: today's figures change, not 2 Dec's.
    now = timezone.now()
    ret = f.returned(world.orders[3], world.orders[3].lines.get(), 1, "30.00", now)
    receivers.return_changed(
        {"return_id": ret.pk, "order_id": world.orders[3].pk, "customer_id": ret.customer_id}
    )
    today = now.astimezone(dt.UTC).date()  # the reporting time zone is Lisbon: UTC now
    assert list(DirtyDay.objects.values_list("store_id", "day")) == [(None, today)]
    rollups.refresh_dirty()
    after = snapshot(SalesDay, OrderDay, RefundDay)
    for table in after:
        gone = set(before[table]) - set(after[table])
        assert not gone, f"{table} lost rows of other days: {gone}"
    row = SalesDay.objects.get(store=None, day=today)
    assert (row.units_returned, row.returned_value) == (1, D("30.00"))
    assert RefundDay.objects.get(store=None, day=today).amount == D("30.00")
    # alice's purchase of O3 is now worth 90 − 60.
    assert PurchaseFact.objects.get(order=world.orders[3]).net == D("30.00")


def test_a_change_during_a_refresh_is_not_lost(world, monkeypatch):
    """The dirty row is deleted before the key is re-computed: a mark made meanwhile
    stays for the next run."""
    rollups.mark_days([(world.sh.pk, dt.date(2026, 12, 2))])
    original = rollups.refresh_day

    def refresh_and_mark_meanwhile(store_id, day):
        original(store_id, day)
        rollups.mark_days([(store_id, day)])

    monkeypatch.setattr(rollups, "refresh_day", refresh_and_mark_meanwhile)
    rollups.refresh_dirty(limit=1)
    assert list(DirtyDay.objects.values_list("store_id", "day")) == [
        (world.sh.pk, dt.date(2026, 12, 2))
    ]


def test_a_customer_merge_moves_the_duplicate_rollups_to_the_survivor(
    world, django_capture_on_commit_callbacks
):
    from retail.services import customer_merge

    alice = world.customers["alice"]
    twin = factories.CustomerFactory(name="Alice (till)")
    f.sale(
        "store",
        f.at("2026-11-15 10:00"),
        [(world.variants["b"], 1, "30.00")],
        customer=twin,
        store=world.ny,
    )
    rollups.refresh(full=True)
    assert CustomerSummary.objects.get(customer=twin).orders == 1
    with django_capture_on_commit_callbacks(execute=True):
        customer_merge(survivor=alice, duplicate=twin, by=None)
    assert set(DirtyCustomer.objects.values_list("customer_id", flat=True)) == {alice.pk, twin.pk}
    rollups.refresh_dirty()
    assert not CustomerSummary.objects.filter(customer=twin).exists()
    assert not PurchaseFact.objects.filter(customer=twin).exists()
    summary = CustomerSummary.objects.get(customer=alice)
    # O1 170 + O3 (90 − 30) + the twin's 30.
    assert (summary.orders, summary.store_orders, summary.net) == (3, 2, D("260.00"))


def test_the_beat_marks_customers_with_new_browsing(world):
    rollups.refresh(full=True)
    assert CustomerSummary.objects.get(customer=world.customers["gina"]).views == 0
    f.view(world.customers["gina"], world.variants["a"], timezone.now() - dt.timedelta(minutes=5))
    rollups.refresh()
    assert CustomerSummary.objects.get(customer=world.customers["gina"]).views == 1


def test_a_till_sale_through_the_order_service_reaches_the_rollups(
    store, django_capture_on_commit_callbacks
):
    """End to end: `order_place` records `order_placed` in the outbox; after commit the
    insights receiver marks the day; the beat task re-computes it."""
    from tests.clienteling.factories import sale

    customer = factories.CustomerFactory()
    variant = factories.VariantFactory(price=D("59.90"))
    rollups.refresh(full=True)
    with django_capture_on_commit_callbacks(execute=True):
        order = sale(customer, variant, store=store)
    local = order.created_at.astimezone(store.tz).date()
    assert DirtyDay.objects.filter(store=store, day=local).exists()
    rollups.refresh()
    row = OrderDay.objects.get(store=store, day=local, channel="store")
    assert (row.orders, row.net) == (1, D("59.90"))
    assert CustomerSummary.objects.get(customer=customer).segment == "store_only"


def test_a_survivor_refreshed_before_its_duplicate_takes_over_the_orders(world):
    from retail.services import customer_merge

    alice = world.customers["alice"]
    twin = factories.CustomerFactory(name="Alice (app)")
    order = f.sale(
        "app", f.at("2026-11-16 10:00"), [(world.variants["a"], 1, "50.00")], customer=twin
    )
    rollups.refresh(full=True)
    customer_merge(survivor=alice, duplicate=twin, by=None)
    rollups.refresh_customers([alice.pk])  # the duplicate waits in another batch
    assert PurchaseFact.objects.get(order=order).customer_id == alice.pk
    rollups.refresh_customers([twin.pk])
    assert not CustomerChannel.objects.filter(customer=twin).exists()
    assert PurchaseFact.objects.get(order=order).customer_id == alice.pk


def test_an_erased_customer_keeps_no_rollups_and_a_refresh_brings_none_back(world):
    from retail import customer_data

    gina = world.customers["gina"]
    rollups.refresh(full=True)
    handler = customer_data.handler("insights")
    assert handler.export(gina)["segment"] == "web_only"
    assert handler.export(gina)["channels"][0]["net_revenue"] == "50.00"
    handler.erase(gina)
    type(gina).objects.filter(pk=gina.pk).update(erased_at=timezone.now())
    rollups.refresh_customers([gina.pk])
    for model in (CustomerChannel, CustomerSummary, PurchaseFact, BrowseDay):
        assert not model.objects.filter(customer=gina).exists(), model.__name__


def test_browsing_that_arrives_late_reopens_the_store_purchase_it_explains(world):
    rollups.refresh(full=True)
    o2 = OrderDay.objects.get(store=world.ny, channel="store", day=dt.date(2026, 12, 1))
    assert o2.webroomed_orders == 0
    # bob's view of B (what O2 bought, 8.5 h later) reaches Aisle only now.
    f.view(world.customers["bob"], world.variants["b"], f.at("2026-12-01 20:00"))
    rollups.refresh()
    o2 = OrderDay.objects.get(store=world.ny, channel="store", day=dt.date(2026, 12, 1))
    assert (o2.webroomed_orders, o2.webroomed_net) == (1, D("30.00"))
    assert CustomerSummary.objects.get(customer=world.customers["bob"]).segment == "webroomers"


def test_a_kiosk_visit_or_pickup_check_in_before_an_online_order_is_showrooming(world):
    a = world.variants["a"]
    kiosk_first = factories.CustomerFactory(name="Ivy")
    f.sale(
        "kiosk", f.at("2026-11-28 10:00"), [(a, 1, "50.00")], customer=kiosk_first, store=world.sh
    )
    f.sale("app", f.at("2026-12-01 10:00"), [(a, 1, "50.00")], customer=kiosk_first)
    checked_in = factories.CustomerFactory(name="Jo")
    pickup = f.sale(
        "web", f.at("2026-11-20 10:00"), [(a, 1, "50.00")], customer=checked_in, store=world.ny
    )
    f.FulfillmentFactory(
        order=pickup, pickup_store=world.ny, checked_in_at=f.at("2026-11-25 10:00")
    )
    f.sale("social", f.at("2026-12-01 11:00"), [(a, 1, "50.00")], customer=checked_in)
    rollups.refresh(full=True)
    app = OrderDay.objects.get(store=None, channel="app", day=dt.date(2026, 12, 1))
    social = OrderDay.objects.get(store=None, channel="social", day=dt.date(2026, 12, 1))
    assert (app.showroomed_orders, social.showroomed_orders) == (1, 1)
    # jo's earlier web pickup followed no service: not showroomed.
    assert OrderDay.objects.get(store=world.ny, channel="web").showroomed_orders == 0
    segments = dict(
        CustomerSummary.objects.filter(customer__in=[kiosk_first, checked_in]).values_list(
            "customer__name", "segment"
        )
    )
    assert segments == {"Ivy": "showroomers", "Jo": "showroomers"}


def test_a_pickup_collected_later_reopens_its_order_day_and_today(world):
    rollups.refresh(full=True)
    order = f.sale(
        "web", f.at("2026-12-02 09:30"), [(world.variants["lamp"], 1, "80.00")],
        customer=world.customers["erin"], store=world.sh,
    )  # fmt: skip
    pickup = f.FulfillmentFactory(
        order=order, pickup_store=world.sh, state="ready", ready_at=f.at("2026-12-02 11:30")
    )
    rollups.refresh_day(world.sh.pk, dt.date(2026, 12, 2))
    fact = FulfilmentFact.objects.get(fulfillment=pickup)
    assert (fact.state, fact.hours_to_ready, fact.hours_held) == ("ready", 2.0, None)
    # Collected three days later; the event names the order by its reference.
    type(pickup).objects.filter(pk=pickup.pk).update(
        state="collected", collected_at=f.at("2026-12-05 11:30")
    )
    DirtyDay.objects.all().delete()
    receivers.order_changed({"order_ref": order.order_ref, "fulfillment_id": pickup.pk})
    now = timezone.now()
    assert set(DirtyDay.objects.values_list("store_id", "day")) == {
        (world.sh.pk, dt.date(2026, 12, 2)),
        (world.sh.pk, now.astimezone(dt.UTC).date()),  # Lisbon's today (the web order)
        (world.sh.pk, now.astimezone(world.sh.tz).date()),  # Shanghai's today
    }
    rollups.refresh_dirty()
    fact = FulfilmentFact.objects.get(fulfillment=pickup)
    assert (fact.state, fact.hours_held) == ("collected", 72.0)


def test_a_return_without_a_receipt_counts_at_the_receiving_store_on_its_day(world):
    rollups.refresh(full=True)
    ret = f.ReturnFactory(
        order=None,
        customer=world.customers["bob"],
        store=world.ny,
        completed_at=f.at("2026-12-03 02:00"),  # 21:00 on 2 Dec in New York
        refund_amount=D("25.00"),
    )
    f.ReturnLineFactory(
        ret=ret,
        order_line=None,
        variant=world.variants["b"],
        sku=world.variants["b"].sku,
        quantity=1,
        refund_amount=D("25.00"),
    )
    receivers.return_changed({"return_id": ret.pk, "order_id": None, "store_id": world.ny.pk})
    assert (world.ny.pk, timezone.now().astimezone(world.ny.tz).date()) in set(
        DirtyDay.objects.values_list("store_id", "day")
    )
    rollups.refresh_day(world.ny.pk, dt.date(2026, 12, 2))
    row = SalesDay.objects.get(store=world.ny, channel="store", day=dt.date(2026, 12, 2))
    assert (row.units, row.units_returned, row.returned_value) == (0, 1, D("25.00"))
