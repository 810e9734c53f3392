"""Every page under the Content-Security-Policy in a real browser (issue #19, Done when
4): an associate, a store manager, a kiosk and an HQ admin (after TOTP) sign in on the
demo network and open every page they can reach, and the browser records no CSP
violation (Chromium logs each on the console; `conftest.py` fails the test on one)
and no console error. Signed out: the login page, the API docs, an unsubscribe link
and a 404 page; and an HQ admin's first sign-in, on allauth's TOTP set-up with its
QR code.

The pages come from the URLconf: each of the area's named patterns (`/store/`,
`/kiosk/`, `/hq/`; admin's index and a sample of each app's pages; allauth's
account pages), with real objects of the seeded demo for its arguments.
The browser asks each URL first (with the role's cookies): what answers 200 with a
whole HTML page is opened; POST-only steps (405), redirects, CSVs and
fragments are left out (the fragments are loaded by the pages that hold them).
"""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import Page, expect

from orders.models import Fulfillment, Order
from retail import demo as demo_data
from retail.models import OutboundMessage, Product, Store
from returns.models import Return
from tests import factories
from tests.browser.steps import wait_until
from tests.browser.test_store_shell import DEMO_PASSWORD, demo  # noqa: F401
from tests.orders import ship_world
from tests.retail.test_access_matrix import all_patterns
from training.models import Attempt, Certification, Course

pytestmark = pytest.mark.browser

ASSOCIATE = "associate.s01@demo.aisle"
MANAGER = "manager.s01@demo.aisle"
KIOSK = "kiosk.s01@demo.aisle"
HQ = "hq@demo.aisle"
THIRD_PARTY = ("account_", "mfa_")


def _first(queryset):
    obj = queryset.order_by("pk").first()
    return obj.pk if obj is not None else None


def demo_arguments(demo) -> dict[str, object]:  # noqa: F811
    """A real object of the demo for each kind of URL argument (None: none exists).
    The demo ships from the DC only: a web order shipped from S01's shelf is added
    (as the access matrix's world does), so the store's shipping pages are walked."""
    associate = demo["associate"]
    store = Store.objects.get(code="S01")
    parcel = ship_world._parcel(SimpleNamespace(store=store, customer=demo["customer"]))
    customer = demo["customer"]
    product = Product.objects.filter(image__gt="").order_by("style_code").first()
    course = Course.objects.filter(texts__modules__isnull=False).order_by("code").first()
    pickup = (
        Fulfillment.objects.filter(location__code="S01", method="pickup")
        .order_by("-state", "pk")
        .first()
    )
    return {
        "customer": customer.pk,
        "style_code": product.style_code,
        "course": course.code,
        "attempt": _first(Attempt.objects.filter(enrolment__user=associate)),
        "certificate": _first(Certification.objects.filter(user=associate)),
        "member": associate.pk,
        "store": "S01",
        "parcel": parcel.pk,
        "pickup": pickup.pk if pickup else None,
        "pickup_line": pickup.lines.order_by("pk").first().pk if pickup else None,
        "order": _first(Order.objects.filter(customer=customer)),
        "return": _first(Return.objects.filter(store__code="S01")),
    }


def kwargs_for(name: str, converters, args: dict) -> dict | None:
    """The pattern's arguments from the demo, or None when it needs none we have."""
    by_key = {
        "style_code": args["style_code"],
        "code": args["store"] if name.startswith("training_hq:") else args["course"],
        "position": 1,
        "user_id": args["member"],
        "fulfillment_id": args["parcel"],
        "order_id": args["order"],
        "customer_id": args["customer"],
        "operation": "handover_without_code",
        "line_id": args["pickup_line"],
        "table": "revenue",
    }
    pk_by_area = {
        "training:attempt": args["attempt"],
        "training:certificate": args["certificate"],
        "orders_store:": args["pickup"],
        "returns_store:": args["return"],
    }
    kwargs = {}
    for key in converters:
        if key == "pk":
            value = next(
                (v for prefix, v in pk_by_area.items() if name.startswith(prefix)),
                args["customer"],
            )
        else:
            value = by_key.get(key)
        if value is None:
            return None
        kwargs[key] = value
    return kwargs


def own_pages(prefixes: tuple[str, ...], args: dict) -> list[str]:
    """Every named pattern under the prefixes, with the demo's objects."""
    urls = []
    for name, route, entry in all_patterns():
        if not name or name.startswith(("admin:", "api:", *THIRD_PARTY)):
            continue
        if not route.startswith(prefixes):
            continue
        kwargs = kwargs_for(name, entry.pattern.converters, args)
        if kwargs is None:
            continue
        try:
            urls.append(reverse(name, kwargs=kwargs))
        except NoReverseMatch:
            continue
    return urls


def account_pages() -> list[str]:
    """allauth's account and two-factor pages without arguments."""
    return [
        reverse(name)
        for name, _route, entry in all_patterns()
        if name
        and name.startswith(THIRD_PARTY)
        and not entry.pattern.regex.groups
        and name not in ("account_logout", "account_login")
    ]


