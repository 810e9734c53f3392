"""Every tablet action applied once (`retail.once`): the same action id sent again —
a retry, a replay from the offline queue, a double tap — is answered as the first time
and changes nothing; a foreign, tampered or malformed id applies nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clienteling.models import Note
from orders import pickup
from orders.models import FulfillmentLine
from retail import retention
from retail.models import AppliedAction
from tests import factories
from tests.orders.pickups import network, place
from tests.orders.test_concurrency import run_threads

HTMX = {"HTTP_HX_REQUEST": "true"}


def picked(f) -> int:
    return sum(
        FulfillmentLine.objects.filter(fulfillment=f).values_list("picked_quantity", flat=True)
    )


@pytest.fixture
def scarves(store):
    """A pickup of two scarves (one line, quantity 2) at the store."""
    net = network(store, shelf_units=10)
    return net, place(store, [(net["scarf"], 2)]).fulfillments.get()


def scan(client, f, code, action_id):
    return client.post(
        reverse("orders_store:scan", args=[f.pk]),
        {"code": code},
        HTTP_X_AISLE_ACTION=str(action_id),
        **HTMX,
    )


@pytest.mark.django_db
def test_the_same_scan_sent_twice_counts_once_and_answers_the_same(client, associate, scarves):
    net, f = scarves
    client.force_login(associate)
    action = uuid.uuid4()
    first = scan(client, f, net["scarf"].barcode, action)
    again = scan(client, f, net["scarf"].barcode, action)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again["X-Aisle-Replayed"] == "1" and not first.has_header("X-Aisle-Replayed")
    assert picked(f) == 1
    # A new action (the second scarf) has its own id and counts.
    scan(client, f, net["scarf"].barcode, uuid.uuid4())
    assert picked(f) == 2


@pytest.mark.django_db
def test_the_id_may_come_as_a_form_field(client, associate, store):
    customer = factories.CustomerFactory()
    client.force_login(associate)
    url = reverse("clienteling:note_add", args=[customer.pk])
    action = str(uuid.uuid4())
    for _ in range(2):
        client.post(url, {"text": "Prefers wool, size M", "action_id": action}, **HTMX)
    assert Note.objects.filter(customer=customer).count() == 1


@pytest.mark.django_db
def test_a_refusal_is_recorded_and_replayed_as_it_was(client, associate, scarves):
    net, f = scarves
    client.force_login(associate)
    action = uuid.uuid4()
    wrong = scan(client, f, net["jumper"].barcode, action)
    assert wrong.status_code == 400 and "Wrong item" in wrong.content.decode()
    # Replayed after a correct scan: the same refusal, and the correct scan stays one.
    scan(client, f, net["scarf"].barcode, uuid.uuid4())
    replay = scan(client, f, net["jumper"].barcode, action)
    assert (replay.status_code, replay.content) == (400, wrong.content)
    assert picked(f) == 1


@pytest.mark.django_db
def test_someone_elses_action_id_applies_nothing(client, associate, store, scarves):
    net, f = scarves
    action = uuid.uuid4()
    client.force_login(associate)
    scan(client, f, net["scarf"].barcode, action)
    # The next person on the same tablet replays the queue: refused, nothing applied.
    colleague = Client()
    colleague.force_login(factories.StaffFactory(role="associate", home_store=store))
    response = scan(colleague, f, net["scarf"].barcode, action)
    assert response.status_code == 409
    assert response.json()["error"] == "action_foreign"
    assert picked(f) == 1
    # The same id sent to another page (tampered) is refused too.
    other = place(store, [(net["scarf"], 1)], ref="WEB-2").fulfillments.get()
    assert scan(client, other, net["scarf"].barcode, action).status_code == 409
    assert picked(other) == 0


@pytest.mark.django_db
def test_a_malformed_id_is_refused_and_applies_nothing(client, associate, scarves):
    net, f = scarves
    client.force_login(associate)
    response = scan(client, f, net["scarf"].barcode, "not-a-uuid")
    assert response.status_code == 400
    assert response.json()["error"] == "action_id_invalid"
    assert picked(f) == 0 and not AppliedAction.objects.exists()


@pytest.mark.django_db
def test_an_action_that_failed_is_not_recorded_so_a_retry_applies_it(
    client, associate, scarves, monkeypatch
):
    net, f = scarves
    client.force_login(associate)
    client.raise_request_exception = False
    real = pickup.pickup_scan
    calls = []

    def failing_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(pickup, "pickup_scan", failing_once)
    action = uuid.uuid4()
    assert scan(client, f, net["scarf"].barcode, action).status_code == 500
    assert not AppliedAction.objects.filter(pk=action).exists() and picked(f) == 0
    assert scan(client, f, net["scarf"].barcode, action).status_code == 200
    assert picked(f) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_copies_arriving_at_once_apply_once_and_get_the_same_answer(monkeypatch):
    store = factories.StoreFactory(code="S01")
    associate = factories.StaffFactory(role="associate", home_store=store)
    net = network(store, shelf_units=10)
    f = place(store, [(net["scarf"], 2)]).fulfillments.get()
    real = pickup.pickup_scan

    def slow(**kwargs):
        outcome = real(**kwargs)
        import time

        time.sleep(0.3)  # the first copy still holds its transaction as the others arrive
        return outcome

    monkeypatch.setattr(pickup, "pickup_scan", slow)
    action = uuid.uuid4()

    def send(_i):
        client = Client()
        client.force_login(associate)
        response = scan(client, f, net["scarf"].barcode, action)
        return response.status_code, response.content, response.has_header("X-Aisle-Replayed")

    results, errors = run_threads(send, 4)
    assert errors == []
    assert {(status, body) for status, body, _ in results} == {(200, results[0][1])}
    assert sorted(replayed for *_, replayed in results) == [False, True, True, True]
    assert picked(f) == 1


@pytest.mark.django_db
def test_applied_actions_are_forgotten_after_the_kept_hours(associate, store, settings):
    settings.AISLE_ACTION_KEEP_HOURS = 24
    now = timezone.now()
    old = AppliedAction.objects.create(
        pk=uuid.uuid4(), user=associate, store=store, path="/x/", status=200,
        applied_at=now - dt.timedelta(hours=25),
    )  # fmt: skip
    recent = AppliedAction.objects.create(
        pk=uuid.uuid4(), user=associate, store=store, path="/x/", status=200,
        applied_at=now - dt.timedelta(hours=23),
    )  # fmt: skip
    assert retention.retention_run(now)["applied_actions"] == 1
    assert list(AppliedAction.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not AppliedAction.objects.filter(pk=old.pk).exists()
