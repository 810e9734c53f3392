"""Issue #16, data rights (Done-when 2): export and erasure through the API and HQ;
after erasure no text or JSON column anywhere holds the customer's e-mail, phone or
name (outside a committed allow-list, empty for e-mail and phone)."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from retail import data_rights
from retail.models import AuditLog, Customer, OutboundMessage
from tests import factories
from tests.retail import rights_world

pytestmark = pytest.mark.django_db

# Where the customer's name may still be found after erasure: (table, column) pairs.
# Nothing may hold their e-mail or phone.
NAME_ALLOW_LIST: set[tuple[str, str]] = set()
EMAIL_ALLOW_LIST: set[tuple[str, str]] = set()
PHONE_ALLOW_LIST: set[tuple[str, str]] = set()

TEXT_TYPES = ("char", "text", "json")


def text_columns() -> list[tuple[str, str]]:
    """Every text and JSON column of every table, from the database itself."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for col in connection.introspection.get_table_description(cursor, table):
                kind = connection.introspection.get_field_type(col.type_code, col) or ""
                if any(t in kind.lower() for t in TEXT_TYPES):
                    found.append((table, col.name))
    return found


def where_found(needle: str) -> set[tuple[str, str]]:
    hits = set()
    qn = connection.ops.quote_name
    like = "ILIKE" if connection.vendor == "postgresql" else "LIKE"  # SQLite's LIKE ignores case
    with connection.cursor() as cursor:
        for table, column in text_columns():
            cursor.execute(
                f"SELECT 1 FROM {qn(table)} WHERE CAST({qn(column)} AS TEXT) {like} %s LIMIT 1",
                [f"%{needle}%"],
            )
            if cursor.fetchone():
                hits.add((table, column))
    return hits


def variants(phone: str) -> list[str]:
    """The phone as stored (E.164) and as its national digits."""
    return [phone, phone[3:]]


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    return rights_world.build(django_capture_on_commit_callbacks)


@pytest.fixture
def api_client_key():
    _client, key = factories.api_client("customers:read", "customers:write", "events:write")
    return key


def api(client, method, url, key, **kw):
    return getattr(client, method)(url, HTTP_AUTHORIZATION=f"Token {key}", **kw)


def test_the_world_really_holds_the_customer_everywhere_before_erasure(world):
    """The scan finds them before erasure (so its silence afterwards means something)."""
    assert len(where_found(rights_world.EMAIL)) >= 2  # profile, message
    assert ("orders_order", "address") in where_found(rights_world.NAME)
    assert ("clienteling_note", "text") in where_found(rights_world.NAME)
    assert ("retail_outboundmessage", "body") in where_found(rights_world.NAME)
    assert ("retail_customer", "email") in where_found(rights_world.DUPLICATE_EMAIL)


def test_export_through_the_api_is_one_document_with_a_section_per_app_and_audited(
    world, client, api_client_key
):
    response = api(client, "get", f"/api/v1/customers/{rights_world.REF}/export/", api_client_key)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    doc = response.json()
    sections = doc["sections"]
    assert {
        "retail.customer",
        "retail.messages",
        "orders",
        "store_credit",
        "clienteling",
        "returns",
        "returns.policy_exceptions",
    } <= set(sections)
    assert sections["retail.customer"]["profile"]["email"] == rights_world.EMAIL
    assert (
        sections["retail.customer"]["merged_profiles"][0]["email"] == rights_world.DUPLICATE_EMAIL
    )
    assert [o["order_ref"] for o in sections["orders"]] == ["ZQ-1"]
    assert sections["orders"][0]["delivery_address"]["line1"] == "7 Quaxworth Lane"
    assert sections["clienteling"]["notes"][0]["text"].startswith(rights_world.NAME)
    assert sections["returns"][0]["return_ref"] == "R-ZQ-1"
    assert sections["retail.messages"][0]["to"] == rights_world.EMAIL
    entry = AuditLog.objects.get(action="customer.export")
    assert entry.target_id == str(world["customer"].pk)
    assert rights_world.EMAIL not in json.dumps(entry.detail)


