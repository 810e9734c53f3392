"""Every API error is JSON `{"code", "detail"}`; pages get a friendly error page in
the user's language that renders without the database; the database unreachable
answers 503 `unavailable` with `Retry-After`."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

from retail.api import views as api_views
from tests import factories

CUSTOMER_URL = "/api/v1/customers/WEB-1/"


@pytest.fixture
def key(db):
    _client, key = factories.api_client("customers:read", "customers:write")
    return key


def api(key: str | None = None, **kwargs) -> Client:
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"} if key else {}
    return Client(raise_request_exception=False, **headers, **kwargs)


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.fixture
def database_down(db, monkeypatch):
    """Every query fails as with PostgreSQL stopped (its connection refused); undone
    before the test database is cleaned up."""

    def refuse(self, *args, **kwargs):
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(CursorWrapper, "execute", refuse)
        patch.setattr(CursorWrapper, "executemany", refuse)
        yield


# --- The API --------------------------------------------------------------------


def test_an_unexpected_exception_in_a_view_answers_json_500(key, monkeypatch, caplog):
    def broken(self, request, customer_ref):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api_views.CustomerView, "get", broken)
    response = api(key).get(CUSTOMER_URL)
    assert_json_error(response, 500, "server_error")
    # Logged once, with its traceback.
    logged = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(logged) == 1 and logged[0].exc_info


def test_unknown_api_paths_answer_json_404_for_every_method_without_csrf(key):
    enforcing = Client(enforce_csrf_checks=True)  # no token, no cookie: as a partner's server
    for method in ("get", "post", "put", "patch", "delete"):
        response = getattr(enforcing, method)("/api/v1/no-such-thing/", content_type="text/plain")
        assert_json_error(response, 404, "not_found")
    with_key = api(key, enforce_csrf_checks=True)
    assert_json_error(with_key.post("/api/v1/orders/x/y/z/"), 404, "not_found")


def test_unknown_and_unsupported_methods_answer_json_405(key):
    client = api(key)
    assert_json_error(client.generic("PURGE", CUSTOMER_URL), 405, "method_not_allowed")
    assert_json_error(client.patch(CUSTOMER_URL), 405, "method_not_allowed")


def test_the_database_unreachable_answers_json_503_with_retry_after(key, database_down):
    response = api(key).get(CUSTOMER_URL)
    assert_json_error(response, 503, "unavailable")
    assert int(response["Retry-After"]) > 0


def test_the_database_unreachable_inside_a_write_answers_json_503(key, monkeypatch):
    from retail import services

    def refused(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "customer_upsert", refused)
    response = api(key).put(CUSTOMER_URL, '{"name": "A"}', content_type="application/json")
    assert_json_error(response, 503, "unavailable")


# --- Pages ------------------------------------------------------------------------


def test_a_page_meeting_the_database_down_answers_a_friendly_503(associate, database_down):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "a-session-the-database-cannot-read"
    response = client.get("/store/")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "Aisle is briefly unavailable" in page
    assert 'class="topbar"' in page  # the base template's shell


def test_the_503_page_is_in_chinese_for_a_chinese_reader(associate, database_down):
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.cookies["sessionid"] = "a-session-the-database-cannot-read"
    response = client.get("/store/")
    assert response.status_code == 503
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert "Aisle 暂时无法使用" in page


def test_a_page_raising_answers_the_friendly_500_page(client, associate, monkeypatch):
    from retail import access

    def broken(request):
        raise RuntimeError("a bug")

    monkeypatch.setattr(access, "current_store", broken)
    client.force_login(associate)
    client.raise_request_exception = False
    response = client.get("/store/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert 'class="topbar"' in response.content.decode()

    client.cookies["django_language"] = "zh-hans"
    chinese = client.get("/store/")
    assert chinese.status_code == 500
    assert "出错了" in chinese.content.decode()


@pytest.mark.parametrize(
    ("language", "text"), [("en", "Page not found"), ("zh-hans", "页面未找到")]
)
def test_an_unknown_page_answers_the_friendly_404_in_the_readers_language(
    client, associate, language, text
):
    client.force_login(associate)
    client.cookies["django_language"] = language
    response = client.get("/store/no-such-page/")
    assert response.status_code == 404
    assert text in response.content.decode()


def test_a_bad_request_answers_the_friendly_400_page(client, db):
    response = client.get("/accounts/login/", HTTP_HOST="not-ours.example")
    assert response.status_code == 400
    assert "Aisle could not read this request" in response.content.decode()


def test_a_form_without_its_csrf_token_answers_the_friendly_403_page(associate):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.post("/accounts/login/", {"login": associate.email, "password": "x"})
    assert response.status_code == 403
    assert "表单已过期" in response.content.decode()


def test_a_refused_page_answers_the_friendly_403_page(client, kiosk_user):
    client.force_login(kiosk_user)
    response = client.get("/store/")
    assert response.status_code == 403
    assert "You cannot open this page" in response.content.decode()
