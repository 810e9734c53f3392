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
    rows = {what: (one, two) for what, one, two in page.context["rows"]}
    assert rows["Messages sent to the customer"] == ("0", "1")  # side by side, in words
    body = page.content.decode()
    assert "checked" not in body.split('id="merge-comparison"')[1].split("</thead>")[0]
    assert 'id="merge-cancel"' in body and "/admin/retail/customer/" in body
    assert not Customer.objects.filter(merged_into__isnull=False).exists()
    unchosen = hq_client.post("/admin/retail/customer/", {**selected, "confirm": "yes"})
    assert (
        unchosen.status_code == 400 and "Choose which profile stays." in unchosen.content.decode()
    )
    assert not Customer.objects.filter(merged_into__isnull=False).exists()
    hq_client.post(
        "/admin/retail/customer/", {**selected, "confirm": "yes", "survivor": survivor.pk}
    )
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == survivor.pk


def test_a_merged_away_profile_opens_the_survivor_everywhere(
    pair, hq_client, hq_user, client, associate
):
    """Finding 2: a merged-away profile still opened with stale data."""
    survivor, duplicate = pair
    services.customer_merge(survivor=survivor, duplicate=duplicate, by=hq_user)
    response = hq_client.get(f"/admin/retail/customer/{duplicate.pk}/change/")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/retail/customer/{survivor.pk}/change/"
    page = hq_client.get(f"/admin/retail/customer/{survivor.pk}/change/").content.decode()
    assert 'name="merged_into"' not in page  # read-only, never an editable dropdown
    response = hq_client.get(f"/hq/customers/{duplicate.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/hq/customers/{survivor.pk}/"
    assert hq_client.get(f"/hq/customers/{duplicate.pk}/export/").status_code == 404
    client.force_login(associate)
    response = client.get(f"/store/customers/{duplicate.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/store/customers/{survivor.pk}/"
    followed = client.get(response["Location"]).content.decode()
    assert "This profile was merged into" in followed and survivor.name in followed


def test_orders_follow_a_merge(pair, hq_user):
    from orders.models import Order

    survivor, duplicate = pair
    Order.objects.create(
        order_ref="O-1", channel="web", customer=duplicate, currency="EUR", subtotal=0, total=0
    )
    assert ("Orders", 1) in services.merge_preview(survivor=survivor, duplicate=duplicate)
    services.customer_merge(survivor=survivor, duplicate=duplicate, by=hq_user)
    assert Order.objects.get().customer == survivor
