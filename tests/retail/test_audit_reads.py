"""Issue #16, "Audit that someone reads": customer search rules and masking, every
look at personal data audited (searches, HQ admin, the API), HQ's audit page, its
CSV and its alerts. Each test names the finding it covers."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import override_settings
from django.urls import reverse

from retail import audit
from retail.models import AuditLog, Customer
from tests import factories
from tests.orders.pickups import make_ready, network, place

pytestmark = pytest.mark.django_db

EMAIL = "jane.doe@example.com"
PHONE = "+33612900123"


@pytest.fixture
def tablet(client, associate):
    client.force_login(associate)
    return client


@pytest.fixture
def jane(store):
    return factories.CustomerFactory(name="Jane Doe", email=EMAIL, phone=PHONE)


@pytest.fixture
def crowd(db):
    return [
        factories.CustomerFactory(name=f"Person {i}", email=f"p{i}@example.com") for i in range(5)
    ]


def search(client, q):
    return client.get(reverse("retail:customer_search"), {"q": q})


def audit_text() -> str:
    """Every audit row as text: what a reader of the log could learn."""
    rows = AuditLog.objects.values("action", "target_type", "target_id", "detail")
    return json.dumps(list(rows), default=str)


# --- Search harvesting (Medium finding) --------------------------------------------


@pytest.mark.parametrize("q", ["@", "a", "@e", ".c"])
def test_short_searches_list_nobody_and_say_why(tablet, jane, crowd, q):
    """Finding: search harvesting — `q=@` listed the network's e-mails and phones."""
    response = search(tablet, q)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Type at least 3 characters." in body
    assert 'class="result"' not in body
    assert "example.com" not in body


@pytest.mark.parametrize("q", ["example.com", "@example.com", "jane.doe@", "2900123", "12 90 01"])
def test_part_of_an_email_or_phone_finds_nobody(tablet, jane, crowd, q):
    """Finding: search harvesting — a contact-based search needs the whole e-mail or phone."""
    body = search(tablet, q).content.decode()
    assert 'class="result"' not in body
    assert "whole" in body
    assert Customer.objects.search(q).count() == 0


@pytest.mark.parametrize(
    "q", ["JANE.DOE@example.com", "+33 6 12 90 01 23", "06 12 90 01 23", "jane"]
)
def test_whole_email_whole_phone_or_part_of_a_name_finds_her_masked(tablet, jane, q):
    """Finding: search harvesting — results show contact details masked."""
    body = search(tablet, q).content.decode()
    assert reverse("retail:customer_detail", args=[jane.pk]) in body
    results = body.split('class="result-list"')[1]  # (the box echoes what was typed)
    assert EMAIL not in results and "612900123" not in results and "900123" not in results
    assert "j•••@example.com" in body
    assert "+33 •••• ••• 123" in body


def test_opening_the_profile_shows_the_contacts_and_is_audited(tablet, jane, store):
    body = tablet.get(reverse("retail:customer_detail", args=[jane.pk])).content.decode()
    assert EMAIL in body
    assert AuditLog.objects.filter(
        action="customer.view", target_id=str(jane.pk), store=store
    ).exists()


def test_masking():
    assert audit.mask_email("jane@example.com") == "j•••@example.com"
    assert audit.mask_phone("+447700900123") == "+44 •••• ••• 123"
    assert audit.mask_phone("+12025550123") == "+1 •••• ••• 123"
    assert audit.mask_email("") == "" and audit.mask_phone("") == ""


def test_a_search_is_audited_with_its_text_or_a_hash_and_no_contact(tablet, associate, store, jane):
    """Finding: search harvesting with nothing audited."""
    search(tablet, EMAIL)
    search(tablet, "06 12 90 01 23")
    search(tablet, "Jane")
    rows = list(AuditLog.objects.filter(action="customer.search").order_by("pk"))
    assert len(rows) == 3
    assert all(r.actor == associate and r.store == store for r in rows)
    by_email, by_phone, by_name = (r.detail for r in rows)
    assert by_email["query_kind"] == "email" and "query" not in by_email
    assert by_email["query_hash"] == audit.contact_hash(EMAIL)
    assert by_phone["query_kind"] == "phone" and by_phone["query_hash"]
    assert by_name["query"] == "Jane"
    assert [d["results"] for d in (by_email, by_phone, by_name)] == [1, 1, 1]
    assert all(d["shown"] == [jane.pk] for d in (by_email, by_phone, by_name))
    text = audit_text()
    assert EMAIL not in text and "612900123" not in text and "Jane Doe" not in text


