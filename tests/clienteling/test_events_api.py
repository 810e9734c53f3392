"""`POST /api/v1/events/` and `POST /api/v1/identify/` (Done when 1, Bad input)."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from clienteling.models import BrowsingEvent, VisitorLink
from tests import factories
from tests.clienteling.conftest import event
from tests.retail.api.schema import assert_matches_schema

pytestmark = pytest.mark.django_db
URL = "/api/v1/events/"


def test_replaying_the_same_10000_events_three_times_stores_10000(events_api):
    customer = factories.CustomerFactory(tracking_consent=True)
    variant = factories.VariantFactory()
    batches = [
        [
            event(sku=variant.sku if i % 2 else "UNKNOWN-SKU", customer_ref=customer.customer_ref)
            for i in range(1000)
        ]
        for _ in range(10)
    ]
    totals = []
    for _round in range(3):
        accepted = duplicates = 0
        for batch in batches:
            response = events_api.post(URL, {"events": batch})
            assert response.status_code == 202, response.content
            accepted += response.json()["accepted"]
            duplicates += response.json()["duplicates"]
        totals.append((accepted, duplicates))
    assert totals == [(10_000, 0), (0, 10_000), (0, 10_000)]
    assert BrowsingEvent.objects.count() == 10_000
    # Unknown SKUs are kept as text, without a product link.
    unknown = BrowsingEvent.objects.filter(sku="UNKNOWN-SKU")
    assert unknown.count() == 5000 and not unknown.filter(variant__isnull=False).exists()
    assert BrowsingEvent.objects.filter(variant=variant).count() == 5000


def test_a_batch_with_one_bad_item_stores_nothing_and_names_the_index(events_api):
    batch = [event() for _ in range(5)]
    batch[3]["kind"] = "teleport"
    response = events_api.post(URL, {"events": batch})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == ["3"]
    assert "kind" in body["errors"]["3"]
    assert BrowsingEvent.objects.count() == 0
    assert_matches_schema(response, "POST", URL)


def test_duplicates_inside_one_batch_count_as_duplicates(events_api):
    one = event()
    response = events_api.post(URL, {"events": [one, dict(one), event()]})
    assert response.json() == {"accepted": 2, "duplicates": 1, "dropped": 0}
    assert_matches_schema(response, "POST", URL)


def test_events_of_a_customer_without_tracking_consent_or_unknown_are_dropped(events_api):
    refuses = factories.CustomerFactory(tracking_consent=False)
    response = events_api.post(
        URL,
        {
            "events": [
                event(customer_ref=refuses.customer_ref),
                event(customer_ref="NOBODY-KNOWS"),
                event(anonymous_id="v-9"),
            ]
        },
    )
    assert response.json() == {"accepted": 1, "duplicates": 0, "dropped": 2}
    assert not BrowsingEvent.objects.filter(customer=refuses).exists()
    assert BrowsingEvent.objects.count() == 1


def test_anonymous_events_join_the_customer_after_identify_and_later_ones_follow(
    events_api, client, associate
):
    customer = factories.CustomerFactory(tracking_consent=True)
    variant = factories.VariantFactory(product__name="Waxed field jacket")
    events_api.post(URL, {"events": [event(sku=variant.sku, anonymous_id="anon-42")] * 1})
    response = events_api.post(
        "/api/v1/identify/", {"anonymous_id": "anon-42", "customer_ref": customer.customer_ref}
    )
    assert response.status_code == 200
    assert response.json() == {"customer_ref": customer.customer_ref, "merged_events": 1}
    assert_matches_schema(response, "POST", "/api/v1/identify/")
    again = events_api.post(
        "/api/v1/identify/", {"anonymous_id": "anon-42", "customer_ref": customer.customer_ref}
    )
    assert again.json()["merged_events"] == 0
    events_api.post(URL, {"events": [event(sku=variant.sku, anonymous_id="anon-42")]})
    assert BrowsingEvent.objects.filter(customer=customer).count() == 2
    # And the associate sees it on the customer's page.
    client.force_login(associate)
    page = client.get(f"/store/customers/{customer.pk}/")
    assert page.status_code == 200
    assert "Waxed field jacket" in page.content.decode()


def test_identify_for_a_customer_without_consent_deletes_the_anonymous_events(events_api):
    customer = factories.CustomerFactory(tracking_consent=False)
    events_api.post(URL, {"events": [event(anonymous_id="anon-7"), event(anonymous_id="anon-7")]})
    response = events_api.post(
        "/api/v1/identify/", {"anonymous_id": "anon-7", "customer_ref": customer.customer_ref}
    )
    assert response.json()["merged_events"] == 0
    assert BrowsingEvent.objects.count() == 0
    assert VisitorLink.objects.filter(anonymous_id="anon-7", customer=customer).exists()
    # Later events of the visitor are the customer's, so they are dropped.
    later = events_api.post(URL, {"events": [event(anonymous_id="anon-7")]})
    assert later.json()["dropped"] == 1


def test_identify_for_an_unknown_customer_is_404_unknown_customer(events_api):
    response = events_api.post(
        "/api/v1/identify/", {"anonymous_id": "anon-1", "customer_ref": "NO-SUCH"}
    )
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_customer"
    assert_matches_schema(response, "POST", "/api/v1/identify/")


def _future():
    return (timezone.now() + dt.timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-03-01T10:00:00"}, "occurred_at"),  # naive
        ({"occurred_at": "FUTURE"}, "occurred_at"),
        ({"kind": "unknown"}, "kind"),
        ({"anonymous_id": "x" * 10_000}, "anonymous_id"),
        ({"url": "https://shop.example/" + "x" * 10_000}, "url"),
        ({"event_id": "not-a-uuid"}, "event_id"),
        ({"sku": None}, "sku"),
        ({"channel": "fax"}, "channel"),
        ({"customer_ref": "A\x00B"}, "customer_ref"),
    ],
)
def test_bad_items_are_400_by_index_and_store_nothing(events_api, change, field):
    bad = event()
    change = {k: (_future() if v == "FUTURE" else v) for k, v in change.items()}
    bad.update(change)
    if bad.get("sku") is None:
        bad.pop("sku")
    response = events_api.post(URL, {"events": [event(), bad]})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["errors"]["1"], body
    assert all(message for message in body["errors"]["1"][field])
    assert BrowsingEvent.objects.count() == 0


def test_batch_shape_errors_are_clear_4xx(events_api):
    too_many = events_api.post(URL, {"events": [event() for _ in range(1001)]})
    assert too_many.status_code == 400 and "events" in too_many.json()["errors"]
    not_list = events_api.post(URL, {"events": {"kind": "product_view"}})
    assert not_list.status_code == 400 and "events" in not_list.json()["errors"]
    empty = events_api.post(URL, {"events": []})
    assert empty.status_code == 400
    bare_list = events_api.post(URL, [event()])
    assert bare_list.status_code == 400
    malformed = events_api.post(URL, '{"events": [')
    assert malformed.status_code == 400 and malformed.json()["code"] == "parse_error"
    form = events_api.post(URL, "a=1", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415
    missing = events_api.post(URL, {"events": [{"event_id": str(uuid.uuid4())}]})
    assert missing.status_code == 400 and "kind" in missing.json()["errors"]["0"]
    assert BrowsingEvent.objects.count() == 0


def test_an_event_needs_a_visitor_and_a_search_needs_a_query(events_api):
    no_one = event()
    no_one.pop("anonymous_id")
    search = event("search")
    search.pop("query")
    response = events_api.post(URL, {"events": [no_one, search]})
    errors = response.json()["errors"]
    assert "non_field_errors" in errors["0"] and "query" in errors["1"]


@pytest.mark.parametrize(
    "body",
    [
        {"anonymous_id": "a" * 10_000, "customer_ref": "WEB-1"},
        {"anonymous_id": "anon-1"},
        {"anonymous_id": "", "customer_ref": "WEB-1"},
        {"anonymous_id": 5, "customer_ref": "WEB-1"},
        '{"anonymous_id": ',
        [],
    ],
)
def test_identify_refuses_bad_input_with_a_clear_400(events_api, body):
    factories.CustomerFactory(customer_ref="WEB-1")
    response = events_api.post("/api/v1/identify/", body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] in ("validation_error", "parse_error")
    assert response.json()["detail"]
    assert not VisitorLink.objects.exists()


def test_text_with_tabs_newlines_and_quotes_is_stored_exactly(events_api):
    customer = factories.CustomerFactory()
    odd = 'https://shop.example/p?q=a\tb\nc\\d "e" ,f'
    response = events_api.post(
        URL,
        {
            "events": [
                event("search", query="wool\tcoat\n\\", url=odd, customer_ref=customer.customer_ref)
            ]
        },
    )
    assert response.json()["accepted"] == 1
    stored = BrowsingEvent.objects.get()
    assert (stored.url, stored.query, stored.customer) == (odd, "wool\tcoat\n\\", customer)


def test_events_of_a_merged_away_customer_reference_go_to_the_survivor(events_api):
    from retail.services import customer_merge

    survivor = factories.CustomerFactory()
    duplicate = factories.CustomerFactory()
    customer_merge(survivor=survivor, duplicate=duplicate, by=None)
    response = events_api.post(URL, {"events": [event(customer_ref=duplicate.customer_ref)]})
    assert response.json()["accepted"] == 1
    assert BrowsingEvent.objects.get().customer == survivor


def test_any_offset_of_iso_8601_is_stored_and_a_time_before_year_1_in_utc_is_refused(events_api):
    """Found by the schema fuzzer: PostgreSQL refuses offsets beyond ±15:59 (an HTML
    500); times are stored in UTC, and one that UTC cannot hold is a validation error."""
    far = event(anonymous_id="v-far")
    far["occurred_at"] = "0412-09-13T19:40:05.100-22:46"
    response = events_api.post(URL, {"events": [far]})
    assert response.status_code == 202, response.content
    assert response.json()["accepted"] == 1
    stored = BrowsingEvent.objects.get(anonymous_id="v-far").occurred_at
    assert stored == dt.datetime(412, 9, 14, 18, 26, 5, 100000, tzinfo=dt.UTC)

    early = event(anonymous_id="v-early")
    early["occurred_at"] = "0001-01-01T00:30:00+14:00"
    response = events_api.post(URL, {"events": [early]})
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]["0"]) == ["occurred_at"]
