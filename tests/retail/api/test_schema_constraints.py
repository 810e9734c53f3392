"""The schema states the constraints the API enforces: a sample of them appears in
`/api/v1/schema/`, and a request that breaks one is refused by the schema (JSON
Schema validation) and by the API (400 `validation_error` naming the field) alike."""

from __future__ import annotations

import copy
import re
import uuid
from decimal import Decimal

import jsonschema
import pytest

from retail.api.fields import REF_PATTERN, ecma
from retail.models import Scope
from tests import factories
from tests.retail.api.conftest import ApiClientHelper
from tests.retail.api.schema import openapi, operation, to_json_schema

pytestmark = pytest.mark.django_db


def component(name: str) -> dict:
    return openapi()["components"]["schemas"][name]


def parameter(method: str, path: str, name: str) -> dict:
    (found,) = [p for p in operation(method, path)["parameters"] if p["name"] == name]
    return found


def schema_accepts(name: str, body) -> bool:
    """Does the request component `name` (with its $refs) accept `body`?"""
    spec = openapi()
    resolved = to_json_schema({"components": spec["components"], **component(name)})
    try:
        jsonschema.validate(body, resolved)
    except jsonschema.ValidationError:
        return False
    return True


@pytest.fixture
def api():
    _client, key = factories.api_client(*Scope.values)
    return ApiClientHelper(key)


@pytest.fixture
def shop(store):
    factories.store_location(store)
    jumper = factories.VariantFactory(sku="JUMPER-M", price=Decimal("59.90"))
    factories.give_stock(store.stock_location, jumper, 5)
    factories.CustomerFactory(customer_ref="WEB-C1")


def assert_refused(response, field: str) -> None:
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == "validation_error"
    names = [set(key.split(".")) for key in body["errors"]]
    assert any(field in parts for parts in names), body


# --- What the schema says ----------------------------------------------------------


def test_sample_of_constraints_appears_in_the_schema():
    events = component("EventBatchRequest")["properties"]["events"]
    assert (events["minItems"], events["maxItems"]) == (1, 1000)
    event = component("EventInRequest")
    assert event["properties"]["event_id"]["format"] == "uuid"
    assert event["properties"]["occurred_at"]["format"] == "date-time"
    assert event["properties"]["customer_ref"]["maxLength"] == 64
    assert {"anyOf": [{"required": ["anonymous_id"]}, {"required": ["customer_ref"]}]} in event[
        "allOf"
    ]
    assert set(component("EventInKindEnum")["enum"]) == {
        "product_view",
        "add_to_cart",
        "remove_from_cart",
        "wishlist_add",
        "search",
    }

    sku = parameter("GET", "/api/v1/availability/", "sku")
    assert sku["required"] is True
    assert (sku["schema"]["minItems"], sku["schema"]["maxItems"]) == (1, 50)
    assert sku["schema"]["items"]["maxLength"] == 40
    assert parameter("GET", "/api/v1/availability/", "store")["schema"]["maxLength"] == 16

    order = component("OrderInRequest")
    assert set(order["required"]) == {"order_ref", "channel", "lines", "fulfillment", "payment"}
    assert order["properties"]["order_ref"]["pattern"] == ecma(REF_PATTERN)
    assert (order["properties"]["lines"]["minItems"], order["properties"]["lines"]["maxItems"]) == (
        1,
        100,
    )
    line = component("LineInRequest")["properties"]
    assert (line["quantity"]["minimum"], line["quantity"]["maximum"]) == (1, 10_000)
    assert line["unit_price"]["type"] == "string"
    assert line["unit_price"]["pattern"] == r"^[0-9]{1,10}(?:\.[0-9]{1,2})?$"
    tender = component("PaymentInRequest")["properties"]["tender"]
    assert (tender["type"], tender["maxLength"]) == ("string", 30)  # open text, as before
    assert "pattern" in tender
    assert set(component("FulfillmentInMethodEnum")["enum"]) == {"pickup", "ship", "carry_out"}
    assert "anyOf" in component("FulfillmentInRequest")

    for method, path, name in [
        ("GET", "/api/v1/orders/{order_ref}/", "order_ref"),
        ("POST", "/api/v1/orders/{order_ref}/cancel/", "order_ref"),
        ("GET", "/api/v1/customers/{customer_ref}/", "customer_ref"),
        ("PUT", "/api/v1/customers/{customer_ref}/", "customer_ref"),
    ]:
        schema = parameter(method, path, name)["schema"]
        assert (schema["maxLength"], schema["pattern"]) == (64, ecma(REF_PATTERN))


