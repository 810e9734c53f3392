"""NUL bytes and invalid UTF-8 anywhere in a request answer 400, never a 500:
JSON on the API (`parse_error` for bytes that are not UTF-8, `validation_error`
naming where a NUL was), Django's 400 page elsewhere."""

import json

import pytest
from django.test import Client

from clienteling.models import BrowsingEvent
from orders.models import Order
from retail.models import Customer
from tests import factories

pytestmark = pytest.mark.django_db

AVAILABILITY = "/api/v1/availability/"


@pytest.fixture
def key():
    _client, key = factories.api_client(
        "availability:read", "customers:read", "customers:write", "events:write", "orders:write"
    )
    return key


def get(key, url, **extra):
    return Client().get(url, HTTP_AUTHORIZATION=f"Token {key}", **extra)


def send(key, method, url, body: bytes, content_type="application/json"):
    call = getattr(Client(), method)
    return call(url, body, content_type=content_type, HTTP_AUTHORIZATION=f"Token {key}")


def assert_api_400(response, code):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    return body


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("sku=A%00", "sku"),
        ("sku=A&store=S%00", "store"),
        ("sk%00u=A", "query"),
        ("sku=A&%00%00=%00", "query"),
        ("sku=%00&sku[]=x&s%C3%A9=1", "sku"),
    ],
)
def test_availability_with_nul_bytes_and_odd_names_is_a_json_400(key, query, where):
    """The fuzzer's find: these answered an HTML 500 (PostgreSQL refuses NUL)."""
    factories.VariantFactory(sku="A")
    body = assert_api_400(get(key, f"{AVAILABILITY}?{query}"), "validation_error")
    assert list(body["errors"]) == [where]


@pytest.mark.parametrize("query", ["sku=%FF", "sku=A&store=%C3%28", "%FE=A&sku=A"])
def test_invalid_utf8_in_the_query_is_a_parse_error(key, query):
    factories.VariantFactory(sku="A")
    assert_api_400(get(key, f"{AVAILABILITY}?{query}"), "parse_error")


def test_nul_in_a_path_parameter_names_the_parameter(key):
    body = assert_api_400(get(key, "/api/v1/customers/WEB%00-1/"), "validation_error")
    assert list(body["errors"]) == ["customer_ref"]
    body = assert_api_400(get(key, "/api/v1/orders/W%00/cancel/"), "validation_error")
    assert list(body["errors"]) == ["order_ref"]


def test_invalid_utf8_in_the_path_is_a_parse_error(key):
    assert_api_400(get(key, "/api/v1/customers/WEB%FF/"), "parse_error")
    assert_api_400(get(key, "/api/v1/nowhere%C0%AF/"), "parse_error")


def test_nul_or_invalid_utf8_in_a_header_is_a_400(key):
    body = assert_api_400(
        get(key, f"{AVAILABILITY}?sku=A", HTTP_X_REQUEST_ID="a\x00b"), "validation_error"
    )
    assert list(body["errors"]) == ["header:X-Request-Id"]
    # A WSGI server hands header bytes over as ISO-8859-1 characters: b"\xff" is "ÿ".
    assert_api_400(get(key, f"{AVAILABILITY}?sku=A", HTTP_USER_AGENT="\xff\xfe"), "parse_error")
    assert_api_400(Client().get(AVAILABILITY, HTTP_AUTHORIZATION="Token \x00"), "validation_error")


def test_a_header_in_utf8_is_accepted(key):
    factories.VariantFactory(sku="A")
    # "é" sent as UTF-8 arrives as the two ISO-8859-1 characters "Ã©".
    response = get(key, f"{AVAILABILITY}?sku=A", HTTP_USER_AGENT="caf\xc3\xa9")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/api/v1/customers/WEB-1/"),
        ("post", "/api/v1/events/"),
        ("post", "/api/v1/identify/"),
        ("post", "/api/v1/orders/"),
    ],
)
@pytest.mark.parametrize(
    "body",
    [b'{"name": "Ann\x00"}', b'{"name": "Ann \xff"}', b'\xef\xbb\xbf{"name": "\xc3\x28"}'],
)
def test_raw_nul_or_invalid_utf8_in_a_json_body_is_a_parse_error(key, method, url, body):
    assert_api_400(send(key, method, url, body), "parse_error")
    assert not Customer.objects.exists()
    assert not Order.objects.exists()


