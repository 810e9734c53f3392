"""Playwright fixtures for Aisle's browser tests.

They drive Debian's Chromium (`apt-get install chromium fonts-noto-cjk`) through
the sync Playwright API against pytest-django's `live_server`. Where that
Chromium is missing the tests skip, except in CI, where they fail.

Fixtures:
- `page`: a fresh browser context (its own cookies) at 1024×768, the tablet.
- `phone_page`: the same at 390×844, a phone in portrait.
- `new_page(**context_options)`: another page in a context of its own.
- `shot(page, name)`: a full-page screenshot in
  `test-artifacts/screenshots/<test>/<NN>-<name>.png` (not committed).

Every page fails its test when the browser reports a JavaScript error, a
Content-Security-Policy violation (Chromium logs each on the console) or the
server answers 500 or more.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests import factories

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = "Debian's chromium is not installed (apt-get install chromium)"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # The machines are offline: nothing may phone home.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000
HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parent.parent / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(config, items):
    """Every test under tests/browser/ is a browser test (`-m "not browser"` leaves them out)."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so a page can screenshot a failure."""
    report = yield
    setattr(item, f"aisle_report_{report.when}", report)
    return report


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the browser tests, closed after the last of them.

    Package scope rather than session scope: the Playwright loop must not keep
    running through the rest of the suite.
    """
    if not CHROMIUM.exists():
        if _in_ci():
            pytest.fail(f"{CHROMIUM_MISSING}; CI must run the browser tests", pytrace=False)
        pytest.skip(CHROMIUM_MISSING)
    # The sync API keeps an asyncio loop running in this thread while Playwright
    # is up, so Django's guard would refuse every ORM call a test (or a fixture,
    # such as the database flush) makes meanwhile. Allowed for that time only.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if before is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def new_page(browser, live_server, request) -> Iterator[Callable[..., Page]]:
    """Open pages in contexts of their own, with relative URLs on the live server."""
    opened: list[tuple[Page, list[str]]] = []

    def open_page(**context_options) -> Page:
        options = {"viewport": TABLET, "locale": "en-GB", "base_url": live_server.url}
        options.update(context_options)
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
        page.on("console", lambda message: _csp_violation(message, problems))
        page.on(
            "response",
            lambda response: (
                problems.append(f"{response.status} from {response.request.method} {response.url}")
                if response.status >= 500
                else None
            ),
        )
        opened.append((page, problems))
        return page

    yield open_page

    failed = any(
        getattr(getattr(request.node, f"aisle_report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )
    problems = []
    for number, (page, page_problems) in enumerate(opened, start=1):
        if failed and not page.is_closed():
            folder = _screenshot_folder(request.node.name)
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=folder / f"failed-page{number}.png", full_page=True)
        page.context.close()
        problems += page_problems
    if problems and not failed:
        pytest.fail("The browser saw errors:\n" + "\n".join(problems), pytrace=False)


CSP_MARKERS = ("Content Security Policy", "Content-Security-Policy")


def _csp_violation(message, problems: list[str]) -> None:
    """A console message about the Content-Security-Policy (a blocked inline handler,
    style or script: "Refused to … because it violates the following Content Security
    Policy directive") is a problem of the page, like a JavaScript error."""
    text = message.text
    if any(marker in text for marker in CSP_MARKERS):
        where = (message.location or {}).get("url") or "the page"
        problems.append(f"CSP violation on {where}: {text}")


@pytest.fixture
def page(new_page) -> Page:
    """A page at 1024×768, the size of the store tablets."""
    return new_page()


@pytest.fixture
def phone_page(new_page) -> Page:
    """A page on a phone in portrait: 390×844, touch, honouring the viewport meta tag."""
    return new_page(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)


def _slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text).strip("-")


def _screenshot_folder(test_name: str) -> Path:
    return SCREENSHOTS / _slug(test_name)


@pytest.fixture
def shot(request) -> Callable[[Page, str], Path]:
    """`shot(page, "step-name")` saves the next numbered screenshot of this test."""
    folder = _screenshot_folder(request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    taken = 0

    def take(page: Page, name: str) -> Path:
        nonlocal taken
        taken += 1
        path = folder / f"{taken:02d}-{_slug(name)}.png"
        page.screenshot(path=path, full_page=True)
        return path

    return take


@pytest.fixture
def pickup_world(live_server):
    """S01 with a jumper and a scarf on its shelf, a web customer, an API key to place
    orders with, an associate and a kiosk."""
    store = factories.StoreFactory(code="S01", name="Paris Rivoli")
    shelf = factories.store_location(store)
    jumper = factories.VariantFactory(
        sku="JUMPER-NAVY-M", price=Decimal("59.90"), product__name="Merino crew jumper"
    )
    scarf = factories.VariantFactory(
        sku="SCARF-GREY", price=Decimal("25.00"), product__name="Lambswool scarf"
    )
    factories.give_stock(shelf, jumper, 4)
    factories.give_stock(shelf, scarf, 4)
    customer = factories.CustomerFactory(
        customer_ref="WEB-ADA", name="Ada Lovelace", email="ada@example.com"
    )
    _client, key = factories.api_client("orders:write", "orders:read")
    return {
        "store": store,
        "shelf": shelf,
        "jumper": jumper,
        "scarf": scarf,
        "customer": customer,
        "key": key,
        "associate": factories.StaffFactory(
            role="associate", home_store=store, email="associate@test.aisle", first_name="Sam"
        ),
        "kiosk": factories.StaffFactory(role="kiosk", home_store=store, email="kiosk@test.aisle"),
    }
