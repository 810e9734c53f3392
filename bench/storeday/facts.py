"""What the store-day load needs from the bench database, and the queries each request
type costs. Run inside `manage.py shell` by `bench/storeday/run.py`:

    facts.write(path)      # the load's config: stores, sessions, customers, SKUs…
    facts.queries(path)    # {request type: queries}, one warm request of each
"""

from __future__ import annotations

import json
import secrets

from django.db.models import F

CSRF = "b" * 32  # the CSRF secret the load sends as cookie and header (bench only)


def _session(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


OPEN_PICKUPS = 8


def _open_pickups(store, stocked: list[tuple[str, str]], customers: list[int]) -> None:
    """Give the store `OPEN_PICKUPS` pickups to pick, placed through the real services
    where the demo left it fewer: each store's associates scan their own pickups (the
    demo opens pickups in a few stores only, and a hundred virtual stores scanning those
    few would wait on each other's row locks, which no real network does). Idempotent:
    the refs are fixed per store."""
    from decimal import Decimal

    from orders import services
    from orders.models import Fulfillment, Order
    from retail.models import Customer, Variant

    have = Fulfillment.objects.filter(pickup_store=store, state__in=("reserved", "picking")).count()
    if have >= OPEN_PICKUPS or len(stocked) < 2 or not customers:
        return
    variants = {
        v.sku: v
        for v in Variant.objects.filter(
            sku__in=[sku for sku, _p in stocked], active=True, product__active=True
        )
    }
    skus = [sku for sku, _p in stocked if sku in variants]
    if len(skus) < 2:
        return
    for n in range(OPEN_PICKUPS - have):
        ref = f"STOREDAY-{store.code}-{n}"
        if Order.objects.filter(order_ref=ref).exists():
            continue
        a, b = variants[skus[n % len(skus)]], variants[skus[(n + 1) % len(skus)]]
        services.order_place(
            services.OrderInput(
                order_ref=ref,
                channel="web",
                customer=Customer.objects.get(pk=customers[n % len(customers)]),
                lines=[services.LineInput(a, 1, a.price), services.LineInput(b, 1, b.price)],
                method="pickup",
                store=store,
                tender="card",
                amount=Decimal(a.price) + Decimal(b.price),
                fingerprint=ref,
            )
        )


def write(path: str, *, base: str, key: str) -> None:
    from inventory.models import StockLevel
    from orders.models import Fulfillment, FulfillmentLine
    from retail.models import Customer, Product, Role, StaffProfile, Store, Variant

    stores = []
    for store in Store.objects.filter(is_open=True, pickup_enabled=True).order_by("code"):
        staff = StaffProfile.objects.filter(home_store=store, user__is_active=True)
        associate = staff.filter(role=Role.ASSOCIATE).select_related("user").first()
        kiosk = staff.filter(role=Role.KIOSK).select_related("user").first()
        if associate is None or kiosk is None:
            continue
        stocked = [
            (sku, f"{price:.2f}")
            for sku, price in StockLevel.objects.filter(
                location__store=store,
                on_hand__gt=F("reserved") + F("safety_stock") + 20,
                # What the web shop may still order (an order for the rest is refused).
                variant__active=True,
                variant__product__active=True,
            ).values_list("variant__sku", "variant__price")[:200]
        ]
        customers = list(
            Customer.objects.filter(preferred_store=store, merged_into=None)
            .order_by("pk")
            .values_list("pk", flat=True)[:50]
        )
        _open_pickups(store, stocked, customers)
        pickups = list(
            Fulfillment.objects.filter(
                pickup_store=store, state__in=("reserved", "picking", "ready")
            ).values_list("pk", flat=True)[:20]
        )
        scans = [
            (line.fulfillment_id, line.order_line.variant.barcode or line.order_line.variant.sku)
            for line in FulfillmentLine.objects.filter(
                fulfillment__pickup_store=store, fulfillment__state__in=("reserved", "picking")
            ).select_related("order_line__variant")[:20]
        ]
        if not (pickups and scans and stocked and customers):
            continue
        stores.append(
            {
                "code": store.code,
                "associate": _session(associate.user),
                "kiosk": _session(kiosk.user),
                "customers": customers,
                "pickups": pickups,
                "scans": scans,
                "stocked": stocked,
            }
        )
    config = {
        "base": base,
        "key": key,
        "csrf": CSRF,
        "stores": stores,
        "styles": list(
            Product.objects.filter(active=True)
            .order_by("?")
            .values_list("style_code", flat=True)[:300]
        ),
        "skus": list(
            Variant.objects.filter(active=True).order_by("?").values_list("sku", flat=True)[:2000]
        ),
        "customer_refs": list(
            Customer.objects.exclude(customer_ref=None)
            .filter(tracking_consent=True, merged_into=None)
            .order_by("?")
            .values_list("customer_ref", flat=True)[:2000]
        ),
        "queries": ["wool", "coat", "linen shirt", "boots", "scarf", "jumper", "navy", "M"],
        "seed": secrets.randbelow(1000),
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f)
    print(len(stores))


def queries(config_path: str, out: str) -> None:
    """One warm request of each type (the second of two), its query count."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    store = config["stores"][0]
    staff, kiosk, api = (Client(HTTP_HOST="127.0.0.1") for _ in range(3))
    staff.cookies["sessionid"] = store["associate"]
    kiosk.cookies["sessionid"] = store["kiosk"]
    token = {"HTTP_AUTHORIZATION": f"Token {config['key']}"}
    sku = store["stocked"][0][0]
    pickup, barcode = store["scans"][0]
    requests = {
        "customer page": lambda: staff.get(f"/store/customers/{store['customers'][0]}/"),
        "search": lambda: staff.get("/store/aisle/?q=wool"),
        "product page": lambda: staff.get(f"/store/aisle/{config['styles'][0]}/"),
        "pickup or order page": lambda: staff.get(f"/store/pickups/{store['pickups'][0]}/"),
        "other page": lambda: staff.get("/store/"),
        "pickup poll": lambda: staff.get(
            "/store/pickups/", HTTP_HX_REQUEST="true", HTTP_X_AISLE_POLL="1"
        ),
        "pick scan": lambda: staff.post(
            f"/store/pickups/{pickup}/scan/", {"code": barcode}, HTTP_HX_REQUEST="true"
        ),
        "kiosk page": lambda: kiosk.get("/kiosk/aisle/?q=wool"),
        "api availability": lambda: api.get(
            f"/api/v1/availability/?sku={sku}&store={store['code']}", **token
        ),
    }
    counts = {}
    for name, request in requests.items():
        request()
        with CaptureQueriesContext(connection) as captured:
            response = request()
        counts[name] = (
            len(captured) if response.status_code < 400 else f"HTTP {response.status_code}"
        )
    with open(out, "w", encoding="utf-8") as f:
        json.dump(counts, f)
