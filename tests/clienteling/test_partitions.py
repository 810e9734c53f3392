"""Issue #23, events partitioned by month: the migration keeps every row, event ids stay
exactly deduplicated, beat makes partitions ahead, retention drops whole months
(PostgreSQL); SQLite keeps its plain table and its old retention."""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid

import pytest
from django.conf import settings
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from clienteling import ingest, partitions, services, tasks
from clienteling.models import BrowsingEvent, ClientelingSettings, EventKey
from tests import factories

BEFORE = [("clienteling", "0004_note_key")]
FIELDS = (
    "id",
    "event_id",
    "occurred_at",
    "kind",
    "channel",
    "anonymous_id",
    "customer_id",
    "sku",
    "variant_id",
    "query",
    "url",
    "received_at",
)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _partition_rows() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, count(*) FROM clienteling_browsingevent GROUP BY 1"
        )
        return dict(cursor.fetchall())


def batch(n: int, *, ids=None, customer_ref=None) -> list[ingest.EventIn]:
    ids = ids or [uuid.uuid4() for _ in range(n)]
    return [
        ingest.EventIn(
            event_id=event_id,
            occurred_at=timezone.now() - dt.timedelta(minutes=5),
            kind="search",
            channel="web",
            query="linen shirt",
            customer_ref=customer_ref,
            anonymous_id=None if customer_ref else "anon-1",
        )
        for event_id in ids
    ]


def stored_event(*, received_at, occurred_at=None, customer=None) -> BrowsingEvent:
    event = BrowsingEvent(
        event_id=uuid.uuid4(),
        occurred_at=occurred_at or received_at - dt.timedelta(minutes=1),
        kind="product_view",
        channel="web",
        customer=customer,
        anonymous_id="" if customer else "anon-1",
        sku="SKU-1",
        received_at=received_at,
    )
    assert partitions.history_bulk_create([event]) == 1
    return BrowsingEvent.objects.get(event_id=event.event_id)


