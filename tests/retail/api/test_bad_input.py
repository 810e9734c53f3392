"""Bad input that used to reach a 500 (an HTML page): each is a JSON 4xx now."""

import threading

import pytest
from django.db import connection

from retail.models import AuditLog, Customer
from tests import factories
from tests.retail.api.conftest import ApiClientHelper


def assert_json_error(response, status, code):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["[" * 100_000, '{"name": ' * 100_000])
def test_json_nested_too_deeply_is_a_parse_error(api, body):
    response = api("customers:write").put("/api/v1/customers/WEB-1/", body)
    assert_json_error(response, 400, "parse_error")
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_a_reference_with_a_null_character_is_a_validation_error(api):
    client = api("customers:read", "customers:write")
    body = assert_json_error(client.get("/api/v1/customers/WEB%00-1/"), 400, "validation_error")
    assert list(body["errors"]) == ["customer_ref"]
    response = client.put("/api/v1/customers/WEB%00-1/", {"name": "Ann Lee"})
    assert_json_error(response, 400, "validation_error")
    assert not Customer.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="customer.api").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_puts_of_one_reference_make_one_customer():
    """A resent PUT racing the original: one creates (201), the others update (200)."""
    _client, key = factories.api_client("customers:write")
    count = 20
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    lock = threading.Lock()

    def put(number: int) -> None:
        try:
            helper = ApiClientHelper(key)
            barrier.wait(timeout=30)
            response = helper.put("/api/v1/customers/WEB-RACE/", {"name": f"Ann Lee {number}"})
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=put, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * (count - 1) + [201]
    assert Customer.objects.filter(customer_ref="WEB-RACE").count() == 1
    assert AuditLog.objects.filter(action="customer.api_create").count() == 1
    assert AuditLog.objects.filter(action="customer.api_update").count() == count - 1
