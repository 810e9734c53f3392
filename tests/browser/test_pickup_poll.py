"""The pickup queue left open on a tablet: the browser revalidates each poll, the
server answers 304 while nothing changed and the queue is not redrawn; a new pickup
order appears within one polling interval (`retail/polls.py`)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from prometheus_client import REGISTRY

from orders import services
from orders.services import LineInput, OrderInput
from tests.browser.steps import sign_in

pytestmark = pytest.mark.browser

INTERVAL = 1  # seconds between polls here (10 on the tablets)


def answers(kind: str, answer: str) -> float:
    """How many polls of `kind` the server answered so (`aisle_poll_answers_total`)."""
    value = REGISTRY.get_sample_value("aisle_poll_answers_total", {"kind": kind, "answer": answer})
    return value or 0.0


@pytest.fixture
def polling(settings):
    """Versions in a cache every process shares (as with Redis), a short interval, and a
    time step longer than the test (so only a change can move the validator)."""
    settings.AISLE_SHARED_CACHE = True
    settings.AISLE_POLL_SECONDS = INTERVAL
    settings.AISLE_POLL_TIME_STEP_SECONDS = 3600


def place(world, ref: str) -> None:
    jumper = world["jumper"]
    services.order_place(
        OrderInput(
            order_ref=ref,
            channel="web",
            customer=world["customer"],
            lines=[LineInput(jumper, 1, jumper.price)],
            method="pickup",
            store=world["store"],
            tender="card",
            amount=Decimal(jumper.price),
            payment_reference=f"psp-{ref}",
            fingerprint=ref,
        )
    )


def server_says(page, condition, timeout_ms: int = 10_000) -> None:
    """Wait (letting the page run) until `condition()` holds on the server's side."""
    waited = 0
    while not condition():
        assert waited < timeout_ms, "the server never saw it"
        page.wait_for_timeout(100)
        waited += 100


def test_an_open_queue_revalidates_without_redrawing_and_shows_a_new_pickup(
    page, shot, pickup_world, polling
):
    place(pickup_world, "WEB-20001")
    polls_seen: list[int] = []
    page.on(
        "response",
        lambda response: (
            polls_seen.append(response.status)
            if response.request.headers.get("x-aisle-poll") == "1"
            else None
        ),
    )
    sign_in(page, "associate@test.aisle")
    page.goto("/store/pickups/")
    queue = page.locator("#queue")
    expect(queue).to_contain_text("WEB-20001")
    expect(queue).to_have_attribute("hx-trigger", f"every {INTERVAL}s")

    # The first polls learn the store's version, then carry its ETag back: a 304.
    before = answers("pickups", "not_modified")
    server_says(page, lambda: answers("pickups", "not_modified") > before)
    shot(page, "queue-open")

    # From now on nothing changes: the browser revalidates, the server answers 304,
    # and the list is not redrawn (the same element, no mutation).
    page.evaluate(
        """() => {
            const queue = document.querySelector("#queue");
            queue.querySelector(".pickup-list").dataset.drawn = "once";
            window.aisleMutations = 0;
            new MutationObserver((records) => { window.aisleMutations += records.length; })
                .observe(queue, { childList: true, subtree: true, characterData: true });
        }"""
    )
    not_modified = answers("pickups", "not_modified")
    page.wait_for_timeout(INTERVAL * 4_000)
    assert answers("pickups", "not_modified") >= not_modified + 3, polls_seen
    assert page.evaluate("window.aisleMutations") == 0
    expect(page.locator('#queue .pickup-list[data-drawn="once"]')).to_have_count(1)
    assert polls_seen and all(status in (200, 304) for status in polls_seen), polls_seen

    # A new pickup order, placed through the service: the next poll brings it.
    rendered = answers("pickups", "rendered")
    place(pickup_world, "WEB-20002")
    expect(queue).to_contain_text("WEB-20002", timeout=INTERVAL * 1_000 + 1_500)
    assert answers("pickups", "rendered") == rendered + 1
    expect(page.locator("#queue .pickup-row")).to_have_count(2)
    expect(page.locator('#queue [data-count="total"]')).to_have_text(re.compile(r"^2$"))
    shot(page, "new-pickup-shown")