# --- The migration ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_row_and_field_and_makes_a_partition_per_month():
    customer = factories.CustomerFactory(tracking_consent=True)
    variant = factories.VariantFactory()
    apps = _migrate(BEFORE)
    try:
        Old = apps.get_model("clienteling", "BrowsingEvent")
        rng = random.Random(23)
        now = timezone.now().replace(microsecond=0)
        rows = []
        for n in range(3000):
            received = now - dt.timedelta(days=rng.randint(0, 150), seconds=rng.randint(0, 86399))
            known = n % 3 != 0
            rows.append(
                Old(
                    event_id=uuid.uuid4(),
                    occurred_at=received - dt.timedelta(seconds=rng.randint(0, 86400 * 40)),
                    kind=rng.choice(("product_view", "add_to_cart", "search")),
                    channel=rng.choice(("web", "app")),
                    anonymous_id="" if known else f"anon-{n % 97}",
                    customer_id=customer.pk if known else None,
                    sku="" if n % 7 == 0 else variant.sku,
                    variant_id=None if n % 7 == 0 else variant.pk,
                    query="linen\tshirt 'quoted'" if n % 7 == 0 else "",
                    url=f"https://shop.aisle.example/p/{n}",
                    received_at=received,
                )
            )
        Old.objects.bulk_create(rows, batch_size=1000)
        before = {row[0]: row for row in Old.objects.values_list(*FIELDS)}
        months = {
            partitions.partition_name(partitions.month_floor(row[-1])) for row in before.values()
        }
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert partitions.partitioned()
    after = {row[0]: row for row in BrowsingEvent.objects.values_list(*FIELDS)}
    assert after == before
    this_month = partitions.month_floor(timezone.now())
    expected = months | {
        partitions.partition_name(this_month),
        partitions.partition_name(partitions.month_add(this_month, 1)),
    }
    assert {p.name for p in partitions.partitions()} == expected
    assert len(months) >= 5
    by_partition = _partition_rows()
    assert sum(by_partition.values()) == 3000
    assert partitions.DEFAULT not in by_partition  # every row found its month
    for name, count in by_partition.items():
        start = next(p.start for p in partitions.partitions() if p.name == name)
        assert count == sum(
            1 for row in before.values() if partitions.month_floor(row[-1]) == start
        )
    assert set(EventKey.objects.values_list("event_id", flat=True)) == {
        row[1] for row in before.values()
    }
    # Resending known events after the migration: exact duplicates; new ids go on.
    known_ids = [row[1] for row in list(before.values())[:40]]
    result = ingest.ingest(batch(0, ids=known_ids + [uuid.uuid4() for _ in range(10)]))
    assert (result.accepted, result.duplicates) == (10, 40)
    assert BrowsingEvent.objects.count() == 3010
    assert min(BrowsingEvent.objects.filter(query="linen shirt").values_list("id", flat=True)) > (
        max(before)
    )
    # The ORM still finds, changes and deletes rows by id.
    first = BrowsingEvent.objects.get(pk=min(before))
    first.kind = "wishlist_add"
    first.save()
    assert BrowsingEvent.objects.get(pk=first.pk).kind == "wishlist_add"
    first.delete()
    assert not BrowsingEvent.objects.filter(pk=first.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_on_sqlite_the_migration_leaves_a_plain_table(on_postgres):
    if on_postgres:
        pytest.skip("the plain table is SQLite's")
    assert not partitions.partitioned()
    assert partitions.partitions() == []
    assert partitions.partitions_create_ahead() == []
    event = factories_event()
    with pytest.raises(Exception, match="UNIQUE"):
        BrowsingEvent.objects.create(
            event_id=event.event_id, occurred_at=event.occurred_at, kind="search", channel="web"
        )


def factories_event() -> BrowsingEvent:
    return BrowsingEvent.objects.create(
        event_id=uuid.uuid4(), occurred_at=timezone.now(), kind="search", channel="web"
    )


# --- Exact deduplication ------------------------------------------------------------


@pytest.mark.django_db
def test_two_copies_in_one_batch_and_resends_across_batches_count_exactly():
    ids = [uuid.uuid4() for _ in range(5)]
    first = ingest.ingest(batch(0, ids=ids + ids[:2]))
    assert (first.accepted, first.duplicates) == (5, 2)
    second = ingest.ingest(batch(0, ids=[*ids[2:], uuid.uuid4()]))
    assert (second.accepted, second.duplicates) == (1, 3)
    assert BrowsingEvent.objects.count() == 6
    if connection.vendor == "postgresql":
        assert EventKey.objects.count() == 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_batches_with_the_same_ids_store_each_event_once_and_count_exactly():
    threads_count = 20
    pool = [uuid.uuid4() for _ in range(600)]
    rng = random.Random(5)
    batches = []
    for _ in range(threads_count):
        ids = rng.sample(pool, 200)
        ids += ids[:3]  # two copies inside the batch too
        rng.shuffle(ids)
        batches.append(ids)
    barrier = threading.Barrier(threads_count)
    results, errors = [], []

    def send(ids):
        try:
            barrier.wait()
            results.append(ingest.ingest(batch(0, ids=ids)))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(ids,)) for ids in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    distinct = len({i for ids in batches for i in ids})
    assert sum(r.accepted for r in results) == distinct
    assert sum(r.duplicates for r in results) == sum(len(ids) for ids in batches) - distinct
    assert BrowsingEvent.objects.count() == distinct
    assert BrowsingEvent.objects.values("event_id").distinct().count() == distinct
    assert EventKey.objects.count() == distinct


# --- Partitions made ahead by beat ----------------------------------------------------


def test_the_partitions_are_made_ahead_by_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["clienteling-browsing-partitions"]
    assert entry["task"] == "clienteling.tasks.browsing_partitions_ahead"
    assert entry["schedule"] <= 86400