def test_nul_in_a_body_of_another_media_type_is_a_400_too(key):
    assert_api_400(
        send(key, "put", "/api/v1/customers/WEB-1/", b"a\x00", "text/plain"), "parse_error"
    )


def escaped_nul(value: str) -> str:
    return value + "\u0000"


def test_an_escaped_nul_in_a_customer_is_a_validation_error(key):
    for field in ("name", "email", "phone", "preferred_store"):
        body = json.dumps({"name": "Ann Lee", field: escaped_nul("x")})
        response = send(key, "put", "/api/v1/customers/WEB-1/", body.encode())
        assert list(assert_api_400(response, "validation_error")["errors"]) == [field]
    assert not Customer.objects.exists()


def test_an_escaped_nul_in_an_event_is_a_validation_error(key):
    good = {
        "event_id": "0b6ff9a4-6f4e-4a55-9a8b-1e0f7bb1d7c1",
        "occurred_at": "2026-03-01T10:15:00+00:00",
        "kind": "search",
        "anonymous_id": "anon-1",
        "query": "coat",
        "channel": "web",
    }
    for field in ("anonymous_id", "customer_ref", "sku", "query", "url"):
        event = {**good, field: escaped_nul("x")}
        response = send(key, "post", "/api/v1/events/", json.dumps({"events": [event]}).encode())
        assert assert_api_400(response, "validation_error")["errors"] == {
            "0": {field: ["Null characters are not allowed."]}
        }
    response = send(
        key,
        "post",
        "/api/v1/identify/",
        json.dumps({"anonymous_id": "a\u0000", "customer_ref": "WEB-1"}).encode(),
    )
    assert_api_400(response, "validation_error")
    assert not BrowsingEvent.objects.exists()


def test_an_escaped_nul_in_an_order_is_a_validation_error(key):
    order = {
        "order_ref": "WEB-1",
        "channel": "web",
        "customer_ref": "WEB-1",
        "lines": [{"sku": "A", "quantity": 1, "unit_price": "10.00"}],
        "fulfillment": {
            "method": "ship",
            "address": {
                "name": "Ann",
                "line1": "1 Rue Mercière",
                "city": "Lyon",
                "postcode": "69002",
                "country": "FR",
            },
        },
        "payment": {"tender": "card", "amount": "10.00", "reference": "r"},
    }
    cases = [
        ("order_ref", lambda o: o.update(order_ref="W\u0000")),
        ("customer_ref", lambda o: o.update(customer_ref="W\u0000")),
        ("lines.0.sku", lambda o: o["lines"][0].update(sku="A\u0000")),
        ("lines.0.unit_price", lambda o: o["lines"][0].update(unit_price="1\u0000")),
        ("fulfillment.address.city", lambda o: o["fulfillment"]["address"].update(city="L\u0000")),
        ("payment.reference", lambda o: o["payment"].update(reference="r\u0000")),
    ]
    for field, change in cases:
        body = json.loads(json.dumps(order))
        change(body)
        response = send(key, "post", "/api/v1/orders/", json.dumps(body).encode())
        assert field in assert_api_400(response, "validation_error")["errors"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "url", ["/store/%00/", "/store/?q=%00", "/store/?q=%FF", "/accounts/login/%C3%28"]
)
def test_pages_answer_django_400_for_bad_bytes(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")


def test_a_form_with_a_nul_is_a_400_page(client):
    response = client.post(
        "/accounts/login/",
        "login=a%00b&password=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh\x00")
    assert response.status_code == 400


def test_under_asgi_the_raw_path_is_checked_too():
    """ASGI servers decode the path with replacement; the guard reads `raw_path`."""
    import io

    from django.core.handlers.asgi import ASGIRequest

    from retail.guards import BadBytesMiddleware

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/customers/WEB\ufffd/",
        "raw_path": b"/api/v1/customers/WEB%FF/",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
    }
    guard = BadBytesMiddleware(lambda request: pytest.fail("the view was reached"))
    response = guard(ASGIRequest(scope, io.BytesIO(b"")))
    assert response.status_code == 400
    assert json.loads(response.content)["code"] == "parse_error"