def test_erasure_through_the_api_leaves_no_email_phone_or_name_anywhere(
    world, client, api_client_key
):
    customer = world["customer"]
    response = api(client, "delete", f"/api/v1/customers/{rights_world.REF}/", api_client_key)
    assert response.status_code == 204, response.content

    for email in (rights_world.EMAIL, rights_world.DUPLICATE_EMAIL):
        assert where_found(email) <= EMAIL_ALLOW_LIST, email
    for phone in (rights_world.PHONE, rights_world.DUPLICATE_PHONE):
        for form in variants(phone):
            assert where_found(form) <= PHONE_ALLOW_LIST, form
    for name in (rights_world.NAME, rights_world.DUPLICATE_NAME):
        assert where_found(name) <= NAME_ALLOW_LIST, name

    # Accounting stays, anonymised.
    order = world["order"]
    order.refresh_from_db()
    assert (order.customer_id, order.address) == (None, None)
    assert order.lines.count() == 1 and order.total == Decimal("120.00")
    assert order.refunds.exists()
    world["return"].refresh_from_db()
    assert world["return"].customer_id is None
    assert world["return"].lines.exists()
    customer.refresh_from_db()
    assert customer.erased_at is not None and customer.customer_ref is None
    # The audit log holds ids only.
    erase = AuditLog.objects.get(action="customer.erase")
    assert erase.target_id == str(customer.pk)
    assert erase.detail["merged_profiles"] == [world["duplicate"].pk]


def test_after_erasure_the_ref_answers_404_everywhere_and_events_are_dropped(
    world, client, api_client_key
):
    from clienteling.models import BrowsingEvent

    assert (
        api(client, "delete", f"/api/v1/customers/{rights_world.REF}/", api_client_key).status_code
        == 204
    )
    for method, url in (
        ("get", f"/api/v1/customers/{rights_world.REF}/"),
        ("get", f"/api/v1/customers/{rights_world.REF}/export/"),
        ("delete", f"/api/v1/customers/{rights_world.REF}/"),
        ("get", "/api/v1/customers/WEB-ZQ-0/"),  # the merged duplicate's ref too
    ):
        response = api(client, method, url, api_client_key)
        assert response.status_code == 404, (method, url, response.content)
        assert response.json()["code"] == "not_found"
    before = BrowsingEvent.objects.count()
    now = timezone.now().isoformat()
    events = [
        {
            "event_id": str(uuid.uuid4()),
            "occurred_at": now,
            "kind": "product_view",
            "channel": "web",
            "sku": "JUMPER-M",
            "customer_ref": rights_world.REF,
        },
        {
            "event_id": str(uuid.uuid4()),
            "occurred_at": now,
            "kind": "product_view",
            "channel": "web",
            "sku": "JUMPER-M",
            "anonymous_id": "anon-zq",
        },
    ]
    response = api(
        client,
        "post",
        "/api/v1/events/",
        api_client_key,
        data=json.dumps({"events": events}),
        content_type="application/json",
    )
    assert response.status_code in (200, 202), response.content
    # The known ref is dropped; the old visitor id is anonymous now, never the customer.
    assert not BrowsingEvent.objects.filter(customer=world["customer"]).exists()
    assert BrowsingEvent.objects.count() <= before + 1


def test_an_open_order_blocks_erasure_with_409_and_nothing_changes(world, client, api_client_key):
    from orders.services import LineInput, OrderInput, order_place

    customer = world["customer"]
    variant = factories.VariantFactory(price=Decimal("10.00"))
    factories.give_stock(factories.store_location(world["store"]), variant, 3)
    order_place(
        OrderInput(
            order_ref="ZQ-OPEN",
            channel="web",
            customer=customer,
            lines=[LineInput(variant, 1, variant.price)],
            method="pickup",
            store=world["store"],
            tender="card",
            amount=variant.price,
        )
    )
    response = api(client, "delete", f"/api/v1/customers/{rights_world.REF}/", api_client_key)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "erasure_blocked"
    assert body["orders"] == ["ZQ-OPEN"]
    customer.refresh_from_db()
    assert customer.email == rights_world.EMAIL and customer.erased_at is None
    assert where_found(rights_world.NAME) >= {("clienteling_note", "text")}
    assert not AuditLog.objects.filter(action="customer.erase").exists()


def test_unspent_store_credit_and_an_unfinished_return_block_erasure(world):
    from orders.models import StoreCredit
    from returns.models import Return, ReturnState

    customer = world["customer"]
    StoreCredit.objects.filter(customer=customer).update(balance=Decimal("5.00"))
    Return.objects.filter(pk=world["return"].pk).update(state=ReturnState.AWAITING_APPROVAL)
    with pytest.raises(data_rights.ErasureBlocked) as blocked:
        data_rights.customer_erase(customer, by=None, reason="test")
    assert blocked.value.blockers == {"store_credit": "5.00", "returns": ["R-ZQ-1"]}
    customer.refresh_from_db()
    assert customer.erased_at is None and customer.email == rights_world.EMAIL


