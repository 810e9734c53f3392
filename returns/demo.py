"""Demo data for returns: the network's default policy, a policy per demo category
(from `content/demo_policies.json`), with bedding as the one final-sale category,
and a gift-season exception HQ granted. Keyed by category (and the exception by its
reason), so running it twice duplicates nothing; a rerun puts the demo values back.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from retail.demo import DemoContext
from retail.models import Category
from returns.models import PolicyException, ReturnPolicy

POLICIES = Path(__file__).resolve().parent / "content" / "demo_policies.json"
SIGNALS = Path(__file__).resolve().parent / "content" / "demo_signals.json"
GIFT_SEASON_REASON = (
    "Gift season: purchases from a month before to a month after the demo's day get 30 "
    "more days, so gifts can come back after the holidays."
)
#: ReturnPolicy's fields when a demo entry leaves them out (the model's defaults).
FIELDS = {
    "window_days": 30,
    "final_sale": False,
    "require_unworn": False,
    "require_tags": False,
    "require_packaging": False,
    "fee_kind": "none",
    "fee_value": "0.00",
    "receiptless_allowed": False,
    "approval_threshold": "500.00",
    "note": "",
}


def load_policies() -> dict:
    return json.loads(POLICIES.read_text(encoding="utf-8"))


def _values(entry: dict) -> dict:
    values = {**FIELDS, **{k: v for k, v in entry.items() if k in FIELDS}}
    for money in ("fee_value", "approval_threshold"):
        values[money] = Decimal(values[money])
    return values


def seed(ctx: DemoContext) -> None:
    data = load_policies()
    ctx.step(f"Returns: the default policy and {len(data['categories'])} category policies")
    default = ReturnPolicy.objects.filter(category__isnull=True).first()
    if default is None:
        ReturnPolicy.objects.create(category=None, **_values(data["default"]))
    else:
        ReturnPolicy.objects.filter(pk=default.pk).update(**_values(data["default"]))
    categories = {c.code: c for c in Category.objects.filter(code__in=data["categories"])}
    for code, entry in data["categories"].items():
        if code in categories:
            ReturnPolicy.objects.update_or_create(
                category=categories[code], defaults=_values(entry)
            )
    today = timezone.localdate()
    PolicyException.objects.get_or_create(
        reason=GIFT_SEASON_REASON,
        defaults={
            "purchased_from": today - dt.timedelta(days=30),
            "purchased_to": today + dt.timedelta(days=30),
            "extra_days": 30,
            "valid_until": today + dt.timedelta(days=120),
        },
    )
    final = ReturnPolicy.objects.filter(final_sale=True).select_related("category")
    ctx.write(f"    final sale: {', '.join(str(p.category) for p in final)}")
    seed_returns(ctx)
    seed_signals(ctx)


def seed_signals(ctx: DemoContext) -> None:
    """HQ's abuse-signal settings (`content/demo_signals.json`), then the tallies
    counted from the whole demo history (other apps' demo orders are backdated)."""
    from returns.risk import tally
    from returns.risk.models import SignalSettings

    data = json.loads(SIGNALS.read_text(encoding="utf-8"))
    codes = data.pop("occasion_categories", [])
    data.pop("_about", None)
    data["serial_rate_percent"] = Decimal(data["serial_rate_percent"])
    SignalSettings.load()
    SignalSettings.objects.filter(pk=1).update(**data)
    rules = SignalSettings.load()
    rules.occasion_categories.set(Category.objects.filter(code__in=codes))
    done = tally.rebuild()
    ctx.step(
        f"Returns: abuse signals counted from {done['orders']} orders and "
        f"{done['returns']} returns ({done['tallies']} monthly tallies)"
    )


# --- Returns in the history ------------------------------------------------------------

RETURN_STORES = 2


def seed_returns(ctx: DemoContext) -> None:
    """Returns at the first stores, taken through the real services so refunds, the
    ledger and the timelines hold: web orders delivered to a home address, returned
    at the counter (restocked, one damaged; to the card, and as store credit), one
    started online and waiting for the customer to bring it, and two waiting for the
    store manager's approval (a large refund, and one without a receipt). An order
    already there is left alone, so running it twice duplicates nothing."""
    from orders import services as orders
    from retail.demo import DEMO_DOMAIN
    from retail.models import Customer, Store, User, Variant
    from returns import services
    from returns.models import Disposition, RefundTo, Return

    final = set(ReturnPolicy.objects.filter(final_sale=True).values_list("category_id", flat=True))
    variants = list(
        Variant.objects.filter(
            active=True,
            product__active=True,
            product__final_sale=False,
            stock_levels__location__kind="dc",
            stock_levels__on_hand__gte=20,
        )
        .exclude(product__category_id__in=final)
        .select_related("product__category")
        .order_by("-price", "sku")[:12]
    )
    customers = list(
        Customer.objects.filter(merged_into__isnull=True)
        .exclude(email="")
        .exclude(customer_ref=None)
        .order_by("-pk")[:8]
    )
    if len(variants) < 4 or not customers:
        ctx.write("    no demo returns: the catalogue or customers are missing")
        return
    made = 0
    for s, store in enumerate(Store.objects.filter(is_open=True).order_by("code")[:RETURN_STORES]):
        clerk = User.objects.filter(email=f"associate.{store.code.lower()}@{DEMO_DOMAIN}").first()
        if clerk is None:
            continue

        a, b = variants[(s * 4) % len(variants)], variants[(s * 4 + 1) % len(variants)]
        c = variants[(s * 4 + 2) % len(variants)]
        who = customers[s % len(customers)], customers[(s + 2) % len(customers)]
        prefix = f"DEMO-{store.code}-R"
        try:
            order = _delivered(f"{prefix}1", [(a, 2), (b, 1)], who[0], store)
            if order is not None:
                services.return_at_counter(
                    order=order, asks=_asks(order), store=store, by=clerk, return_ref=f"{prefix}1-A"
                )
                made += 1
            order = _delivered(f"{prefix}2", [(b, 1)], who[1], store)
            if order is not None:
                services.return_at_counter(
                    order=order,
                    asks=_asks(order, reason="damaged", disposition=Disposition.DAMAGED),
                    store=store,
                    by=clerk,
                    return_ref=f"{prefix}2-A",
                    refund_to=RefundTo.STORE_CREDIT,
                )
                made += 1
            order = _delivered(f"{prefix}3", [(c, 1)], who[0], store)
            if order is not None:
                services.return_request(
                    order=order,
                    return_ref=f"{prefix}3-A",
                    asks=_asks(order, reason="fit"),
                    fingerprint=f"demo-{prefix}3-A",
                )
                made += 1
            units = int(Decimal("520") // a.price) + 1
            order = _delivered(f"{prefix}4", [(a, units)], who[1], store)
            if order is not None:
                services.return_at_counter(
                    order=order,
                    asks=_asks(order, n=units, reason="changed_mind"),
                    store=store,
                    by=clerk,
                    return_ref=f"{prefix}4-A",
                )
                made += 1
            receiptless = (
                Variant.objects.filter(
                    active=True,
                    product__final_sale=False,
                    product__category__return_policy__receiptless_allowed=True,
                )
                .select_related("product__category")
                .order_by("sku")
                .first()
            )
            if (
                receiptless is not None
                and not Return.objects.filter(return_ref=f"{prefix}5-A").exists()
            ):
                services.return_at_counter(
                    order=None,
                    customer=who[0],
                    asks=[services.LineAsk(quantity=1, reason="other", variant=receiptless)],
                    store=store,
                    by=clerk,
                    return_ref=f"{prefix}5-A",
                )
                made += 1
        except orders.OrderError as exc:
            ctx.write(f"    a demo return at {store.code} was refused: {exc.detail}")
    waiting = Return.objects.filter(state="awaiting_approval").count()
    ctx.write(f"    {made} demo returns taken; {waiting} waiting for a manager's approval")


def _delivered(ref, lines, customer, store):
    from orders import services as orders
    from orders.models import Order

    order = Order.objects.filter(order_ref=ref).first()
    if order is not None:
        return None
    total = sum((v.price * q for v, q in lines), Decimal("0.00"))
    try:
        order, _created = orders.order_place(
            orders.OrderInput(
                order_ref=ref,
                channel="web",
                customer=customer,
                lines=[orders.LineInput(v, q, v.price) for v, q in lines],
                method="ship",
                address={
                    "name": customer.name,
                    "line1": "1 Demo Street",
                    "city": store.city or "Paris",
                    "postcode": store.postcode or "75003",
                    "country": store.country or "FR",
                },
                tender="card",
                amount=total,
                payment_reference=f"demo-{ref}",
                fingerprint=f"demo-{ref}",
            )
        )
    except orders.OrderError:
        return None
    for f in order.fulfillments.all():
        for to in _SHIP_STATES.get(f.method, ()):
            f = orders.fulfillment_transition(fulfillment=f, to=to, by=None)
    return order


def _asks(order, n=1, reason="size", disposition="restock"):
    from returns import services

    line = order.lines.order_by("pk").first()
    return [services.LineAsk(quantity=n, reason=reason, order_line=line, disposition=disposition)]


_SHIP_STATES = {
    "ship_to_home": ("picking", "packed", "shipped", "delivered"),
    "ship_from_store": ("picking", "packed", "shipped", "delivered"),
    "drop_ship": ("shipped", "delivered"),
}