def test_a_refused_search_writes_nothing(tablet, jane):
    search(tablet, "@")
    assert not AuditLog.objects.filter(action="customer.search").exists()


def test_pickup_search_needs_the_whole_phone_and_is_audited(tablet, store):
    """Finding: search harvesting — the pickup hand-over search follows the same rules."""
    net = network(store, shelf_units=20)
    grace = factories.CustomerFactory(name="Grace Hopper", phone="+33612900456")
    f = place(store, [(net["jumper"], 1)], customer=grace).fulfillments.get()
    make_ready(f, store)
    part = tablet.post(reverse("orders_store:find"), {"q": "12 9004"}).content.decode()
    assert f.order.order_ref not in part
    assert "whole phone number" in part
    short = tablet.post(reverse("orders_store:find"), {"q": "Gr"}).content.decode()
    assert f.order.order_ref not in short
    whole = tablet.post(reverse("orders_store:find"), {"q": "06 12 90 04 56"}).content.decode()
    assert f.order.order_ref in whole
    rows = AuditLog.objects.filter(action="customer.search", detail__via="pickups")
    row = rows.order_by("pk").last()
    assert row.detail["shown"] == [grace.pk] and "query" not in row.detail
    assert "612900456" not in audit_text()


# --- HQ admin and API reads (Medium finding) -------------------------------------------


def test_hq_admin_customer_list_and_page_are_audited(hq_client, hq_user, jane):
    """Finding: HQ's admin views of customers are not audited."""
    listed = hq_client.get(reverse("admin:retail_customer_changelist"), {"q": EMAIL})
    assert listed.status_code == 200
    row = AuditLog.objects.get(action="customer.admin_list")
    assert row.actor == hq_user
    assert row.detail["results"] == 1 and row.detail["shown"] == [jane.pk]
    assert row.detail["query_hash"] and "query" not in row.detail
    opened = hq_client.get(reverse("admin:retail_customer_change", args=[jane.pk]))
    assert opened.status_code == 200
    assert AuditLog.objects.filter(
        action="customer.admin_view", target_id=str(jane.pk), actor=hq_user
    ).exists()
    assert EMAIL not in audit_text()


def test_hq_admin_reading_the_audit_log_is_audited(hq_client, hq_user, jane):
    """Finding: HQ's admin views of the audit log are not audited."""
    assert hq_client.get(reverse("admin:retail_auditlog_changelist")).status_code == 200
    assert AuditLog.objects.filter(action="auditlog.admin_list", actor=hq_user).exists()
    entry = AuditLog.objects.first()
    assert (
        hq_client.get(reverse("admin:retail_auditlog_change", args=[entry.pk])).status_code == 200
    )
    assert AuditLog.objects.filter(action="auditlog.admin_view", target_id=str(entry.pk)).exists()


def test_an_unknown_admin_customer_id_writes_nothing(hq_client):
    hq_client.get(reverse("admin:retail_customer_change", args=[999999]))
    hq_client.get("/admin/retail/customer/nope/change/")
    assert not AuditLog.objects.filter(action="customer.admin_view").exists()


def test_api_read_of_a_customer_is_audited(client, store):
    """Finding: the API's customer reads are not audited."""
    api_client, key = factories.api_client("customers:read")
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    customer = factories.CustomerFactory(customer_ref="WEB-9", email=EMAIL)
    assert client.get("/api/v1/customers/WEB-9/", **auth).status_code == 200
    row = AuditLog.objects.get(action="customer.api_read")
    assert row.target_id == str(customer.pk) and row.detail["api_client"] == api_client.pk
    assert row.actor is None
    assert client.get("/api/v1/customers/WEB-404/", **auth).status_code == 404
    assert AuditLog.objects.filter(action="customer.api_read").count() == 1


