"""Every gate the training module declares is asked where the operation happens
(issue #21, finding 1): a declared gate that no code asks fails the coverage test;
outreach and an endless-aisle delivery order are refused without the certificate,
allowed with it, and allowed once with a manager's override."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from clienteling.models import Cart, Outreach
from orders.models import Order
from retail.models import OutboundMessage
from tests import factories
from training import services
from training.models import Course, GateOverride

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
APPS = ("retail", "inventory", "training", "orders", "clienteling", "returns", "kiosk")


def operations_asked() -> set[str]:
    """The operations named in `operation_authorise(..., operation="...")` calls of the
    apps' code (tests excluded), read from the source."""
    asked = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name not in {"operation_authorise", "authorise"}:
                    continue
                for kw in node.keywords:
                    if kw.arg == "operation" and isinstance(kw.value, ast.Constant):
                        asked.add(kw.value.value)
    return asked


def test_every_declared_gate_is_asked_somewhere_in_the_code():
    declared = set(services.OPERATIONS)
    assert declared - operations_asked() == set()


def test_the_coverage_scan_sees_the_calls_it_should():
    # The scan is not vacuous: it finds the hand-over's and the approval's calls, which
    # were asked before this issue, and nothing that is not an operation name.
    asked = operations_asked()
    assert {"handover_without_code", "return_approve"} <= asked
    assert asked <= set(services.OPERATIONS) | {"something_unruled"}


@pytest.fixture
def customer(store):
    return factories.CustomerFactory(
        name="Mei Chen", email="mei@example.com", marketing_consent=True, preferred_store=store
    )


def tablet(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send(client, customer, nonce="n1"):
    return client.post(
        f"/store/clienteling/customers/{customer.pk}/outreach/",
        {"subject": "Your jacket is in", "body": "We kept a size M for you.", "nonce": nonce},
    )


def test_outreach_without_the_certificate_is_refused_with_the_course(program, associate, customer):
    response = send(tablet(associate), customer)
    assert response.status_code == 403
    body = response.content.decode()
    assert "Not available to you yet" in body
    title = Course.objects.get(code="clienteling-with-consent").text_for("en").title
    assert title in body
    assert not Outreach.objects.exists() and not OutboundMessage.objects.exists()


def test_outreach_with_the_certificate_is_sent(
    program, associate, customer, django_capture_on_commit_callbacks
):
    factories.course_passed(associate, Course.objects.get(code="clienteling-with-consent"))
    with django_capture_on_commit_callbacks(execute=True):
        response = send(tablet(associate), customer)
    assert response.status_code == 302
    assert Outreach.objects.get().sent_by == associate
    assert len(mail.outbox) == 1


def test_outreach_with_a_managers_override_is_sent_once_and_the_override_used(
    program, associate, manager, customer, store
):
    services.override_grant(
        manager=manager,
        user=associate,
        operation="outreach_send",
        reason="Customer asked for the note today",
        store=store,
    )
    client = tablet(associate)
    assert send(client, customer, "n1").status_code == 302
    assert send(client, customer, "n1").status_code == 302  # a double tap: same send
    assert Outreach.objects.count() == 1
    override = GateOverride.objects.get()
    assert override.used_at is not None and override.used_on == f"customer:{customer.pk}"
    assert send(client, customer, "n2").status_code == 403  # used up
    assert Outreach.objects.count() == 1


@pytest.fixture
def shop(store):
    dc = factories.StockLocationFactory(code="DC1", lead_time_days=2)
    variant = factories.VariantFactory(sku="JKT-1-L", size="L", price="120.00")
    factories.give_stock(dc, variant, 5)
    return variant


def home_cart(client, customer):
    client.post(reverse("cart:for_customer", kwargs={"pk": customer.pk}))
    client.post(reverse("cart:add"), {"sku": "JKT-1-L"})
    address = {"name": "Mei", "line1": "1 Rue Mercière", "city": "Lyon", "postcode": "69002"}
    client.post(reverse("cart:delivery"), {"delivery": "home", **address, "country": "fr"})
    return client.post(reverse("cart:place"), {"tender": "cash"})


def test_a_delivery_order_without_the_certificate_is_refused_and_nothing_placed(
    program, associate, customer, shop
):
    response = home_cart(tablet(associate), customer)
    assert response.status_code == 403
    body = response.content.decode()
    assert "Not available to you yet" in body
    assert not Order.objects.exists()
    assert Cart.objects.get(associate=associate).state == "open"


def test_a_delivery_order_with_the_certificate_is_placed(program, associate, customer, shop):
    factories.course_passed(associate, Course.objects.get(code="endless-aisle"))
    response = home_cart(tablet(associate), customer)
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.fulfillments.get().method == "ship_to_home"


def test_a_pickup_here_order_needs_no_delivery_certificate(program, associate, customer, store):
    shelf = factories.store_location(store)
    variant = factories.VariantFactory(sku="TEE-1-M", size="M", price="20.00")
    factories.give_stock(shelf, variant, 3)
    client = tablet(associate)
    client.post(reverse("cart:for_customer", kwargs={"pk": customer.pk}))
    client.post(reverse("cart:add"), {"sku": "TEE-1-M"})
    response = client.post(reverse("cart:place"), {"tender": "cash"})
    assert response.status_code == 302
    assert Order.objects.count() == 1
