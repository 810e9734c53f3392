"""The read replica (DATABASE_REPLICA_URL, `retail.db_router`): HQ's dashboards, exports
and listings read through the `replica` alias; a write path never does.

Here the alias mirrors `default` (tests/conftest.py), so each query shows which alias
it went through; the tests that make requests commit their data (`transaction=True`),
as a replica only sees committed rows."""

from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from retail.db_router import reading_replica
from retail.models import Store
from tests import factories
from tests.retail.api.conftest import ApiClientHelper

on_replica = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def replica(settings):
    settings.AISLE_READ_REPLICA = "replica"


class Queries:
    """The queries made through each alias inside the block."""

    def __enter__(self):
        self.default = CaptureQueriesContext(connections["default"])
        self.replica = CaptureQueriesContext(connections["replica"])
        self.default.__enter__()
        self.replica.__enter__()
        return self

    def __exit__(self, *exc):
        self.replica.__exit__(*exc)
        self.default.__exit__(*exc)


@pytest.mark.django_db(transaction=True)
def test_reads_go_to_the_replica_only_inside_the_context(replica):
    assert Store.objects.all().db == "default"
    with reading_replica():
        assert Store.objects.all().db == "replica"
        # A read inside a transaction (its own writes, row locks) stays on `default`.
        with transaction.atomic():
            assert Store.objects.all().db == "default"
    assert Store.objects.all().db == "default"


def test_without_a_replica_the_context_changes_nothing(settings):
    settings.AISLE_READ_REPLICA = ""
    with reading_replica():
        assert Store.objects.all().db == "default"


@on_replica
def test_hq_dashboard_reads_through_the_replica(replica, hq_client, store):
    with Queries() as queries:
        response = hq_client.get(reverse("insights_hq:dashboard"))
    assert response.status_code == 200
    assert len(queries.replica) > 0
    # The dashboard's own reads all went to the replica; `default` only served the
    # session, the signed-in user and HQ's second factor, before the view.
    replica_tables = " ".join(q["sql"] for q in queries.replica)
    assert "insights_" in replica_tables
    assert not any("insights_" in q["sql"] for q in queries.default)


@on_replica
def test_hq_csv_export_streams_its_rows_from_the_replica(replica, hq_client, store):
    with Queries() as queries:
        response = hq_client.get(reverse("audit_hq:csv"))
        body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200
    assert body.splitlines()[0]
    # The export's rows (the audit log) were read through the replica, while the
    # audit row that records the export itself was written to `default`.
    assert any("retail_auditlog" in q["sql"] for q in queries.replica)
    assert any(
        q["sql"].startswith("INSERT") and "retail_auditlog" in q["sql"] for q in queries.default
    )
    assert not any(q["sql"].startswith(("INSERT", "UPDATE", "DELETE")) for q in queries.replica)


@on_replica
def test_hq_listing_reads_through_the_replica(replica, hq_client, store):
    with Queries() as queries:
        response = hq_client.get(reverse("retail:hq_overview"))
    assert response.status_code == 200
    assert any("retail_store" in q["sql"] for q in queries.replica)


@on_replica
def test_placing_an_order_never_reads_the_replica(replica, store):
    factories.store_location(store)
    jumper = factories.VariantFactory(sku="JUMPER-M", price=Decimal("59.90"))
    factories.give_stock(store.stock_location, jumper, 2)
    factories.CustomerFactory(customer_ref="WEB-C1")
    _client, key = factories.api_client("orders:write", "orders:read", channels=["web"])
    shop = ApiClientHelper(key)
    order = {
        "order_ref": "WEB-1001",
        "channel": "web",
        "customer_ref": "WEB-C1",
        "lines": [{"sku": "JUMPER-M", "quantity": 1, "unit_price": "59.90"}],
        "fulfillment": {"method": "pickup", "store": "S01"},
        "payment": {"tender": "card", "amount": "59.90", "reference": "psp-1"},
    }
    with Queries() as queries:
        created = shop.post("/api/v1/orders/", order)
        again = shop.post("/api/v1/orders/", order)
    assert created.status_code == 201, created.json()
    assert again.status_code == 200
    assert len(queries.default) > 0
    assert len(queries.replica) == 0