def test_unknown_refs_answer_404_and_scopes_are_checked(db, client):
    _c, reader = factories.api_client("customers:read")
    _c, writer = factories.api_client("customers:write")
    assert api(client, "delete", "/api/v1/customers/NOPE-1/", writer).status_code == 404
    assert api(client, "get", "/api/v1/customers/NOPE-1/export/", reader).status_code == 404
    customer = factories.CustomerFactory(customer_ref="WEB-R1")
    assert api(client, "delete", "/api/v1/customers/WEB-R1/", reader).status_code == 403
    assert api(client, "get", "/api/v1/customers/WEB-R1/export/", writer).status_code == 403
    customer.refresh_from_db()
    assert customer.erased_at is None
    assert not AuditLog.objects.filter(action="customer.export").exists()


def test_a_queued_message_is_never_sent_after_erasure(db, django_capture_on_commit_callbacks):
    from django.core import mail

    from retail import messaging

    customer = factories.CustomerFactory(email="late@example.com")
    message = messaging.message_send(
        customer=customer, template="customer_welcome", context={"first_name": "L"}, key="late"
    )
    data_rights.customer_erase(customer, by=None, reason="test")
    messaging.message_deliver(message_id=message.pk)
    assert mail.outbox == []
    message.refresh_from_db()
    assert message.to_address == "" and message.context == {}


# --- HQ ------------------------------------------------------------------------------


@pytest.fixture
def hq(client, hq_user):
    factories.login_with_totp(client, hq_user)
    return client


def test_hq_search_needs_three_characters(hq, world):
    assert hq.get(reverse("hq_customers:search"), {"q": "Ze"}).status_code == 400
    response = hq.get(reverse("hq_customers:search"), {"q": "Quaxworth"})
    assert response.status_code == 200
    assert rights_world.NAME.encode() in response.content
    assert rights_world.EMAIL.encode() not in response.content  # masked in the list


def test_hq_export_downloads_json_and_is_audited(hq, world, hq_user):
    customer = world["customer"]
    response = hq.get(reverse("hq_customers:export", args=[customer.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["sections"]["retail.customer"]["profile"]["name"] == (
        rights_world.NAME
    )
    assert AuditLog.objects.filter(
        action="customer.export", actor=hq_user, target_id=str(customer.pk)
    ).exists()


def test_hq_erase_needs_a_reason_and_a_confirmation(hq, world):
    customer = world["customer"]
    url = reverse("hq_customers:erase", args=[customer.pk])
    page = hq.get(reverse("hq_customers:detail", args=[customer.pk]))
    assert page.status_code == 200 and b"Erase" in page.content
    assert hq.post(url, {"reason": "Request by e-mail"}).status_code == 400
    assert hq.post(url, {"confirm": "on"}).status_code == 400
    customer.refresh_from_db()
    assert customer.erased_at is None
    response = hq.post(url, {"reason": "Request by e-mail", "confirm": "on"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.erased_at is not None and customer.email == ""
    assert AuditLog.objects.get(action="customer.erase").detail["reason"] == "Request by e-mail"
    # Gone from HQ and the tablet.
    assert hq.get(reverse("hq_customers:detail", args=[customer.pk])).status_code == 404
    assert not Customer.objects.search("Quaxworth").exists()


def test_hq_erase_shows_the_blockers_and_changes_nothing(hq, world):
    from orders.models import StoreCredit

    customer = world["customer"]
    StoreCredit.objects.filter(customer=customer).update(balance=Decimal("7.50"))
    page = hq.get(reverse("hq_customers:detail", args=[customer.pk]))
    assert b"7.50" in page.content
    response = hq.post(
        reverse("hq_customers:erase", args=[customer.pk]), {"reason": "r", "confirm": "on"}
    )
    assert response.status_code == 409
    customer.refresh_from_db()
    assert customer.erased_at is None
    assert OutboundMessage.objects.filter(customer=customer).exclude(to_address="").exists()


def test_store_staff_and_hq_without_totp_cannot_export_or_erase(client, world, associate):
    customer = world["customer"]
    client.force_login(associate)
    assert client.get(reverse("hq_customers:export", args=[customer.pk])).status_code == 403
    response = client.post(
        reverse("hq_customers:erase", args=[customer.pk]), {"reason": "r", "confirm": "on"}
    )
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.erased_at is None


def test_an_erased_profile_cannot_be_merged_or_erased_again(db):
    from retail import services

    erased, other = factories.CustomerFactory(), factories.CustomerFactory()
    data_rights.customer_erase(erased, by=None, reason="request")
    with pytest.raises(services.MergeError):
        services.customer_merge(survivor=other, duplicate=erased, by=None)
    with pytest.raises(Customer.DoesNotExist):
        data_rights.customer_erase(erased, by=None, reason="again")
    assert AuditLog.objects.filter(action="customer.erase").count() == 1
