"""Recommendations: co-occurrence from sessions and purchases, reasons that match the
data behind them (Done when 3), never what was bought, only what can be had."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from clienteling import profile, recommendations
from clienteling.models import ProductAffinity
from tests import factories
from tests.clienteling.factories import BrowsingEventFactory, sale

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 20, 15, 0, tzinfo=dt.UTC)


def _stocked(store, **kwargs):
    variant = factories.VariantFactory(**kwargs)
    factories.give_stock(factories.store_location(store), variant, 4)
    return variant


def test_sessions_are_cut_at_30_minute_gaps():
    a, b, c = (factories.VariantFactory() for _ in range(3))
    visitor = factories.CustomerFactory()
    start = timezone.now() - dt.timedelta(days=1)
    BrowsingEventFactory(customer=visitor, variant=a, occurred_at=start)
    BrowsingEventFactory(customer=visitor, variant=b, occurred_at=start + dt.timedelta(minutes=29))
    # 31 minutes after the last event: a new session, so c never pairs with a or b.
    BrowsingEventFactory(customer=visitor, variant=c, occurred_at=start + dt.timedelta(minutes=60))
    call_command("rebuild_recommendations")
    pairs = set(ProductAffinity.objects.values_list("product_id", "other_id", "sessions"))
    pa, pb = a.product_id, b.product_id
    assert pairs == {(pa, pb, 1), (pb, pa, 1)}


def test_reason_states_the_real_view_count_and_date(store):
    """Viewed 3 times this week (and 2 more times earlier): the reason says 3 and the
    day of the last view in store time."""
    customer = factories.CustomerFactory(sizes={"top": "M"}, preferred_store=store)
    jacket = _stocked(store, size="M", product__name="Quilted jacket")
    with time_machine.travel(NOW, tick=False):
        now = timezone.now()
        for days in (20, 12, 5, 3, 1):
            BrowsingEventFactory(
                customer=customer, variant=jacket, occurred_at=now - dt.timedelta(days=days)
            )
        data = profile.build(customer, store)
    [rec] = data["recommendations"]
    assert rec["name"] == "Quilted jacket"
    last = (NOW - dt.timedelta(days=1)).strftime("%-d %b %Y")
    assert rec["reasons"][0] == f"Viewed 3 times this week, last on {last}"
    assert "In size M on the shelf here (4)" in rec["reasons"]


def test_often_bought_with_names_the_purchase_and_its_month(store):
    customer = factories.CustomerFactory(sizes={"top": "M"})
    jacket = _stocked(store, size="M", product__name="Field jacket")
    scarf = _stocked(store, size="M", product__name="Wool scarf")
    # Other customers bought the jacket with the scarf.
    for _ in range(2):
        buyer = factories.CustomerFactory()
        sale(buyer, jacket, store=store)
        sale(buyer, scarf, store=store)
    with time_machine.travel(NOW, tick=False):
        sale(customer, jacket, store=store, when=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC))
        recommendations.rebuild()
        data = profile.build(customer, store)
    names = [r["name"] for r in data["recommendations"]]
    assert "Field jacket" not in names  # never what they already bought
    scarf_rec = next(r for r in data["recommendations"] if r["name"] == "Wool scarf")
    assert scarf_rec["reasons"][0] == "Often bought with the Field jacket bought in March 2026"
    affinity = ProductAffinity.objects.get(product=jacket.product, other=scarf.product)
    assert affinity.baskets == 2


def test_only_what_is_here_or_orderable_is_recommended(store):
    customer = factories.CustomerFactory()
    gone = factories.VariantFactory(product__name="Sold-out vase")
    for days in (1, 2):
        BrowsingEventFactory(
            customer=customer, variant=gone, occurred_at=timezone.now() - dt.timedelta(days=days)
        )
    data = profile.build(customer, store)
    assert data["recommendations"] == []
    assert data["viewed"][0]["availability"] == "Out of stock in the network"


def test_no_history_gets_this_stores_best_sellers_said_as_such(store):
    popular = _stocked(store, size="M", product__name="Linen shirt")
    for _ in range(3):
        sale(factories.CustomerFactory(), popular, store=store)
    newcomer = factories.CustomerFactory(sizes={"top": "M"})
    data = profile.build(newcomer, store)
    assert data["recommendation_kind"] == "store_best"
    [rec] = data["recommendations"]
    assert rec["name"] == "Linen shirt"
    assert rec["reasons"][0] == "A best seller at this store"
    assert rec["reasons"][1].startswith("In size M on the shelf here")


def test_a_large_ingest_queues_a_rebuild_with_a_worker_but_never_in_eager_mode():
    from unittest import mock

    from clienteling import ingest
    from retail.celery import app as celery_app
    from retail.models import OutboxEntry

    ingest._count_for_rebuild(ingest.REBUILD_AFTER)
    assert not OutboxEntry.objects.exists()  # eager: only the schedule and the command
    celery_app.conf.task_always_eager = False  # as with a worker
    try:
        with mock.patch("retail.outbox.publish"):
            ingest._count_for_rebuild(ingest.REBUILD_AFTER - 1)
            assert not OutboxEntry.objects.exists()
            ingest._count_for_rebuild(1)
    finally:
        celery_app.conf.task_always_eager = True
    entry = OutboxEntry.objects.get()
    assert entry.name == "clienteling.tasks.recommendations_rebuild"