def admin_pages() -> list[str]:
    """Admin's index, each app's index, and per app one change list and one change
    form (calendars, related-object links, inlines), plus every change list with a
    template of Aisle's. The rest are the same Django templates with other columns,
    whose markup written in Python the template scan reads: walking every change
    list and change form took as long as all the other pages together and found
    nothing more."""
    urls = [reverse("admin:index")]
    lists: dict[str, str] = {}
    forms: dict[str, str] = {}
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        prefix = f"admin:{meta.app_label}_{meta.model_name}"
        if meta.app_label not in lists or model_admin.change_list_template:
            lists.setdefault(meta.app_label, reverse("admin:app_list", args=[meta.app_label]))
            urls.append(reverse(f"{prefix}_changelist"))
        obj = model._default_manager.order_by("pk").first()
        if obj is not None and meta.app_label not in forms:
            forms[meta.app_label] = reverse(f"{prefix}_change", args=[obj.pk])
    return urls + list(lists.values()) + list(forms.values())


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if email == HQ:
        code = page.locator("input[name=code]")
        expect(code).to_be_visible()
        code.fill(demo_data.hq_totp_code())
        code.press("Enter")
        expect(page).to_have_url(re.compile(r"/hq/$"))
    page.wait_for_load_state()
    if email == MANAGER:  # the S01 manager works in S02 too: S01 today
        page.goto(reverse("retail:store_choose"))
        page.locator('button[name=store][value="S01"]').click()
        expect(page).to_have_url(re.compile(r"/store/$"))


def _is_whole_page(response) -> bool:
    return (
        response.status == 200
        and response.headers.get("content-type", "").startswith("text/html")
        and response.body()[:200].lstrip().lower().startswith(b"<!doctype html>")
    )


def visit(page: Page, urls: list[str]) -> list[str]:
    """Open each URL that answers a whole page of its own (asked first with the
    role's cookies: not a redirect, a refusal, a 405 for a POST-only step, a
    download or a fragment); the URLs opened."""
    opened = []
    for url in dict.fromkeys(urls):
        if not _is_whole_page(page.context.request.get(url, max_redirects=0)):
            continue
        response = page.goto(url, wait_until="domcontentloaded")
        assert response is not None and response.status == 200, url
        assert response.headers.get("content-security-policy"), url
        # Fragments a page loads by itself (hx-trigger="load") are in by now.
        wait_until(page, "!document.querySelector('.htmx-request')")
        opened.append(url)
    return opened


def watch_console(page: Page) -> list[str]:
    """Every console error of the page (a failed load, a script error), with where."""
    errors: list[str] = []

    def seen(message) -> None:
        if message.type == "error":
            source = (message.location or {}).get("url") or ""
            errors.append(f"{page.url} ({source}): {message.text}")

    page.on("console", seen)
    return errors


def test_every_page_of_every_role_loads_under_the_policy_without_a_violation(
    new_page,
    demo,  # noqa: F811
    caplog,
):
    caplog.set_level(logging.WARNING, logger="retail.csp_report")
    args = demo_arguments(demo)
    opened: dict[str, list[str]] = {}
    errors: list[str] = []

    anonymous = new_page()
    errors += watch_console(anonymous)
    message = OutboundMessage.objects.order_by("pk").first()
    public = [reverse("account_login"), reverse("api:docs")]
    if message is not None:
        from retail import unsubscribe

        public.append(reverse("unsubscribe", args=[unsubscribe.token_for(message)]))
    opened["signed out"] = visit(anonymous, public)
    not_found = anonymous.goto("/store/no-such-page/")
    assert not_found.status == 404 and not_found.headers.get("content-security-policy")

    # allauth's account pages are the same for all store staff: the associate opens
    # them; HQ's differ (TOTP on: its recovery codes, deactivation); a kiosk has none.
    roles = [
        ("associate", ASSOCIATE, ("store/",), True),
        ("store manager", MANAGER, ("store/",), False),
        ("kiosk", KIOSK, ("kiosk/",), False),
        ("HQ admin", HQ, ("hq/",), True),
    ]
    for role, email, prefixes, has_account in roles:
        page = new_page()
        role_errors = watch_console(page)
        sign_in(page, email)
        urls = own_pages(prefixes, args)
        if has_account:
            urls += account_pages()
        if email == HQ:
            urls += admin_pages()
        opened[role] = visit(page, urls)
        errors += role_errors
        page.context.close()

    # An HQ admin without TOTP yet is sent to set it up: allauth's page with its QR code
    # (a data: URI picture, which img-src allows).
    newcomer = factories.StaffFactory(role="hq_admin", email="hq.new@test.aisle")
    page = new_page()
    errors += watch_console(page)
    sign_in(page, newcomer.email, factories.PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))  # allauth's rule
    page.locator("input[name=password]").fill(factories.PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    qr = page.locator('img[src^="data:image/svg+xml"]')
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 0
    page.wait_for_load_state()

    reached = {role: len(urls) for role, urls in opened.items()}
    assert reached["associate"] >= 30 and reached["store manager"] >= 30
    assert reached["kiosk"] >= 3 and reached["HQ admin"] >= 40, reached
    assert errors == [], "\n".join(errors)
    reports = [r.getMessage() for r in caplog.records if r.name == "retail.csp_report"]
    assert reports == [], "\n".join(reports)


def test_a_violation_shows_on_the_console_and_reaches_the_report_endpoint(
    browser, live_server, caplog
):
    """The checks above can see a violation: an inline script added to a page is
    refused, logged on the console and reported to `/csp-report/`."""
    caplog.set_level(logging.WARNING, logger="retail.csp_report")
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto("/accounts/login/")
    with page.expect_request("**/csp-report/") as report:
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.ran = true'; document.head.appendChild(s); }"
        )
    assert report.value.method == "POST"
    report.value.response()
    assert page.evaluate("() => window.ran") is None
    assert any("Content Security Policy" in text for text in console), console
    context.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "retail.csp_report"]
    assert (
        "CSP violation: directive=script-src-elem blocked=inline "
        "document=/accounts/login/ disposition=enforce"
    ) in lines
