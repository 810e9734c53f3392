"""Merging two customer profiles: everything registered moves; a tombstone remains."""

import datetime as dt

import pytest
from django.utils import timezone

from retail import customer_data, services
from retail.models import AuditLog, Customer, OutboundMessage, OutboxEntry
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(store):
    old = timezone.now() - dt.timedelta(days=30)
    survivor = factories.CustomerFactory(
        name="Mei Lin Chen",
        customer_ref="WEB-1",
        email="",
        tracking_consent=True,
        tracking_consent_at=old,
        marketing_consent=False,
        marketing_consent_at=old,
    )
    duplicate = factories.CustomerFactory(
        name="Mei Chen",
        customer_ref="APP-9",
        email="mei@example.com",
        preferred_store=store,
        tracking_consent=False,
        tracking_consent_at=old + dt.timedelta(days=1),  # the more recent decision
        marketing_consent=True,
        marketing_consent_at=old - dt.timedelta(days=1),
    )
    OutboundMessage.objects.create(customer=duplicate, template="customer_welcome", key="m1")
    return survivor, duplicate


def test_merge_moves_registered_data_keeps_latest_consents_and_leaves_a_tombstone(pair, hq_user):
    survivor, duplicate = pair
    moved = []
    customer_data.register(
        "test.rows", merge=lambda survivor, duplicate: moved.append((survivor.pk, duplicate.pk))
    )
    try:
        services.customer_merge(survivor=survivor, duplicate=duplicate, by=hq_user)
    finally:
        customer_data._handlers.pop("test.rows")
    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    assert moved == [(survivor.pk, duplicate.pk)]
    assert OutboundMessage.objects.get().customer == survivor
    assert survivor.tracking_consent is False  # the duplicate's decision was more recent
    assert survivor.marketing_consent is False  # the survivor's was
    assert survivor.email == "mei@example.com"
    assert duplicate.merged_into == survivor
    assert services.customer_follow_merges(Customer.objects.get(customer_ref="APP-9")) == survivor
    assert AuditLog.objects.filter(action="customer.merge", target_id=str(survivor.pk)).exists()
    assert OutboxEntry.objects.filter(name="customer_merged").exists()
    assert list(Customer.objects.search("Mei")) == [survivor]


def test_merge_into_itself_or_a_tombstone_is_refused(pair, hq_user):
    survivor, duplicate = pair
    with pytest.raises(services.MergeError):
        services.customer_merge(survivor=survivor, duplicate=survivor, by=hq_user)
    services.customer_merge(survivor=survivor, duplicate=duplicate, by=hq_user)
    third = factories.CustomerFactory()
    with pytest.raises(services.MergeError):
        services.customer_merge(survivor=duplicate, duplicate=third, by=hq_user)


def test_hq_merges_from_admin_after_a_confirmation_page(pair, hq_client):
    survivor, duplicate = pair
    selected = {"action": "merge_customers", "_selected_action": [survivor.pk, duplicate.pk]}
    page = hq_client.post("/admin/retail/customer/", selected)
    assert page.status_code == 200
    body = page.content.decode()
    assert "retail.messages: 1" in body
    assert not Customer.objects.filter(merged_into__isnull=False).exists()
    hq_client.post(
        "/admin/retail/customer/", {**selected, "confirm": "yes", "survivor": survivor.pk}
    )
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == survivor.pk


def test_orders_follow_a_merge(pair, hq_user):
    from orders.models import Order

    survivor, duplicate = pair
    Order.objects.create(
        order_ref="O-1", channel="web", customer=duplicate, currency="EUR", subtotal=0, total=0
    )
    assert ("orders", 1) in services.merge_preview(survivor=survivor, duplicate=duplicate)
    services.customer_merge(survivor=survivor, duplicate=duplicate, by=hq_user)
    assert Order.objects.get().customer == survivor
