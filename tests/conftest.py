"""Fixtures every Aisle test may use."""

from __future__ import annotations

import copy
import os

import pytest
from django.core.cache import cache
from django.db import connection

from retail.celery import app as celery_app
from tests import factories

# Tests run Celery tasks eagerly whatever the environment says, except the tests
# that start a real worker (they switch this off themselves).
celery_app.conf.task_always_eager = True
celery_app.conf.task_eager_propagates = True


def _replica_mirroring_default() -> None:
    """A `replica` alias for the read-replica tests, mirroring `default` as Django's TEST
    MIRROR does (the same test database, through a connection of its own). No read goes
    there unless a test sets AISLE_READ_REPLICA (tests/retail/test_read_replica.py): a
    replica connection cannot see what a test wrote in its still-open transaction."""
    from django.conf import settings
    from django.db import connections

    if "replica" not in connections.settings:
        replica = copy.deepcopy(connections.settings["default"])
        replica["TEST"] = {**replica["TEST"], "MIRROR": "default"}
        connections.settings["replica"] = replica
    settings.AISLE_READ_REPLICA = ""


_replica_mirroring_default()


def pytest_collection_modifyitems(config, items):
    """`postgres` tests run whenever DATABASE_URL points at PostgreSQL."""
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _english():
    """Each test starts in English; a test that switches language cannot leak it."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_demo_history(settings):
    """`seed_demo` without its year of history and the rollup rebuild that follows it
    (a minute or more); the tests of that history turn it on
    (tests/insights/test_demo_history.py)."""
    settings.AISLE_DEMO_HISTORY = False


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and cached values live in the cache; each test starts clean (and so
    do the catalogue's translated names each process keeps)."""
    from retail import catalogue

    cache.clear()
    catalogue.forget()
    yield
    cache.clear()
    catalogue.forget()


@pytest.fixture
def broker_down(monkeypatch):
    """The broker refuses every publish: Celery is not eager, so the outbox tries the
    broker, fails and leaves its entries pending. `monkeypatch.undo()` brings it back
    (eager again, so the relay then runs what waits in place)."""
    from retail import outbox

    def refuse(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(outbox, "_hand_to_broker", refuse)
    monkeypatch.setattr(outbox, "_eager", lambda: False)
    yield
    outbox._paused_until = 0.0


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def store(db):
    return factories.StoreFactory(code="S01", name="Paris Rivoli")


@pytest.fixture
def other_store(db):
    return factories.StoreFactory(code="S02", name="Paris Opéra")


@pytest.fixture
def associate(store):
    return factories.StaffFactory(role="associate", home_store=store)


@pytest.fixture
def manager(store):
    return factories.StaffFactory(role="store_manager", home_store=store)


@pytest.fixture
def kiosk_user(store):
    return factories.StaffFactory(role="kiosk", home_store=store)


@pytest.fixture
def hq_user(db):
    return factories.StaffFactory(role="hq_admin", home_store=None)


@pytest.fixture
def hq_client(client, hq_user):
    """A client logged in as an HQ admin whose session passed TOTP."""
    factories.login_with_totp(client, hq_user)
    return client


@pytest.fixture
def assert_ledger_reconciles(db):
    """Call at the end of a test that moves stock: every figure equals its ledger."""

    def check():
        from inventory.reconcile import ledger_drift

        drift = ledger_drift()
        assert drift == [], f"stock figures drift from the ledger: {drift}"

    return check
