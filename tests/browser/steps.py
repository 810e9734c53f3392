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
