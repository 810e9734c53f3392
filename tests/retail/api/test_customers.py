"""`PUT` and `GET /api/v1/customers/{customer_ref}/`."""

import pytest

from retail import services
from retail.models import AuditLog, Customer
from tests import factories
from tests.retail.api.schema import assert_matches_schema

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/WEB-1/"
PATH = "/api/v1/customers/{customer_ref}/"


@pytest.fixture
def writer(api):
    return api("customers:write", "customers:read")


def test_put_creates_then_updates_keeping_left_out_fields(writer, store):
    created = writer.put(
        URL,
        {
            "name": "Mei Lin Chen",
            "email": "mei@example.com",
            "phone": "06 12 34 56 78",
            "preferred_store": "S01",
            "consents": {"tracking": True, "marketing": False},
        },
    )
    assert created.status_code == 201
    assert_matches_schema(created, "PUT", PATH)
    body = created.json()
    assert body["phone"] == "+33612345678"
    assert body["consents"]["tracking"]["given"] is True
    assert body["consents"]["tracking"]["at"]

    updated = writer.put(URL, {"email": "mei.chen@example.com"})
    assert updated.status_code == 200
    assert_matches_schema(updated, "PUT", PATH)
    body = updated.json()
    assert (body["name"], body["email"], body["phone"], body["preferred_store"]) == (
        "Mei Lin Chen",
        "mei.chen@example.com",
        "+33612345678",
        "S01",
    )
    fetched = writer.get(URL)
    assert fetched.status_code == 200
    assert_matches_schema(fetched, "GET", PATH)
    assert fetched.json() == body
    # Writes and the read are all audited (the read since issue #16).
    assert sorted(
        AuditLog.objects.filter(action__startswith="customer.api_").values_list("action", flat=True)
    ) == ["customer.api_create", "customer.api_read", "customer.api_update"]


def test_withdrawing_tracking_consent_is_recorded_with_its_time(writer):
    writer.put(URL, {"name": "A", "consents": {"tracking": True}})
    given_at = Customer.objects.get().tracking_consent_at
    body = writer.put(URL, {"consents": {"tracking": False}}).json()
    assert body["consents"]["tracking"]["given"] is False
    customer = Customer.objects.get()
    assert customer.tracking_consent is False
    assert customer.tracking_consent_at > given_at


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (URL, {"name": "A", "email": "not-an-email"}, "email"),
        (URL, {"name": "A", "phone": "call me"}, "phone"),
        (URL, {"name": "A", "preferred_store": "S99"}, "preferred_store"),
        ("/api/v1/customers/" + "R" * 65 + "/", {"name": "A"}, "customer_ref"),
        (URL, {"email": "a@example.com"}, "name"),
        (URL, {"name": "A", "consents": {"tracking": "maybe"}}, "consents.tracking"),
    ],
)
def test_bad_input_is_refused_by_field_and_nothing_written(writer, store, url, body, field):
    response = writer.put(url, body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]
    assert not Customer.objects.exists()


def test_a_json_array_is_a_validation_error(writer):
    response = writer.put(URL, [{"name": "A"}])
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert not Customer.objects.exists()


def test_a_merged_away_reference_answers_with_the_survivor(writer, hq_user):
    survivor = factories.CustomerFactory(customer_ref="WEB-2", name="Survivor")
    duplicate = factories.CustomerFactory(customer_ref="WEB-1", name="Duplicate")
    services.customer_merge(survivor=survivor, duplicate=duplicate, by=hq_user)
    body = writer.get(URL).json()
    assert (body["customer_ref"], body["name"]) == ("WEB-2", "Survivor")
