"""Demo pickups: a few web orders waiting in the first stores' queues, in every
state (new, picking, ready, a customer waiting at the counter), placed and moved
through the real services so the ledger and the order timelines hold. Safe to
run twice: an order already there is left alone."""

from __future__ import annotations

from django.db.models import F

from inventory.models import StockLevel
from orders import pickup, services
from orders.models import Order
from retail.demo import DemoContext
from retail.models import Customer, Store

STORES = 2
# (suffix, what happens to it)
STEPS = [("1", "new"), ("2", "new"), ("3", "picking"), ("4", "ready"), ("5", "waiting")]


def seed(ctx: DemoContext) -> None:
    customers = list(
        Customer.objects.filter(merged_into__isnull=True)
        .exclude(email="")
        .exclude(customer_ref=None)
        .order_by("pk")[: STORES * len(STEPS)]
    )
    placed = 0
    for s, store in enumerate(Store.objects.filter(is_open=True, pickup_enabled=True)[:STORES]):
        levels = list(
            StockLevel.objects.filter(
                location__store=store, variant__active=True, variant__product__active=True
            )
            .filter(on_hand__gte=F("reserved") + F("safety_stock") + 3)
            .select_related("variant__product__category")
            .order_by("variant__sku")[:10]
        )
        if len(levels) < 2 or not customers:
            continue
        for i, (suffix, step) in enumerate(STEPS):
            ref = f"DEMO-{store.code}-P{suffix}"
            if Order.objects.filter(order_ref=ref).exists():
                continue
            customer = customers[(s * len(STEPS) + i) % len(customers)]
            first, second = levels[i % len(levels)].variant, levels[(i + 3) % len(levels)].variant
            lines = [services.LineInput(first, 1, first.price)]
            if second.pk != first.pk:
                lines.append(services.LineInput(second, 1, second.price))
            try:
                order, _created = services.order_place(
                    services.OrderInput(
                        order_ref=ref,
                        channel="web",
                        customer=customer,
                        lines=lines,
                        method="pickup",
                        store=store,
                        tender="card",
                        amount=sum(line.unit_price for line in lines),
                        payment_reference=f"demo-{ref}",
                        fingerprint=f"demo-{ref}",
                    )
                )
            except services.OrderError:
                continue
            placed += 1
            f = order.fulfillments.filter(method="pickup").first()
            if f is None or step == "new":
                continue
            pickup.pickup_scan(fulfillment=f, code=first.sku, by=None, store=store)
            if step == "picking":
                continue
            pickup.pick_remaining(fulfillment=f, store=store)
            pickup.pickup_mark_ready(fulfillment=f, by=None, store=store)
            if step == "waiting":
                f.refresh_from_db()
                pickup.pickup_check_in(store=store, text=f.pickup_code, by=None)
    ctx.stdout.write(f"  {placed} demo pickups placed")
