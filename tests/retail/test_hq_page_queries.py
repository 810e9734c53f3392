"""The #16 HQ pages (customers search, retention, audit log, audit alerts) run a fixed
number of queries whatever the size of what they list: measured at two sizes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from retail.models import AuditLog, Customer
from tests import factories

pytestmark = pytest.mark.django_db


def queries(client, url, params=None) -> tuple[int, str]:
    """Queries of the second of two identical requests (the first warms the session)."""
    client.get(url, params or {})
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content[:500]
    return len(captured), response.content.decode()


def customers(n: int, *, prefix: str, store=None) -> list[Customer]:
    return [
        factories.CustomerFactory(
            name=f"{prefix} {i:03d}",
            email=f"{prefix.lower()}{i}@example.com",
            preferred_store=store,
        )
        for i in range(n)
    ]


def views(actor, store, people, *, at) -> None:
    AuditLog.objects.bulk_create(
        AuditLog(
            actor=actor,
            store=store,
            action="customer.view",
            target_type="retail.customer",
            target_id=str(c.pk),
            at=at,
        )
        for c in people
    )


def test_customer_search_costs_the_same_for_3_and_40_matches(hq_client, store):
    customers(3, prefix="Smallname", store=store)
    customers(40, prefix="Bigname", store=store)
    url = reverse("hq_customers:search")
    small, body_small = queries(hq_client, url, {"q": "Smallname"})
    large, body_large = queries(hq_client, url, {"q": "Bigname"})
    assert "Smallname 002" in body_small
    assert "Bigname 000" in body_large
    assert small == large


def test_retention_costs_the_same_for_3_and_40_inactive_customers(hq_client, store):
    long_ago = timezone.now() - dt.timedelta(days=365 * 5)
    url = reverse("hq_customers:retention")
    few = customers(3, prefix="Dormant")
    Customer.objects.filter(pk__in=[c.pk for c in few]).update(
        created_at=long_ago, updated_at=long_ago
    )
    small, body_small = queries(hq_client, url)
    many = customers(37, prefix="Sleeper")
    Customer.objects.filter(pk__in=[c.pk for c in many]).update(
        created_at=long_ago, updated_at=long_ago
    )
    large, body_large = queries(hq_client, url)
    assert "Dormant 000" in body_small
    assert "Dormant 000" in body_large and "Sleeper 000" in body_large
    assert "Page 1 of 2" in body_large
    assert small == large


def test_audit_log_costs_the_same_for_3_and_60_rows(hq_client, store, associate):
    url = reverse("audit_hq:log")
    now = timezone.now()
    views(associate, store, customers(3, prefix="Seen"), at=now)
    small, body_small = queries(hq_client, url)
    other = factories.UserFactory(email="second.viewer@example.com")
    views(other, store, customers(57, prefix="Looked"), at=now)
    large, body_large = queries(hq_client, url)
    assert associate.email in body_small
    assert "second.viewer@example.com" in body_large
    assert small == large


def test_audit_alerts_cost_the_same_for_one_and_many_alerts(hq_client, store, settings):
    settings.AISLE_AUDIT_VIEWS_PER_HOUR = 2
    url = reverse("audit_hq:alerts")
    now = timezone.now() - dt.timedelta(minutes=5)
    first = factories.UserFactory(email="curious.one@example.com")
    views(first, store, customers(3, prefix="Alpha"), at=now)
    small, body_small = queries(hq_client, url)
    for i in range(6):
        viewer = factories.UserFactory(email=f"curious.{i}@example.com")
        views(viewer, store, customers(4, prefix=f"Group{i}"), at=now)
    large, body_large = queries(hq_client, url)
    assert "curious.one@example.com" in body_small
    assert "curious.5@example.com" in body_large
    assert small == large
