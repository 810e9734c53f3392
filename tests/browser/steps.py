"""Steps the browser tests share: signing in, and scanning as a keyboard-wedge scanner
does (it types into the focused field and presses Enter)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests import factories


def sign_in(page: Page, email: str, *, lands: str | None = None) -> None:
    """Sign in with the test password; `lands`: the path the login must end on."""
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if lands:
        expect(page).to_have_url(re.compile(re.escape(lands) + "$"))


def scan(page: Page, code: str, *, field: str = "#scan-code") -> None:
    """Scan `code` into the focused scan field."""
    box = page.locator(field)
    expect(box).to_be_focused()
    box.press_sequentially(code, delay=5)
    box.press("Enter")


def wait_until(page: Page, expression: str, *, timeout_ms: int = 10_000) -> None:
    """Wait until `expression` (JavaScript, possibly a promise) is true in the page.

    Playwright's `wait_for_function` polls with code the page compiles, which the
    Content-Security-Policy (no 'unsafe-eval') refuses; `evaluate` is not the page's
    code, so this asks again every 50 ms instead."""
    waited = 0
    while not page.evaluate(expression):
        if waited >= timeout_ms:
            raise AssertionError(f"still false after {timeout_ms} ms: {expression}")
        page.wait_for_timeout(50)
        waited += 50
