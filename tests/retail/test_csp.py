"""The Content-Security-Policy (issue #19): every kind of page answers with it, the
report-only switch sends the same policy without enforcing it, and `/csp-report/`
logs each report as one line without personal data, within its limits."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from retail import content_policy, csp_report, sessions
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
HEADER = "Content-Security-Policy"
REPORT_ONLY_HEADER = "Content-Security-Policy-Report-Only"
REPORT_URL = "/csp-report/"
EXPECTED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "worker-src": "'self'",
    "manifest-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
    "report-uri": REPORT_URL,
}


def directives(header: str) -> dict[str, str]:
    parts = (p.strip().split(" ", 1) for p in header.split(";") if p.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


@pytest.fixture(autouse=True)
def _fresh_budget():
    csp_report.budget.reset()
    yield
    csp_report.budget.reset()


@pytest.fixture
def report_logs(caplog):
    caplog.set_level(logging.WARNING, logger="retail.csp_report")

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "retail.csp_report"]

    return lines


# --- The header on every kind of page ---------------------------------------------


def _signed_in(client, role: str, store):
    if role == "hq_admin":
        factories.login_with_totp(client, factories.StaffFactory(role="hq_admin"))
    elif role == "hq_without_totp":
        # Sent to set TOTP up, which asks for the password once more (allauth's rule).
        user = factories.StaffFactory(role="hq_admin")
        client.force_login(user)
        client.post(reverse("account_reauthenticate"), {"password": factories.PASSWORD})
    else:
        client.force_login(factories.StaffFactory(role=role, home_store=store))
    return client


PAGES = [
    # (what, role, path, status, extra headers)
    ("associate page", "associate", "/store/", 200, {}),
    ("kiosk page", "kiosk", "/kiosk/", 200, {}),
    ("HQ page", "hq_admin", "/hq/", 200, {}),
    ("admin", "hq_admin", "/admin/", 200, {}),
    ("admin change list", "hq_admin", "/admin/retail/store/", 200, {}),
    ("API docs", None, "/api/v1/docs/", 200, {}),
    ("API docs' start-up script", None, "/api/v1/docs/?script=", 200, {}),
    ("login page", None, "/accounts/login/", 200, {}),
    ("TOTP set-up with its QR code", "hq_without_totp", "/accounts/2fa/totp/activate/", 200, {}),
    ("reauthentication", "associate", "/accounts/reauthenticate/", 200, {}),
    ("404 page", "associate", "/store/no-such-page/", 404, {}),
    ("403 page", "kiosk", "/store/", 403, {}),
    ("400 page", None, "/accounts/login/", 400, {"HTTP_HOST": "not-ours.example"}),
    ("htmx fragment", "associate", "/store/pickups/panel/", 200, {"HTTP_HX_REQUEST": "true"}),
]


@pytest.mark.parametrize(
    ("what", "role", "path", "status", "headers"), PAGES, ids=[p[0] for p in PAGES]
)
def test_every_kind_of_page_answers_with_the_policy(
    what, role, path, status, headers, client, store
):
    if role:
        _signed_in(client, role, store)
    response = client.get(path, **headers)
    assert response.status_code == status, (what, response.status_code, response.get("Location"))
    assert directives(response[HEADER]) == EXPECTED
    assert REPORT_ONLY_HEADER not in response


def test_the_policy_allows_no_inline_code_no_eval_and_no_other_origin(client, db):
    header = client.get("/accounts/login/")[HEADER]
    for loose in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "http:", "https:"):
        assert loose not in header.split(), loose
    assert "nonce-" not in header


def test_the_api_docs_load_their_start_up_script_from_a_file_not_inline(client, db):
    page = client.get("/api/v1/docs/").content.decode()
    assert '<script src="/api/v1/docs/?script=' in page
    assert "<script>" not in page and "<style" not in page and " style=" not in page
    script = client.get("/api/v1/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


# --- The report-only switch ---------------------------------------------------------


def test_report_only_sends_the_same_policy_as_report_only_and_enforces_nothing(
    client, settings, db
):
    enforced, reported = content_policy.policies(report_only=True)
    settings.CONTENT_SECURITY_POLICY = enforced
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = reported
    response = client.get("/accounts/login/")
    assert HEADER not in response
    # frame-ancestors is ignored in a report-only policy: X-Frame-Options still refuses framing.
    assert directives(response[REPORT_ONLY_HEADER]) == {
        k: v for k, v in EXPECTED.items() if k != "frame-ancestors"
    }
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(("value", "header"), [("1", REPORT_ONLY_HEADER), ("", HEADER)])
def test_the_csp_report_only_variable_chooses_the_header(value, header):
    code = (
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'retail.settings');"
        "import django; django.setup(); from django.conf import settings as s;"
        "print(bool(s.CONTENT_SECURITY_POLICY), bool(s.CONTENT_SECURITY_POLICY_REPORT_ONLY))"
    )
    env = {k: v for k, v in os.environ.items() if k != "CSP_REPORT_ONLY"}
    if value:
        env["CSP_REPORT_ONLY"] = value
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    expected = "False True" if header == REPORT_ONLY_HEADER else "True False"
    assert result.stdout.split("\n")[-2] == expected


# --- The report endpoint ---------------------------------------------------------------


def csp_report_body(**overrides) -> bytes:
    report = {
        "document-uri": "https://aisle.example.com/store/customers/42/?q=mei.chen%40example.com",
        "referrer": "https://aisle.example.com/store/?q=Mei",
        "violated-directive": "script-src-attr",
        "effective-directive": "script-src-attr",
        "original-policy": "default-src 'self'",
        "disposition": "enforce",
        "blocked-uri": "inline",
        "status-code": 200,
        "script-sample": "alert('mei.chen@example.com')",
    }
    report.update(overrides)
    return json.dumps({"csp-report": report}).encode()


def post_report(client, body: bytes, content_type: str = "application/csp-report", **extra):
    return client.generic("POST", REPORT_URL, body, content_type=content_type, **extra)


def test_a_report_is_one_warning_line_with_the_directive_and_the_page_and_no_personal_data(
    client, db, report_logs
):
    response = post_report(client, csp_report_body())
    assert response.status_code == 204
    assert report_logs() == [
        "CSP violation: directive=script-src-attr blocked=inline "
        "document=/store/customers/<int:pk>/ disposition=enforce"
    ]
    assert "mei" not in report_logs()[0].lower() and "42" not in report_logs()[0]


def test_a_blocked_address_is_logged_as_its_scheme_and_host_only(client, db, report_logs):
    blocked = "https://user:secret@cdn.example.net:8443/lib.js?customer=mei.chen%40example.com"
    post_report(
        client,
        csp_report_body(**{"blocked-uri": blocked, "effective-directive": "script-src-elem"}),
    )
    post_report(
        client, csp_report_body(**{"blocked-uri": "data", "effective-directive": "img-src"})
    )
    post_report(client, csp_report_body(**{"blocked-uri": "data:image/png;base64,AAAA"}))
    lines = report_logs()
    assert "blocked=https://cdn.example.net:8443 " in lines[0]
    assert "secret" not in lines[0] and "lib.js" not in lines[0] and "mei" not in lines[0]
    assert "directive=img-src blocked=data: " in lines[1]
    assert "blocked=data: " in lines[2] and "AAAA" not in lines[2]


def test_a_page_aisle_does_not_know_is_logged_by_its_path_without_the_query(
    client, db, report_logs
):
    post_report(
        client, csp_report_body(**{"document-uri": "https://aisle.example.com/nowhere/x?token=abc"})
    )
    assert "document=/nowhere/x " in report_logs()[0]
    assert "abc" not in report_logs()[0]


def test_nothing_in_a_report_can_break_the_log_line(client, db, report_logs):
    post_report(
        client,
        csp_report_body(
            **{
                "effective-directive": "script-src\nFAKE LINE",
                "blocked-uri": "https://evil.example\n/x",
                "document-uri": "https://aisle.example.com/no\nwhere/\u0000",
            }
        ),
    )
    (line,) = report_logs()
    assert "\n" not in line and "\x00" not in line and "FAKE" not in line


def test_the_reporting_api_format_is_accepted_one_line_per_report(client, db, report_logs):
    body = json.dumps(
        [
            {
                "type": "csp-violation",
                "age": 10,
                "url": "https://aisle.example.com/kiosk/?q=coat",
                "user_agent": "Chromium",
                "body": {
                    "documentURL": "https://aisle.example.com/kiosk/?q=coat",
                    "effectiveDirective": "style-src-attr",
                    "blockedURL": "inline",
                    "disposition": "report",
                    "statusCode": 200,
                },
            },
            {
                "type": "csp-violation",
                "url": "https://aisle.example.com/store/",
                "body": {
                    "documentURL": "https://aisle.example.com/store/",
                    "effectiveDirective": "script-src-elem",
                    "blockedURL": "https://cdn.example.net/htmx.js",
                    "disposition": "enforce",
                },
            },
            {"type": "deprecation", "url": "https://aisle.example.com/store/", "body": {}},
        ]
    ).encode()
    response = post_report(client, body, content_type="application/reports+json")
    assert response.status_code == 204
    assert report_logs() == [
        "CSP violation: directive=style-src-attr blocked=inline document=/kiosk/ "
        "disposition=report",
        "CSP violation: directive=script-src-elem blocked=https://cdn.example.net "
        "document=/store/ disposition=enforce",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "The report is not valid JSON."),
        (b"\xff\xfe", "The report is not valid JSON."),
        (b'{"csp-report": "x"}', "The body holds no Content-Security-Policy report."),
        (b"[]", "The body holds no Content-Security-Policy report."),
        (b"42", "The body holds no Content-Security-Policy report."),
    ],
)
def test_a_body_that_is_no_report_answers_400_with_a_message(
    client, db, report_logs, body, message
):
    response = post_report(client, body)
    assert response.status_code == 400
    assert response.json() == {"code": "parse_error", "detail": message}
    assert report_logs() == []


def test_a_report_over_16_kb_answers_413_unread(client, db, report_logs):
    big = csp_report_body(**{"script-sample": "x" * (16 * 1024)})
    response = post_report(client, big)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    # A body longer than its Content-Length says is cut at the limit all the same.
    lying = post_report(client, big, CONTENT_LENGTH="100")
    assert lying.status_code in (400, 413)
    assert report_logs() == []


def test_a_report_of_16_kb_exactly_is_accepted(client, db, report_logs):
    body = csp_report_body(**{"script-sample": ""})
    body = body[:-2] + b" " * (16 * 1024 - len(body)) + body[-2:]
    assert len(body) == 16 * 1024
    assert post_report(client, body).status_code == 204


def test_another_content_type_answers_415(client, db):
    response = post_report(client, csp_report_body(), content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_get_answers_405(client, db):
    assert client.get(REPORT_URL).status_code == 405


def test_anyone_may_report_without_a_csrf_token_signed_in_or_not_a_kiosk_too(store):
    from retail import access

    assert {"csp_report"} == access.PUBLIC_REPORTS
    assert reverse("csp_report") == REPORT_URL
    anonymous = Client(enforce_csrf_checks=True)
    assert post_report(anonymous, csp_report_body()).status_code == 204
    for role in ("associate", "store_manager", "kiosk"):
        signed_in = Client(enforce_csrf_checks=True)
        signed_in.force_login(factories.StaffFactory(role=role, home_store=store))
        assert post_report(signed_in, csp_report_body()).status_code == 204, role
    hq = Client(enforce_csrf_checks=True)
    factories.login_with_totp(hq, factories.StaffFactory(role="hq_admin"))
    assert post_report(hq, csp_report_body()).status_code == 204


def test_a_report_is_not_the_staff_members_activity(client, associate):
    """Like a poll, a report the browser sends by itself keeps no session alive."""
    client.force_login(associate)
    session = client.session
    five_minutes_ago = time.time() - 300
    session[sessions.LAST_SEEN_KEY] = five_minutes_ago
    session.save()
    assert post_report(client, csp_report_body()).status_code == 204
    assert client.session[sessions.LAST_SEEN_KEY] == five_minutes_ago
    client.get("/store/")
    assert client.session[sessions.LAST_SEEN_KEY] > five_minutes_ago


def test_each_process_logs_at_most_the_limit_a_minute_then_says_how_many_it_dropped(
    client, db, report_logs, settings, monkeypatch
):
    settings.AISLE_CSP_REPORTS_PER_MINUTE = 3
    now = [5000.0]
    monkeypatch.setattr(csp_report.time, "monotonic", lambda: now[0])
    for _ in range(5):
        assert post_report(client, csp_report_body()).status_code == 204
    assert len(report_logs()) == 3
    now[0] += 61
    post_report(client, csp_report_body())
    lines = report_logs()
    assert lines[3] == "CSP reports not logged in the last minute: 2 (over 3)"
    assert lines[4].startswith("CSP violation:")
    assert len(lines) == 5


# --- A third-party page's narrow exception --------------------------------------------


def test_allauths_email_page_may_hide_its_pending_form_and_nothing_else(client, associate):
    """While a new address waits for verification, allauth's e-mail page hides an empty
    form with a style attribute: its hash (and only its) is allowed, on that page only."""
    import base64
    import hashlib
    import re

    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=associate, email="new@test.aisle", verified=False)
    client.force_login(associate)
    client.post(reverse("account_reauthenticate"), {"password": factories.PASSWORD})
    response = client.get(reverse("account_email"))
    assert response.status_code == 200
    styles = re.findall(r'\sstyle="([^"]*)"', response.content.decode())
    assert styles, "allauth's page hides its pending-address form"
    policy = directives(response[HEADER])
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["style-src-attr"].split()
    assert policy["style-src-attr"].startswith("'unsafe-hashes' ")
    assert {k: v for k, v in policy.items() if k != "style-src-attr"} == EXPECTED
    assert "style-src-attr" not in directives(client.get("/store/")[HEADER])


def test_json_answers_carry_a_policy_that_allows_nothing(client, db):
    from retail.headers import JSON_POLICY

    answer = client.get("/api/v1/availability/?sku=X")  # 401: no key
    assert answer["Content-Type"].startswith("application/json")
    assert answer[HEADER] == JSON_POLICY == "default-src 'none'; frame-ancestors 'none'"
    assert REPORT_ONLY_HEADER not in answer
    page = client.get("/accounts/login/")
    assert directives(page[HEADER]) == EXPECTED