@pytest.mark.postgres
@pytest.mark.django_db
def test_beat_creates_the_next_months_partitions_and_twice_is_harmless():
    later = partitions.month_add(partitions.month_floor(timezone.now()), 6)
    names = [partitions.partition_name(partitions.month_add(later, n)) for n in range(3)]
    assert partitions.partitions_create_ahead(now=later + dt.timedelta(days=3)) == names
    assert partitions.partitions_create_ahead(now=later + dt.timedelta(days=3)) == []
    assert set(names) <= {p.name for p in partitions.partitions()}
    # The task itself: this month and the next two exist already (made by the migration
    # or an earlier run), and a second run changes nothing either.
    tasks.browsing_partitions_ahead.delay()
    assert tasks.browsing_partitions_ahead() == []
    stored = stored_event(received_at=later + dt.timedelta(days=40))  # lands in its month
    assert _partition_rows() == {names[1]: 1}
    assert BrowsingEvent.objects.filter(pk=stored.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_event_of_a_month_without_partition_waits_in_default_and_moves_when_it_is_made():
    far = dt.datetime(2031, 5, 17, 12, tzinfo=dt.UTC)
    event = BrowsingEvent.objects.create(
        event_id=uuid.uuid4(), occurred_at=far, kind="search", channel="web", received_at=far
    )
    assert _partition_rows() == {partitions.DEFAULT: 1}
    assert partitions.partition_create(far) is True
    assert _partition_rows() == {"clienteling_browsingevent_p2031_05": 1}
    assert BrowsingEvent.objects.get(pk=event.pk).received_at == far
    assert partitions.partition_create(far) is False


# --- Retention ------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_retention_drops_old_months_trims_the_boundary_and_prunes_event_keys():
    ClientelingSettings.objects.create(retention_months=3)
    now = dt.datetime(2031, 8, 15, 12, tzinfo=dt.UTC)
    cutoff = services.retention_cutoff(now)
    assert cutoff == dt.datetime(2031, 5, 15, 12, tzinfo=dt.UTC)
    partitions.partitions_ensure(dt.datetime(2031, 2, 1, tzinfo=dt.UTC), now)
    customer = factories.CustomerFactory(tracking_consent=True)
    old = [
        stored_event(received_at=dt.datetime(2031, month, 10, tzinfo=dt.UTC), customer=customer)
        for month in (2, 3, 4)
    ]
    boundary_old = stored_event(received_at=cutoff - dt.timedelta(days=1))
    boundary_new = stored_event(received_at=cutoff + dt.timedelta(hours=1))
    recent = stored_event(received_at=now - dt.timedelta(days=2), customer=customer)
    # Received lately, but it happened before the window: it goes too.
    late = stored_event(
        received_at=now - dt.timedelta(days=1), occurred_at=cutoff - dt.timedelta(days=30)
    )
    with connection.cursor() as cursor:
        # The rows above were written in this test's transaction: check their deferred
        # foreign keys now, as a commit would (PostgreSQL drops no table with checks due).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    deleted = services.browsing_purge(now)
    assert deleted == 5
    assert set(BrowsingEvent.objects.values_list("pk", flat=True)) == {
        boundary_new.pk,
        recent.pk,
    }
    names = {p.name for p in partitions.partitions()}
    for month in ("2031_02", "2031_03", "2031_04"):
        assert f"clienteling_browsingevent_p{month}" not in names
    assert {"clienteling_browsingevent_p2031_05", "clienteling_browsingevent_p2031_08"} <= names
    kept_keys = set(EventKey.objects.values_list("event_id", flat=True))
    assert {boundary_new.event_id, recent.event_id, late.event_id} == kept_keys
    assert not kept_keys & {e.event_id for e in [*old, boundary_old]}
    assert services.browsing_purge(now) == 0  # safe to run again


@pytest.mark.django_db
def test_on_sqlite_retention_deletes_what_occurred_before_the_window(on_postgres):
    if on_postgres:
        pytest.skip("SQLite's plain table")
    ClientelingSettings.objects.create(retention_months=3)
    now = timezone.now()
    old = BrowsingEvent.objects.create(
        event_id=uuid.uuid4(),
        occurred_at=now - dt.timedelta(days=120),
        kind="search",
        channel="web",
        received_at=now,
    )
    kept = factories_event()
    assert services.browsing_purge(now) == 1
    assert list(BrowsingEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not BrowsingEvent.objects.filter(pk=old.pk).exists()
