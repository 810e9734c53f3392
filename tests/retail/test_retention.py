"""Issue #16, retention: sent messages' bodies after N days, anonymous visitors'
browsing after N days, customers inactive for N years listed for HQ; run by beat
daily and shown in HQ."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from clienteling.models import BrowsingEvent
from retail import retention
from retail.models import Customer, MessageState, OutboundMessage
from tests import factories

pytestmark = pytest.mark.django_db


def message(customer, *, days_ago: int, state=MessageState.SENT) -> OutboundMessage:
    return OutboundMessage.objects.create(
        customer=customer,
        template="customer_welcome",
        key=f"k-{uuid.uuid4()}",
        context={"first_name": "A"},
        to_address=customer.email,
        subject="Welcome",
        body="Dear A",
        state=state,
        created_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def event(*, days_ago: int, customer=None, anonymous_id="anon-1") -> BrowsingEvent:
    return BrowsingEvent.objects.create(
        event_id=uuid.uuid4(),
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
        kind="product_view",
        channel="web",
        customer=customer,
        anonymous_id=anonymous_id,
    )


def test_the_daily_task_is_scheduled():
    assert settings.CELERY_BEAT_SCHEDULE["retail-retention"]["task"] == (
        "retail.retention.retention_daily"
    )


def test_old_message_bodies_go_recent_and_queued_ones_stay(settings):
    settings.AISLE_RETENTION_MESSAGE_DAYS = 30
    customer = factories.CustomerFactory()
    old = message(customer, days_ago=31)
    recent = message(customer, days_ago=29)
    queued = message(customer, days_ago=31, state=MessageState.QUEUED)
    result = retention.retention_run()
    assert result["messages"] == 1
    old.refresh_from_db()
    assert (old.body, old.subject, old.to_address, old.context) == ("", "", "", {})
    assert old.state == MessageState.SENT  # the log line stays
    for kept in (recent, queued):
        kept.refresh_from_db()
        assert kept.body == "Dear A"
    assert retention.retention_run()["messages"] == 0  # safe to run again


def test_anonymous_browsing_goes_after_its_window_known_customers_keep_theirs(settings):
    settings.AISLE_RETENTION_ANONYMOUS_DAYS = 10
    customer = factories.CustomerFactory(tracking_consent=True)
    old_anonymous = event(days_ago=11)
    new_anonymous = event(days_ago=9)
    known = event(days_ago=11, customer=customer)
    result = retention.retention_run()
    assert result["anonymous"] == {"clienteling.anonymous_browsing": 1}
    assert not BrowsingEvent.objects.filter(pk=old_anonymous.pk).exists()
    assert BrowsingEvent.objects.filter(pk__in=[new_anonymous.pk, known.pk]).count() == 2


def test_inactive_customers_are_listed_not_erased(settings, store):
    from orders.models import Order

    settings.AISLE_RETENTION_INACTIVE_YEARS = 2
    long_ago = timezone.now() - dt.timedelta(days=3 * 365)
    dormant, ordered, browsed, _recent = (factories.CustomerFactory() for _ in range(4))
    Customer.objects.filter(pk__in=[dormant.pk, ordered.pk, browsed.pk]).update(
        created_at=long_ago, updated_at=long_ago
    )
    event(days_ago=5, customer=browsed)
    Order.objects.create(
        order_ref="RECENT", channel="web", customer=ordered, currency="EUR", subtotal=1, total=1
    )
    assert list(retention.inactive_customers()) == [dormant]
    retention.retention_run()
    dormant.refresh_from_db()
    assert dormant.erased_at is None and dormant.email


def test_hq_sees_the_windows_and_the_inactive_customers(client, hq_user, settings):
    settings.AISLE_RETENTION_INACTIVE_YEARS = 1
    dormant = factories.CustomerFactory(name="Dormant Dora")
    long_ago = timezone.now() - dt.timedelta(days=800)
    Customer.objects.filter(pk=dormant.pk).update(created_at=long_ago, updated_at=long_ago)
    factories.login_with_totp(client, hq_user)
    page = client.get(reverse("hq_customers:retention"))
    assert page.status_code == 200
    assert b"Dormant Dora" in page.content
    assert reverse("hq_customers:detail", args=[dormant.pk]).encode() in page.content
