"""Every associate and kiosk page, walked in a real browser at the tablet's and a
phone's size in both languages (issue #21, Done when 2), with DEBUG off as a real
install runs: no page scrolls sideways, every button and input is a touch target of
at least 44 px (a checkbox or radio through its label), and every image loads.
Screenshots of each page are kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Page

from orders.models import Fulfillment, Order
from retail.models import Product
from returns.models import Return
from tests.browser.conftest import PHONE, TABLET
from tests.browser.test_store_shell import DEMO_PASSWORD, demo  # noqa: F401
from training.models import Attempt, Certification, Course, Enrolment

pytestmark = pytest.mark.browser

MIN_TAP = 44

#: What the walk measures on a page, in the page (`MIN_TAP` filled in).
MEASURE = (Path(__file__).with_name("walk_measure.js")).read_text().replace("MIN_TAP", str(MIN_TAP))


def sign_in(page: Page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def associate_pages(demo) -> list[str]:  # noqa: F811
    customer = demo["customer"]
    product = Product.objects.filter(image__gt="").order_by("style_code").first()
    pickup = Fulfillment.objects.filter(location__code="S01", method="pickup").first()
    order = Order.objects.filter(customer=customer).order_by("pk").first()
    course = Course.objects.order_by("code").first()
    pages = [
        reverse("retail:store_home"),
        reverse("retail:customer_search") + "?q=Mei",
        reverse("retail:customer_detail", args=[customer.pk]),
        reverse("aisle:search") + "?q=coat",
        reverse("aisle:product", args=[product.style_code]),
        reverse("cart:detail"),
        reverse("clienteling:my_sales"),
        reverse("orders_store:queue"),
        reverse("returns_store:find"),
        reverse("training:path"),
        reverse("training:catalog"),
        reverse("training:course", args=[course.code]),
        reverse("training:assess"),
        reverse("ship:queue"),
        reverse("counts:sheet"),
    ]
    if pickup is not None:
        pages.append(reverse("orders_store:detail", args=[pickup.pk]))
    if order is not None:
        pages.append(reverse("returns_store:order", args=[order.pk]))
    ret = Return.objects.filter(store__code="S01").order_by("pk").first()
    if ret is not None:
        pages.append(reverse("returns_store:detail", args=[ret.pk]))
    return pages + training_pages(demo["associate"]) + shipping_pages()


def training_pages(user) -> list[str]:
    """The associate's own learning pages: gaps, certificates and one certificate, a
    module of a course they are taking, a quiz attempt they made."""
    pages = [reverse("training:gaps"), reverse("training:certificates")]
    certificate = Certification.objects.filter(user=user).order_by("pk").first()
    enrolment = (
        Enrolment.objects.filter(user=user, course__texts__modules__isnull=False)
        .select_related("course")
        .order_by("pk")
        .first()
    )
    attempt = Attempt.objects.filter(enrolment__user=user).order_by("pk").first()
    assert certificate and enrolment and attempt, "the demo associate has training history"
    pages += [
        reverse("training:certificate", args=[certificate.pk]),
        reverse("training:module", args=[enrolment.course.code, 1]),
        reverse("training:attempt", args=[attempt.pk]),
    ]
    return pages


def shipping_pages() -> list[str]:
    """A parcel on the store's shipping screen (the exchange screen opens only from a
    return's form, by POST)."""
    parcel = Fulfillment.objects.filter(location__code="S01").exclude(method="pickup").first()
    return [reverse("ship:detail", args=[parcel.pk])] if parcel is not None else []


def kiosk_pages() -> list[str]:
    product = Product.objects.filter(image__gt="").order_by("style_code").first()
    return [
        reverse("kiosk:home"),
        reverse("kiosk:aisle") + "?q=coat",
        reverse("kiosk:aisle_product", args=[product.style_code]),
        reverse("kiosk:return_start"),
    ]


def walk(new_page, shot, email: str, pages: list[str], language: str, viewport: dict) -> list:
    page = new_page(viewport=viewport)
    sign_in(page, email)
    origin = "/".join(page.url.split("/", 3)[:3])
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": origin}]
    )
    findings = []
    for url in pages:
        response = page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        measured = page.evaluate(MEASURE)
        shot(page, f"{language}-{viewport['width']}-{url.strip('/').replace('/', '_')[:40]}")
        if measured["overflow"] > 0:
            findings.append(f"{url}: scrolls sideways by {measured['overflow']} px")
        for item in measured["small"]:
            findings.append(f"{url}: small target {item}")
        for src in measured["broken"]:
            findings.append(f"{url}: image not loaded {src}")
    return findings


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_associate_and_kiosk_page_fits_touch_and_shows_its_images(
    new_page,
    shot,
    demo,  # noqa: F811
    language,
):
    assert not settings.DEBUG
    findings = []
    for viewport in (TABLET, PHONE):
        findings += walk(
            new_page, shot, "associate.s01@demo.aisle", associate_pages(demo), language, viewport
        )
        findings += walk(new_page, shot, "kiosk.s01@demo.aisle", kiosk_pages(), language, viewport)
    assert findings == [], "\n".join(findings)