# --- HQ's audit page --------------------------------------------------------------------


def _views(user, store, customers):
    from retail import services

    for c in customers:
        services.customer_profile_view(customer=c, by=user, store=store)
    return customers


def test_audit_page_lists_who_viewed_whom_and_filters(
    hq_client, hq_user, associate, store, other_store, jane, crowd
):
    other = factories.StaffFactory(role="associate", home_store=other_store)
    _views(associate, store, [jane])
    _views(other, other_store, crowd[:2])
    page = hq_client.get(reverse("audit_hq:log"), {"customer": jane.pk})
    body = page.content.decode()
    assert page.status_code == 200
    assert associate.email in body and f"#{jane.pk}" in body
    assert other.email not in body
    by_store = hq_client.get(reverse("audit_hq:log"), {"store": "S02"}).content.decode()
    assert other.email in by_store and associate.email not in by_store
    by_staff = hq_client.get(reverse("audit_hq:log"), {"staff": associate.pk}).content.decode()
    assert associate.email in by_staff and other.email not in by_staff
    # Reading the page is itself audited, with the filters as ids.
    reads = AuditLog.objects.filter(action="auditlog.view", actor=hq_user)
    assert reads.count() == 3
    assert reads.filter(detail__filters__customer=jane.pk).exists()


def test_audit_page_customer_filter_shows_searches_that_listed_them(hq_client, associate, jane):
    from django.test import Client

    tablet = Client()
    tablet.force_login(associate)
    search(tablet, "Jane")
    body = hq_client.get(reverse("audit_hq:log"), {"customer": jane.pk}).content.decode()
    assert "Searched customers" in body and "“Jane”" in body


@pytest.mark.parametrize(
    "params",
    [
        {"staff": "abc"},
        {"staff": "999999"},
        {"store": "NOPE"},
        {"customer": "-1"},
        {"customer": "1 OR 1=1"},
        {"start": "2026-13-40"},
        {"start": "2026-05-02", "end": "2026-05-01"},
        {"start": "2020-01-01", "end": "2026-01-01"},
    ],
)
def test_a_forged_filter_is_a_400_with_a_message_and_no_rows(
    hq_client, associate, store, jane, params
):
    """Bad input: a forged audit filter — a clear 400, nothing leaked."""
    _views(associate, store, [jane])
    for url in (reverse("audit_hq:log"), reverse("audit_hq:csv")):
        response = hq_client.get(url, params)
        body = response.content.decode()
        assert response.status_code == 400
        assert 'role="alert"' in body
        assert associate.email not in body
    assert not AuditLog.objects.filter(action__in=["auditlog.view", "auditlog.csv"]).exists()


def test_audit_page_paginates(hq_client, associate, store, crowd):
    for _ in range(12):
        _views(associate, store, crowd)  # 60 rows
    first = hq_client.get(reverse("audit_hq:log"), {"staff": associate.pk}).content.decode()
    assert "Page 1 of 2" in first
    second = hq_client.get(reverse("audit_hq:log"), {"staff": associate.pk, "page": 2})
    assert second.content.decode().count(associate.email) == 10


