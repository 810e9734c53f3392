"""Segments where people see them: the badge on the customer page, the segment filter
of HQ's customer list and its CSV for a campaign (the history of conftest.py)."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from insights import rollups
from insights.models import CustomerSummary
from retail.models import AuditLog, Customer
from tests import factories


@pytest.fixture
def built(world):
    rollups.refresh(full=True)
    return world


@pytest.fixture
def ann_client(client, built):
    client.force_login(built.ann)
    return client


def segment_section(html: str) -> str:
    return html.split('id="customer-segment"')[1].split("</section>")[0]


@pytest.mark.parametrize(
    ("name", "label", "why"),
    [
        (
            "hana",
            "Webroomers",
            "Store purchases after an online view of the same product or category within "
            "14 days: 1.",
        ),
        (
            "carol",
            "Showroomers",
            "Online purchases after in-store service or a kiosk visit within 14 days: 1.",
        ),
        ("gina", "Web only", "Every purchase was online (orders: 1)."),
        ("bob", "Store only", "Every purchase was in store (orders: 1)."),
        (
            "alice",
            "Omnichannel",
            "Both ways — store purchases after viewing online: 1; online purchases after "
            "in-store service or a kiosk visit: 1.",
        ),
        ("frank", "Omnichannel", "Buys both online (orders: 1) and in store (orders: 1)."),
        ("erin", "Never-bought browsers", "Online product views: 2; no purchase yet."),
    ],
)
def test_the_customer_page_shows_the_segment_and_why(ann_client, built, name, label, why):
    customer = built.customers[name]
    response = ann_client.get(reverse("retail:customer_detail", args=[customer.pk]))
    assert response.status_code == 200
    section = segment_section(response.content.decode())
    assert f">{label}</strong>" in section
    assert f"Why: {why}" in section.replace("&#x27;", "'")


def test_a_customer_without_history_has_no_segment_yet(ann_client, built):
    response = ann_client.get(reverse("retail:customer_detail", args=[built.customers["dan"].pk]))
    section = segment_section(response.content.decode())
    assert "Not enough history yet for a segment" in section
    assert "<strong" not in section


def test_the_badge_speaks_chinese(ann_client, built):
    url = reverse("retail:customer_detail", args=[built.customers["gina"].pk])
    response = ann_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    section = segment_section(response.content.decode())
    assert "Web only" not in section
    assert 'data-segment="web_only"' in section


# --- HQ's customer list -------------------------------------------------------------------


def listed(response) -> list[str]:
    html = response.content.decode()
    if 'id="customer-list"' not in html:
        return []
    body = html.split('id="customer-list"')[1].split("</tbody>")[0]
    return [part.split("</a>")[0].split(">")[-1] for part in body.split("<tr data-customer=")[1:]]


def test_hq_lists_the_customers_of_a_segment(hq_client, built):
    response = hq_client.get(reverse("hq_customers:search"), {"segment": "omnichannel"})
    assert response.status_code == 200
    assert listed(response) == ["alice", "frank"]
    assert listed(hq_client.get(reverse("hq_customers:search"), {"segment": "browsers"})) == [
        "erin"
    ]
    # A search and a segment together: both must hold.
    both = hq_client.get(reverse("hq_customers:search"), {"q": "fra", "segment": "omnichannel"})
    assert listed(both) == ["frank"]
    none = hq_client.get(reverse("hq_customers:search"), {"q": "gina", "segment": "omnichannel"})
    assert listed(none) == []
    assert "No customer matches this search." in none.content.decode()


def test_the_list_is_audited_with_its_filter(hq_client, built):
    hq_client.get(reverse("hq_customers:search"), {"segment": "omnichannel"})
    row = AuditLog.objects.get(action="customer.search")
    c = built.customers
    assert row.detail["filters"] == {"segment": "omnichannel"}
    assert row.detail["results"] == 2
    assert sorted(row.detail["shown"]) == sorted([c["alice"].pk, c["frank"].pk])


def test_an_unknown_segment_is_a_clear_form_error(hq_client, built):
    response = hq_client.get(reverse("hq_customers:search"), {"segment": "whales"})
    assert response.status_code == 400
    assert "There is no such segment: choose one from the list." in response.content.decode()
    csv_answer = hq_client.get(reverse("hq_customers:campaign_csv"), {"segment": "whales"})
    assert csv_answer.status_code == 400
    assert not AuditLog.objects.filter(action="customer.campaign_export").exists()


def test_the_list_needs_a_search_or_a_filter(hq_client, built):
    response = hq_client.get(reverse("hq_customers:search"), {"q": "", "segment": ""})
    assert response.status_code == 400
    assert "Type a name to search for, or choose a filter." in response.content.decode()


def rows_of(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_the_campaign_csv_gives_who_agreed_to_marketing_by_default(hq_client, built):
    c = built.customers
    Customer.objects.filter(pk=c["alice"].pk).update(
        customer_ref="WEB-ALICE",
        email="alice@example.com",
        phone="+447700900123",
        marketing_consent=True,
        preferred_store=built.sh,
    )
    Customer.objects.filter(pk=c["frank"].pk).update(marketing_consent=False)
    response = hq_client.get(reverse("hq_customers:campaign_csv"), {"segment": "omnichannel"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    header, *rows = rows_of(response)
    assert header == [
        "Customer reference",
        "Name",
        "E-mail",
        "Phone",
        "Preferred store",
        "Marketing consent",
        "Segment",
    ]
    # The phone keeps its "+" as text (`retail.csv_export.safe_cell`: never a formula).
    assert rows == [
        ["WEB-ALICE", "alice", "alice@example.com", "'+447700900123", "SH", "yes", "Omnichannel"]
    ]
    everyone = hq_client.get(
        reverse("hq_customers:campaign_csv"), {"segment": "omnichannel", "consent": "all"}
    )
    _header, *rows = rows_of(everyone)
    assert [(row[1], row[5]) for row in rows] == [("alice", "yes"), ("frank", "no")]


def test_the_campaign_csv_is_audited_without_personal_data(hq_client, built, hq_user):
    Customer.objects.update(marketing_consent=True)
    hq_client.get(
        reverse("hq_customers:campaign_csv"),
        {"q": "alice@example.com", "segment": "omnichannel"},
    )
    row = AuditLog.objects.get(action="customer.campaign_export")
    assert row.actor == hq_user
    assert row.target_type == "retail.customer_list"
    assert row.detail["filters"] == {"segment": "omnichannel"}
    assert row.detail["marketing_only"] is True
    assert row.detail["results"] == 0  # alice's e-mail in the history is not that one
    assert "alice@example.com" not in str(row.detail)
    assert row.detail["query_kind"] == "email"


def test_the_export_form_defaults_to_marketing_consent_only(hq_client, built):
    html = hq_client.get(reverse("hq_customers:search"), {"segment": "browsers"}).content.decode()
    form = html.split('id="campaign-export"')[1].split("</form>")[0]
    assert 'name="segment" value="browsers"' in form
    assert 'value="marketing" id="id_consent_0" checked>' in form
    assert 'value="all" id="id_consent_1">' in form


def test_a_bad_consent_choice_is_refused(hq_client, built):
    response = hq_client.get(reverse("hq_customers:campaign_csv"), {"consent": "spam"})
    assert response.status_code == 400
    assert "Choose whom to export from the list." in response.content.decode()


def test_the_segment_list_costs_the_same_for_a_few_and_many_customers(hq_client, built):
    url = reverse("hq_customers:search")

    def queries() -> int:
        hq_client.get(url, {"segment": "store_only"})
        with CaptureQueriesContext(connection) as captured:
            hq_client.get(url, {"segment": "store_only"})
        return len(captured)

    few = queries()
    for i in range(12):
        customer = factories.CustomerFactory(name=f"Store buyer {i:02d}")
        CustomerSummary.objects.create(
            customer=customer, orders=1, store_orders=1, segment="store_only"
        )
    assert queries() == few
