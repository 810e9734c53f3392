"""The API's conventions: one error format for every failure, auth, scopes, limits."""

import datetime as dt
import re

import pytest
import time_machine

from retail.api_clients import api_client_deactivate, api_client_rotate
from retail.models import ApiClient, Customer
from tests import factories
from tests.retail.api.conftest import ApiClientHelper
from tests.retail.api.schema import assert_matches_schema, operation, operations

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/WEB-1/"
PATH = "/api/v1/customers/{customer_ref}/"


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    return body


def test_parse_error(api):
    response = api("customers:write").put(URL, '{"name": ')
    assert_error(response, 400, "parse_error")
    assert_matches_schema(response, "PUT", PATH)


def test_validation_error_names_the_fields(api):
    response = api("customers:write").put(URL, {"name": "", "email": "not-an-email"})
    body = assert_error(response, 400, "validation_error")
    assert set(body["errors"]) >= {"email"}
    assert_matches_schema(response, "PUT", PATH)


def test_not_authenticated_without_a_key_or_with_a_bad_one(anonymous_api):
    response = anonymous_api.get(URL)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"
    assert_error(ApiClientHelper("aisle_00000000_guess").get(URL), 401, "not_authenticated")
    assert_error(ApiClientHelper("garbage").get(URL), 401, "not_authenticated")


def test_permission_denied_without_the_scope(api):
    assert_error(api("customers:read").put(URL, {"name": "A"}), 403, "permission_denied")
    assert not Customer.objects.exists()


def test_not_found_for_an_unknown_customer_and_an_unknown_path(api):
    client = api("customers:read")
    response = client.get("/api/v1/customers/NO-SUCH/")
    assert_error(response, 404, "not_found")
    assert_matches_schema(response, "GET", PATH)
    assert_error(client.get("/api/v1/no/such/thing/"), 404, "not_found")


def test_too_large_over_4_mb(api):
    body = '{"name": "' + "x" * (5 * 1024 * 1024) + '"}'
    assert_error(api("customers:write").put(URL, body), 413, "too_large")
    assert not Customer.objects.exists()


def test_unsupported_media_type_for_a_form_body(api):
    response = api("customers:write").put(
        URL, "name=A", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 415, "unsupported_media_type")


def test_method_not_allowed_is_json_too(api):
    response = api("customers:write").post(URL, {"name": "A"})
    assert_error(response, 405, "method_not_allowed")


def test_throttled_after_the_clients_rate(api):
    client = api("customers:read", rate="60/m")
    # The window is a fixed minute: the clock stands still at its start, so a slow
    # machine cannot spread the 61 requests over two windows.
    with time_machine.travel(dt.datetime(2026, 12, 4, 10, 0, 0, tzinfo=dt.UTC), tick=False):
        for _ in range(60):
            assert client.get("/api/v1/customers/NO-SUCH/").status_code == 404
        response = client.get("/api/v1/customers/NO-SUCH/")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1


def test_revoked_and_rotated_keys_stop_working(db):
    client, key = factories.api_client("customers:read")
    helper = ApiClientHelper(key)
    assert helper.get("/api/v1/customers/NO-SUCH/").status_code == 404
    new_key = api_client_rotate(client=client)
    assert_error(helper.get(URL), 401, "not_authenticated")
    assert ApiClientHelper(new_key).get("/api/v1/customers/NO-SUCH/").status_code == 404
    api_client_deactivate(client=client)
    assert_error(ApiClientHelper(new_key).get(URL), 401, "not_authenticated")


def test_last_used_is_written_at_most_once_a_minute(db, django_assert_num_queries):
    client, key = factories.api_client("customers:read")
    helper = ApiClientHelper(key)
    helper.get("/api/v1/customers/NO-SUCH/")
    first = ApiClient.objects.get(pk=client.pk).last_used_at
    assert first is not None
    # The client comes from the cache; the customer lookup is the one query; no write.
    with django_assert_num_queries(1):
        helper.get("/api/v1/customers/NO-SUCH/")
    assert ApiClient.objects.get(pk=client.pk).last_used_at == first


def test_every_operation_refuses_a_missing_and_a_wrong_scope_token(db):
    """Walks the schema: each secured operation answers 401 without a key and 403 with a
    key lacking its scope (a client holding every other scope)."""
    from retail.models import Scope

    anonymous = ApiClientHelper(None)
    walked = 0
    for method, path in operations():
        op = operation(method, path)
        if not op.get("security") or {} in op["security"]:
            continue  # public: the schema and the docs
        needed = set(op.get("x-scopes", []))
        assert needed, f"{method} {path} documents no scope"
        _client, key = factories.api_client(*(set(Scope.values) - needed))
        wrong = ApiClientHelper(key)
        url = path.replace("{customer_ref}", "WEB-1").replace("{order_ref}", "ORD-1")
        for helper, status, code in (
            (anonymous, 401, "not_authenticated"),
            (wrong, 403, "permission_denied"),
        ):
            call = getattr(helper.client, method.lower())
            if method == "GET":
                response = call(url, **helper.headers)
            else:
                response = call(url, "{}", content_type="application/json", **helper.headers)
            assert response.status_code == status, (method, path, response.status_code)
            assert response.json()["code"] == code
        walked += 1
    assert walked >= 2


def test_schema_and_docs_need_no_token_and_load_nothing_from_outside(anonymous_api):
    schema = anonymous_api.get("/api/v1/schema/")
    assert schema.status_code == 200
    docs = anonymous_api.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    # Every script, style and image comes from Aisle itself: no address with a host.
    # (Matching "cdn" in the page was flaky: the random CSRF token may contain it.)
    sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert sources, "the docs page loads its scripts"
    external = [s for s in sources if re.match(r"^(?:[a-z]+:)?//", s, re.I)]
    assert external == []
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost|testserver)", html)