def test_csv_export_has_the_filtered_rows_and_is_audited(
    hq_client, hq_user, associate, store, other_store, jane, crowd
):
    other = factories.StaffFactory(role="associate", home_store=other_store)
    _views(associate, store, [jane])
    _views(other, other_store, crowd)
    response = hq_client.get(reverse("audit_hq:csv"), {"store": "S01"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "When (UTC)"
    assert [(r[1], r[2], r[4], r[5]) for r in rows[1:]] == [
        (associate.email, "customer.view", str(jane.pk), "S01")
    ]
    assert AuditLog.objects.filter(action="auditlog.csv", actor=hq_user).exists()


def test_csv_cells_are_not_formulas(hq_client, store):
    evil = factories.StaffFactory(role="associate", home_store=store, email="=cmd@example.com")
    _views(evil, store, [factories.CustomerFactory()])
    text = b"".join(hq_client.get(reverse("audit_hq:csv")).streaming_content).decode()
    assert "'=cmd@example.com" in text


# --- Alerts -------------------------------------------------------------------------------


@override_settings(AISLE_AUDIT_VIEWS_PER_HOUR=3)
def test_alert_lists_staff_over_the_hourly_threshold(hq_client, hq_user, associate, store, crowd):
    calm = factories.StaffFactory(role="associate", home_store=store)
    _views(associate, store, crowd[:4])
    _views(calm, store, crowd[:3])
    response = hq_client.get(reverse("audit_hq:alerts"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "More than 3 profiles opened in one hour" in body
    heavy = body.split("More than 3 profiles")[1].split("never served")[0]
    assert associate.email in heavy and calm.email not in heavy
    assert AuditLog.objects.filter(action="auditlog.alerts", actor=hq_user).exists()


def test_alert_lists_profiles_never_served_at_the_viewers_store(
    hq_client, associate, store, other_store
):
    net = network(store, shelf_units=20)
    stranger = factories.CustomerFactory(preferred_store=other_store)
    regular = factories.CustomerFactory(preferred_store=other_store)
    place(store, [(net["jumper"], 1)], customer=regular)
    local = factories.CustomerFactory(preferred_store=store)
    _views(associate, store, [stranger, regular, local])
    body = hq_client.get(reverse("audit_hq:alerts")).content.decode()
    unserved = body.split("never served at the viewer")[1]
    assert f'?customer={stranger.pk}"' in unserved
    assert f'?customer={regular.pk}"' not in unserved
    assert f'?customer={local.pk}"' not in unserved


def test_served_pairs_ask_every_app(store, other_store):
    from clienteling import services as clienteling_services

    customer = factories.CustomerFactory(preferred_store=None)
    assert audit.served_pairs({customer.pk}, {store.pk, other_store.pk}) == set()
    associate = factories.StaffFactory(role="associate", home_store=other_store)
    clienteling_services.note_add(customer=customer, by=associate, store=other_store, text="Hi")
    assert audit.served_pairs({customer.pk}, {store.pk, other_store.pk}) == {
        (customer.pk, other_store.pk)
    }


def test_a_walk_in_guest_matched_by_email_is_masked_in_the_cart_and_audited(
    tablet, associate, store, jane
):
    """Finding: search harvesting — the cart's guest match lists the profile masked."""
    response = tablet.post(
        reverse("cart:guest"), {"name": "J", "email": "JANE.DOE@example.com"}, follow=True
    )
    card = response.content.decode().split('id="cart-customer"')[1].split("</section>")[0]
    assert "Jane Doe" in card and "j•••@example.com" in card
    assert EMAIL not in card
    row = AuditLog.objects.get(action="customer.match")
    assert (row.actor, row.store, row.target_id) == (associate, store, str(jane.pk))
    assert row.detail == {"by": "email"}


def test_hq_customer_search_follows_the_search_rules_and_is_audited(client, db):
    """#16: HQ's customer search (data rights) was neither limited nor audited."""
    from retail.models import AuditLog

    customer = factories.CustomerFactory(name="Ada Lovelace", email="ada@example.com")
    hq = factories.StaffFactory(role="hq_admin")
    factories.login_with_totp(client, hq)
    assert client.get("/hq/customers/", {"q": "@example.com"}).status_code == 400
    assert not AuditLog.objects.filter(action="customer.search").exists()
    found = client.get("/hq/customers/", {"q": "ada@example.com"})
    assert found.status_code == 200
    results = found.content.decode().split("</form>")[-1]  # the search box echoes the query
    assert "a•••@example.com" in results and "ada@example.com" not in results
    row = AuditLog.objects.get(action="customer.search")
    assert row.actor == hq and row.detail["via"] == "hq" and row.detail["shown"] == [customer.pk]
    assert "ada@example.com" not in str(row.detail)
