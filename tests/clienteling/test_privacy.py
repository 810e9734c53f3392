"""Consent withdrawal deletes browsing; retention purges old events (Done when 5);
a customer merge moves events, notes and tasks."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from clienteling import services
from clienteling.models import BrowsingEvent, ClientelingSettings, FollowUpTask, Note
from clienteling.tasks import browsing_purge
from retail.models import AuditLog
from retail.services import customer_merge, customer_upsert
from tests import factories
from tests.clienteling.conftest import event
from tests.clienteling.factories import BrowsingEventFactory

pytestmark = pytest.mark.django_db


def test_withdrawing_tracking_consent_by_api_deletes_the_customers_browsing(
    django_capture_on_commit_callbacks, events_api
):
    customer = factories.CustomerFactory(tracking_consent=True)
    other = factories.CustomerFactory(tracking_consent=True)
    BrowsingEventFactory.create_batch(5, customer=customer)
    BrowsingEventFactory.create_batch(2, customer=other)
    with django_capture_on_commit_callbacks(execute=True):
        customer_upsert(
            customer_ref=customer.customer_ref, data={"consents": {"tracking": False}}, by=None
        )
    assert not BrowsingEvent.objects.filter(customer=customer).exists()
    assert BrowsingEvent.objects.filter(customer=other).count() == 2
    # New events stop too.
    response = events_api.post(
        "/api/v1/events/", {"events": [event(customer_ref=customer.customer_ref)]}
    )
    assert response.json()["dropped"] == 1
    assert not BrowsingEvent.objects.filter(customer=customer).exists()


def test_withdrawing_on_the_tablet_deletes_browsing_and_is_audited(
    client, associate, store, django_capture_on_commit_callbacks
):
    customer = factories.CustomerFactory(tracking_consent=True)
    BrowsingEventFactory.create_batch(3, customer=customer)
    client.force_login(associate)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/store/clienteling/customers/{customer.pk}/tracking/withdraw/")
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.tracking_consent is False and customer.tracking_consent_at is not None
    assert not BrowsingEvent.objects.filter(customer=customer).exists()
    assert AuditLog.objects.filter(
        action="customer.consent_withdraw", target_id=str(customer.pk), actor=associate
    ).exists()


def test_retention_purges_events_older_than_13_months_by_default():
    customer = factories.CustomerFactory()
    with time_machine.travel(dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)):
        BrowsingEventFactory(customer=customer, occurred_at=timezone.now())
    with time_machine.travel(dt.datetime(2025, 12, 1, 12, tzinfo=dt.UTC)):
        recent = BrowsingEventFactory(customer=customer, occurred_at=timezone.now())
    with time_machine.travel(dt.datetime(2026, 1, 20, 12, tzinfo=dt.UTC)):
        browsing_purge.delay()  # the beat task, run eagerly
        assert BrowsingEvent.objects.count() == 2  # 12 months and 10 days: kept
    with time_machine.travel(dt.datetime(2026, 2, 20, 12, tzinfo=dt.UTC)):
        assert services.browsing_purge() == 1
    assert list(BrowsingEvent.objects.values_list("pk", flat=True)) == [recent.pk]


def test_hq_can_shorten_the_retention_period():
    ClientelingSettings.objects.create(retention_months=1)
    old = BrowsingEventFactory(occurred_at=timezone.now() - dt.timedelta(days=40))
    kept = BrowsingEventFactory(occurred_at=timezone.now() - dt.timedelta(days=10))
    assert services.browsing_purge() == 1
    assert list(BrowsingEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not BrowsingEvent.objects.filter(pk=old.pk).exists()


def test_events_notes_and_tasks_follow_a_customer_merge(store, associate):
    survivor = factories.CustomerFactory()
    duplicate = factories.CustomerFactory()
    BrowsingEventFactory.create_batch(3, customer=duplicate)
    services.note_add(customer=duplicate, text="Likes navy", by=associate, store=store)
    services.task_create(
        customer=duplicate, store=store, title="Call back", due_on=dt.date.today(), by=associate
    )
    customer_merge(survivor=survivor, duplicate=duplicate, by=None)
    assert BrowsingEvent.objects.filter(customer=survivor).count() == 3
    assert Note.objects.get().customer == survivor
    assert FollowUpTask.objects.get().customer == survivor


def test_a_merge_that_ends_without_tracking_consent_keeps_no_browsing():
    now = timezone.now()
    survivor = factories.CustomerFactory(
        tracking_consent=True, tracking_consent_at=now - dt.timedelta(days=30)
    )
    duplicate = factories.CustomerFactory(
        tracking_consent=False, tracking_consent_at=now - dt.timedelta(days=1)
    )
    BrowsingEventFactory.create_batch(2, customer=survivor)
    BrowsingEventFactory.create_batch(2, customer=duplicate)
    customer_merge(survivor=survivor, duplicate=duplicate, by=None)
    survivor.refresh_from_db()
    assert survivor.tracking_consent is False  # the newest decision wins
    assert not BrowsingEvent.objects.exists()
