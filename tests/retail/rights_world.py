"""A customer with data in every app that keeps customer data, for the data-rights
tests: a delivered home order (with its webhook), an open pickup, a completed return,
browsing (joined and anonymous), a note, a task, an outreach e-mail sent, a cart, an
assisted-selling session, a policy exception, store credit spent to zero, and a
duplicate profile merged into them."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.utils import timezone

from tests import factories
from tests.returns import world as returns_world

NAME = "Zebulon Quaxworth"
EMAIL = "zebulon.quaxworth@example.org"
PHONE = "+447700900555"
DUPLICATE_NAME = "Zeb Quaxworth-Old"
DUPLICATE_EMAIL = "zq.old@example.net"
DUPLICATE_PHONE = "+447700900556"
REF = "WEB-ZQ-1"


def build(run_on_commit) -> dict:
    from clienteling import services as clienteling
    from clienteling.models import BrowsingEvent, Cart, SellingSession, VisitorLink
    from orders import credit
    from retail import services
    from retail.webhook_models import WebhookDelivery
    from returns.models import PolicyException, Reason, Return
    from returns.services import LineAsk, return_at_counter

    net = returns_world.network()
    store = net["s1"]
    associate = factories.StaffFactory(role="associate", home_store=store)
    customer = factories.CustomerFactory(
        name=NAME,
        email=EMAIL,
        phone=PHONE,
        customer_ref=REF,
        preferred_store=store,
        tracking_consent=True,
        marketing_consent=True,
        preferences=f"Call {NAME} on {PHONE}",
    )
    duplicate = factories.CustomerFactory(
        name=DUPLICATE_NAME, email=DUPLICATE_EMAIL, phone=DUPLICATE_PHONE, customer_ref="WEB-ZQ-0"
    )
    services.customer_merge(survivor=customer, duplicate=duplicate, by=None)
    customer.refresh_from_db()

    address = {**returns_world.ADDRESS, "name": NAME, "line1": "7 Quaxworth Lane", "phone": PHONE}
    client, _key = factories.api_client("orders:read", "customers:read")
    client.webhook_url = "https://hooks.example.com/aisle"
    client.webhook_secret = "s" * 32
    client.save()
    with run_on_commit(execute=True):
        returns_world.ADDRESS, saved = address, returns_world.ADDRESS
        try:
            order = returns_world.delivered([(net["jumper"], 2)], ref="ZQ-1", customer=customer)
        finally:
            returns_world.ADDRESS = saved
        ret, _created = return_at_counter(
            order=order,
            asks=[LineAsk(quantity=1, reason=Reason.SIZE, order_line=order.lines.get())],
            store=store,
            by=associate,
            return_ref="R-ZQ-1",
            customer=customer,
        )
        clienteling.note_add(
            customer=customer, text=f"{NAME} prefers navy", by=associate, store=store
        )
        clienteling.task_create(
            customer=customer,
            store=store,
            title=f"Call {NAME}",
            due_on=timezone.localdate() + dt.timedelta(days=3),
            by=associate,
        )
        clienteling.outreach_send(
            customer=customer,
            subject=f"For {NAME}",
            body=f"Dear {NAME}, new arrivals",
            by=associate,
            store=store,
            nonce="n1",
        )
        credit.credit_issue(customer=customer, amount=Decimal("5.00"), reason="goodwill")
    # Spent to zero (an unspent balance would block the erasure).
    from orders.models import StoreCredit

    StoreCredit.objects.filter(customer=customer).update(balance=Decimal("0.00"))
    now = timezone.now()
    VisitorLink.objects.create(anonymous_id="anon-zq", customer=customer)
    BrowsingEvent.objects.create(
        event_id=uuid.uuid4(),
        occurred_at=now,
        kind="product_view",
        channel="web",
        customer=customer,
        anonymous_id="anon-zq",
        query=NAME,
        url=f"https://shop.example.com/?email={EMAIL}",
    )
    BrowsingEvent.objects.create(
        event_id=uuid.uuid4(),
        occurred_at=now,
        kind="product_view",
        channel="web",
        anonymous_id="anon-zq",
    )
    Cart.objects.create(store=store, associate=associate, customer=customer, address=address)
    SellingSession.objects.create(
        associate=associate, store=store, customer=customer, actions={"note": 1}
    )
    PolicyException.objects.create(customer=customer, reason=f"Goodwill for {NAME}", extra_days=10)
    assert WebhookDelivery.objects.filter(subject_id=order.pk).exists()
    assert Return.objects.filter(customer=customer).exists()
    return {
        "customer": customer,
        "duplicate": duplicate,
        "order": order,
        "return": ret,
        "store": store,
        "associate": associate,
    }