def request_strings(node, path="") -> list[tuple[str, dict]]:
    """Every string schema under a request component or parameter."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "string":
            found.append((path, node))
        for key, value in node.items():
            found += request_strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += request_strings(value, f"{path}[{index}]")
    return found


def is_bounded(string: dict) -> bool:
    if "enum" in string or string.get("maxLength") == 0:
        return True
    if string.get("format") in ("uuid", "date-time"):
        return True
    if string.get("format") == "decimal":
        return "pattern" in string
    if string.get("format") == "email":
        return "maxLength" in string
    return "maxLength" in string and "pattern" in string


def test_every_string_a_client_sends_is_bounded():
    """A generated client cannot send text the API would refuse for its size or NUL."""
    spec = openapi()
    sources = {
        name: schema
        for name, schema in spec["components"]["schemas"].items()
        if name.endswith("Request")
    }
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            for param in op.get("parameters", []):
                sources[f"{method} {path} {param['name']}"] = param["schema"]
    unbounded = []
    for name, schema in sources.items():
        for where, string in request_strings(schema, name):
            if re.search(r"\.anyOf|\.allOf", where) and "pattern" in string:
                continue  # a branch of a rule across fields, bounded by its property
            bounded = is_bounded(string)
            if not bounded:
                unbounded.append(where)
    assert unbounded == []


# --- The schema and the API refuse the same requests -------------------------------

ORDER = {
    "order_ref": "WEB-1001",
    "channel": "web",
    "customer_ref": "WEB-C1",
    "lines": [{"sku": "JUMPER-M", "quantity": 1, "unit_price": "59.90"}],
    "fulfillment": {"method": "pickup", "store": "S01"},
    "payment": {"tender": "card", "amount": "59.90", "reference": "psp-1"},
}


def changed(base: dict, change) -> dict:
    body = copy.deepcopy(base)
    change(body)
    return body


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("order_ref", lambda o: o.update(order_ref="W" * 65)),
        ("order_ref", lambda o: o.update(order_ref="WEB/1")),
        ("order_ref", lambda o: o.update(order_ref=" WEB-1")),
        ("order_ref", lambda o: o.update(order_ref="..")),
        ("channel", lambda o: o.update(channel="fax")),
        ("lines", lambda o: o.update(lines=[])),
        ("lines", lambda o: o.update(lines=o["lines"] * 101)),
        ("quantity", lambda o: o["lines"][0].update(quantity=0)),
        ("quantity", lambda o: o["lines"][0].update(quantity=10_001)),
        ("unit_price", lambda o: o["lines"][0].update(unit_price="59.901")),
        ("unit_price", lambda o: o["lines"][0].update(unit_price="-1.00")),
        ("sku", lambda o: o["lines"][0].update(sku="J" * 41)),
        ("sku", lambda o: o["lines"][0].update(sku="   ")),
        ("method", lambda o: o["fulfillment"].update(method="drone")),
        ("tender", lambda o: o["payment"].update(tender="t" * 31)),
        ("tender", lambda o: o["payment"].update(tender="  ")),
        ("amount", lambda o: o["payment"].update(amount="12345678901.00")),
        ("store", lambda o: o["fulfillment"].pop("store")),
        ("address", lambda o: o["fulfillment"].update(method="ship")),
        ("customer_ref", lambda o: o.pop("customer_ref")),
        ("payment", lambda o: o.pop("payment")),
    ],
)
def test_an_order_breaking_a_stated_constraint_is_refused_by_schema_and_api(
    api, shop, field, change
):
    body = changed(ORDER, change)
    assert schema_accepts("OrderInRequest", ORDER)
    assert not schema_accepts("OrderInRequest", body)
    assert_refused(api.post("/api/v1/orders/", body), field)


def test_a_till_sale_without_a_customer_is_valid_for_both(api, shop):
    body = changed(
        ORDER, lambda o: (o.pop("customer_ref"), o["fulfillment"].update(method="carry_out"))
    )
    assert schema_accepts("OrderInRequest", body)
    response = api.post("/api/v1/orders/", body)
    assert response.status_code == 201, response.content[:300]


EVENT = {
    "event_id": str(uuid.uuid4()),
    "occurred_at": "2026-03-01T10:15:00+00:00",
    "kind": "product_view",
    "customer_ref": "WEB-C1",
    "sku": "JUMPER-M",
    "channel": "web",
}


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("kind", lambda e: e.update(kind="purchase")),
        ("channel", lambda e: e.update(channel="fax")),
        ("customer_ref", lambda e: e.update(customer_ref="C" * 65)),
        ("sku", lambda e: e.pop("sku")),
        ("query", lambda e: e.update(kind="search")),
        ("non_field_errors", lambda e: e.pop("customer_ref")),
        ("sku", lambda e: e.update(sku="")),
    ],
)
def test_an_event_breaking_a_stated_constraint_is_refused_by_schema_and_api(
    api, shop, field, change
):
    body = {"events": [changed(EVENT, change)]}
    assert schema_accepts("EventBatchRequest", {"events": [EVENT]})
    assert not schema_accepts("EventBatchRequest", body)
    response = api.post("/api/v1/events/", body)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]["0"]


@pytest.mark.parametrize("size", [0, 1001])
def test_a_batch_outside_1_to_1000_events_is_refused_by_schema_and_api(api, size):
    body = {"events": [{**EVENT, "event_id": str(uuid.uuid4())} for _ in range(size)]}
    assert not schema_accepts("EventBatchRequest", body)
    response = api.post("/api/v1/events/", body)
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert "events" in response.json()["errors"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "sku=",
        "sku=" + "S" * 41,
        "&".join(f"sku=S{i}" for i in range(51)),
        "sku=A&store=" + "S" * 17,
    ],
)
def test_availability_outside_its_stated_query_is_a_validation_error(api, shop, query):
    response = api.get(f"/api/v1/availability/?{query}")
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/orders/" + "W" * 65 + "/", "order_ref"),
        ("/api/v1/orders/.hidden/", "order_ref"),
        ("/api/v1/orders/WEB-1%20/cancel/", "order_ref"),
        ("/api/v1/customers/%20WEB-C1/", "customer_ref"),
        ("/api/v1/customers/WEB%01/", "customer_ref"),
    ],
)
def test_a_path_reference_breaking_its_pattern_is_a_validation_error(api, shop, path, field):
    method = api.post if path.endswith("/cancel/") else api.get
    response = method(path, {}) if method == api.post else method(path)
    assert_refused(response, field)


def test_the_ref_pattern_reads_the_same_in_python_and_in_the_schema():
    python, ecma_pattern = re.compile(REF_PATTERN), re.compile(ecma(REF_PATTERN))
    for ref in ["WEB-1", "a", "a b", "ann@example.com", "x.y", "WEB-1\n", ".x", "a/b", "a\x00"]:
        expected = python.match(ref) is not None
        # JSON Schema's `$` (ECMA-262) is the end of the text, as Python's \Z.
        assert (ecma_pattern.fullmatch(ref) is not None) == expected, ref
