"""Store credit: a balance per customer kept as an append-only ledger, issued by
returns (and goodwill), spent as tender `store_credit` through the API (till and
pickup), the endless-aisle cart and the counter; a short balance refuses the order
with nothing written; a cancelled credit order gives the credit back."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from clienteling.models import Cart, CartState
from inventory.models import StockLevel, StockMovement
from orders import credit, pickup, services
from orders.models import (
    CreditKind,
    Order,
    Payment,
    StoreCredit,
    StoreCreditEntry,
)
from orders.services import LineInput, OrderInput
from retail.demo import DemoContext
from retail.services import customer_merge
from tests import factories
from tests.orders.pickups import make_ready
from tests.orders.test_concurrency import run_threads
from tests.retail.api.conftest import ApiClientHelper
from tests.retail.api.schema import assert_matches_schema

pytestmark = pytest.mark.django_db

CREATE = "/api/v1/orders/"


@pytest.fixture
def shop(store):
    shelf = factories.store_location(store)
    cat = factories.CategoryFactory(code="tops", tax_rate=Decimal("20.00"))
    jumper = factories.VariantFactory(sku="JUMPER-M", price=Decimal("60.00"), product__category=cat)
    factories.give_stock(shelf, jumper, 5)
    customer = factories.CustomerFactory(customer_ref="WEB-C1", name="Ada Lovelace")
    _client, key = factories.api_client(
        "orders:write", "orders:read", channels=["web", "app", "store", "social"]
    )
    return {"api": ApiClientHelper(key), "customer": customer, "jumper": jumper, "shelf": shelf}


def order_body(ref="TILL-1", method="carry_out", amount="60.00", customer_ref="WEB-C1"):
    body = {
        "order_ref": ref,
        "channel": "store" if method == "carry_out" else "web",
        "lines": [{"sku": "JUMPER-M", "quantity": 1, "unit_price": "60.00"}],
        "fulfillment": {"method": method, "store": "S01"},
        "payment": {"tender": "store_credit", "amount": amount, "reference": ""},
    }
    if customer_ref:
        body["customer_ref"] = customer_ref
    return body


def ledger(customer):
    return list(
        StoreCreditEntry.objects.filter(account__customer=customer)
        .order_by("pk")
        .values_list("kind", "amount", "balance_after")
    )


def test_credit_issued_pays_a_till_sale_through_the_api(shop, assert_ledger_reconciles):
    customer = shop["customer"]
    credit.credit_issue(customer=customer, amount=Decimal("100.00"), reason="goodwill")
    response = shop["api"].post(CREATE, order_body())
    assert response.status_code == 201, response.json()
    assert_matches_schema(response, "POST", "/api/v1/orders/")
    assert response.json()["payments"][0]["tender"] == "store_credit"
    order = Order.objects.get(order_ref="TILL-1")
    assert credit.credit_balance(customer) == Decimal("40.00")
    assert ledger(customer) == [
        ("issued", Decimal("100.00"), Decimal("100.00")),
        ("spent", Decimal("-60.00"), Decimal("40.00")),
    ]
    assert StoreCreditEntry.objects.get(kind="spent").order == order
    assert StockLevel.objects.get(variant=shop["jumper"]).on_hand == 4  # sold from the shelf
    again = shop["api"].post(CREATE, order_body())  # the channel resends: spent once
    assert again.status_code == 200
    assert credit.credit_balance(customer) == Decimal("40.00")
    assert_ledger_reconciles()


def test_credit_pays_a_pickup_order_through_the_api(shop):
    customer = shop["customer"]
    credit.credit_issue(customer=customer, amount=Decimal("60.00"), reason="return R-1")
    response = shop["api"].post(CREATE, order_body(ref="WEB-9", method="pickup"))
    assert response.status_code == 201, response.json()
    assert credit.credit_balance(customer) == Decimal("0.00")
    assert StockLevel.objects.get(variant=shop["jumper"]).reserved == 1


@pytest.mark.parametrize("method", ["carry_out", "pickup"])
def test_spending_beyond_the_balance_is_refused_and_nothing_is_written(shop, method):
    customer = shop["customer"]
    credit.credit_issue(customer=customer, amount=Decimal("59.99"), reason="goodwill")
    movements = StockMovement.objects.count()
    response = shop["api"].post(CREATE, order_body(method=method))
    assert response.status_code == 409
    assert_matches_schema(response, "POST", "/api/v1/orders/")
    error = response.json()
    assert (error["code"], error["balance"]) == ("insufficient_credit", "59.99")
    assert "59.99" in error["detail"]
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert StockMovement.objects.count() == movements
    assert not StockLevel.objects.filter(reserved__gt=0).exists()
    assert StockLevel.objects.get(variant=shop["jumper"]).on_hand == 5
    assert StoreCreditEntry.objects.count() == 1
    assert credit.credit_balance(customer) == Decimal("59.99")


def test_a_customer_without_any_credit_is_refused(shop):
    response = shop["api"].post(CREATE, order_body())
    assert response.status_code == 409
    assert response.json()["balance"] == "0.00"
    assert not Order.objects.exists() and not StoreCredit.objects.exists()


def test_store_credit_at_the_till_needs_a_customer(shop):
    response = shop["api"].post(CREATE, order_body(customer_ref=None))
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "customer_ref" in response.json()["errors"]
    assert not Order.objects.exists()


def test_credit_amounts_must_be_positive(shop):
    for amount in (Decimal("0"), Decimal("-5.00")):
        with pytest.raises(credit.CreditRefused):
            credit.credit_issue(customer=shop["customer"], amount=amount, reason="x")
    assert not StoreCreditEntry.objects.exists()


# --- Cancelling gives the credit back --------------------------------------------------


def test_a_cancelled_credit_order_restores_the_credit_once(shop, assert_ledger_reconciles):
    customer = shop["customer"]
    credit.credit_issue(customer=customer, amount=Decimal("70.00"), reason="goodwill")
    shop["api"].post(CREATE, order_body(ref="WEB-9", method="pickup"))
    assert credit.credit_balance(customer) == Decimal("10.00")
    order = Order.objects.get(order_ref="WEB-9")
    services.order_cancel(order=order, by=None, reason="customer changed their mind")
    services.order_cancel(order=order, by=None, reason="again")  # repeated: no change
    assert credit.credit_balance(customer) == Decimal("70.00")
    restored = StoreCreditEntry.objects.get(kind=CreditKind.RESTORED)
    assert (restored.amount, restored.order, restored.balance_after) == (
        Decimal("60.00"),
        order,
        Decimal("70.00"),
    )
    assert order.refunds.get().amount == Decimal("60.00")
    assert_ledger_reconciles()


def test_a_till_sale_taking_a_credit_orders_last_unit_restores_the_credit(
    store, assert_ledger_reconciles
):
    shelf = factories.store_location(store)
    scarf = factories.VariantFactory(sku="SCARF", price=Decimal("20.00"))
    factories.give_stock(shelf, scarf, 1)
    customer = factories.CustomerFactory()
    credit.credit_issue(customer=customer, amount=Decimal("20.00"), reason="goodwill")

    def sale(ref, method, tender, who):
        return services.order_place(
            OrderInput(
                order_ref=ref,
                channel="web",
                customer=who,
                lines=[LineInput(scarf, 1, Decimal("20.00"))],
                method=method,
                store=store,
                tender=tender,
                amount=Decimal("20.00"),
                fingerprint=ref,
            )
        )[0]

    reserved = sale("WEB-1", "pickup", "store_credit", customer)
    assert credit.credit_balance(customer) == Decimal("0.00")
    sale("TILL-1", "carry_out", "cash", None)  # the shelf's last unit, sold at the till
    reserved.refresh_from_db()
    assert reserved.lines.get().cancelled_quantity == 1  # no stock anywhere else
    assert credit.credit_balance(customer) == Decimal("20.00")
    assert StoreCreditEntry.objects.get(kind="restored").order == reserved
    assert_ledger_reconciles()


def test_restoring_never_gives_back_more_than_credit_paid(shop):
    customer = shop["customer"]
    credit.credit_issue(customer=customer, amount=Decimal("60.00"), reason="goodwill")
    shop["api"].post(CREATE, order_body(ref="WEB-9", method="pickup"))
    order = Order.objects.get(order_ref="WEB-9")
    first = credit.credit_restore(
        customer=customer, amount=Decimal("50.00"), order=order, reason="a"
    )
    second = credit.credit_restore(
        customer=customer, amount=Decimal("50.00"), order=order, reason="b"
    )
    third = credit.credit_restore(customer=customer, amount=Decimal("1.00"), order=order, reason="")
    assert (first.amount, second.amount, third) == (Decimal("50.00"), Decimal("10.00"), None)
    assert credit.credit_balance(customer) == Decimal("60.00")


def test_a_card_order_cancelled_restores_no_credit(shop):
    customer = shop["customer"]
    body = order_body(ref="WEB-9", method="pickup")
    body["payment"]["tender"] = "card"
    shop["api"].post(CREATE, body)
    services.order_cancel(order=Order.objects.get(), by=None, reason="")
    assert not StoreCreditEntry.objects.exists()
    assert credit.credit_balance(customer) == Decimal("0.00")


# --- The ledger is append-only, the balance never below zero ---------------------------


def test_the_ledger_cannot_be_changed_or_deleted(shop, on_postgres):
    entry = credit.credit_issue(customer=shop["customer"], amount=Decimal("5.00"), reason="x")
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        StoreCreditEntry.objects.filter(pk=entry.pk).update(amount=Decimal("500.00"))
    if on_postgres:
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE orders_storecreditentry SET amount = 500")


def test_an_overspent_balance_cannot_commit(shop):
    credit.credit_issue(customer=shop["customer"], amount=Decimal("5.00"), reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        StoreCredit.objects.update(balance=Decimal("-1.00"))
    assert credit.credit_balance(shop["customer"]) == Decimal("5.00")


# --- Merging customers ---------------------------------------------------------------


def test_a_merge_moves_the_balance_to_the_survivor(shop):
    survivor = shop["customer"]
    duplicate = factories.CustomerFactory()
    credit.credit_issue(customer=survivor, amount=Decimal("10.00"), reason="a")
    credit.credit_issue(customer=duplicate, amount=Decimal("25.50"), reason="b")
    customer_merge(survivor=survivor, duplicate=duplicate, by=None)
    assert credit.credit_balance(survivor) == Decimal("35.50")
    assert credit.credit_balance(duplicate) == Decimal("0.00")
    assert ledger(duplicate)[-1] == ("adjusted", Decimal("-25.50"), Decimal("0.00"))
    assert ledger(survivor)[-1] == ("adjusted", Decimal("25.50"), Decimal("35.50"))
    # And the survivor spends it all at once.
    response = shop["api"].post(CREATE, order_body(amount="60.00"))
    assert response.status_code == 409  # 35.50 < 60.00


def test_a_merge_into_a_customer_without_an_account_opens_one(shop):
    survivor, duplicate = factories.CustomerFactory(), factories.CustomerFactory()
    credit.credit_issue(customer=duplicate, amount=Decimal("7.00"), reason="b")
    customer_merge(survivor=survivor, duplicate=duplicate, by=None)
    assert credit.credit_balance(survivor) == Decimal("7.00")
    other, empty = factories.CustomerFactory(), factories.CustomerFactory()
    customer_merge(survivor=other, duplicate=empty, by=None)  # nothing to move
    assert not StoreCredit.objects.filter(customer__in=[other, empty]).exists()


# --- The endless-aisle cart --------------------------------------------------------------


@pytest.fixture
def tablet(store, associate):
    client = Client()
    client.force_login(associate)
    return client


def fill_cart(tablet, customer):
    tablet.post(reverse("cart:for_customer", args=[customer.pk]))
    tablet.post(reverse("cart:add"), {"sku": "JUMPER-M", "quantity": "1"})


def test_the_cart_offers_the_balance_and_spends_it(shop, tablet, associate):
    customer = shop["customer"]
    fill_cart(tablet, customer)
    page = tablet.get(reverse("cart:detail")).content.decode()
    assert 'value="store_credit"' not in page  # no balance: not offered
    credit.credit_issue(customer=customer, amount=Decimal("80.00"), reason="goodwill")
    page = tablet.get(reverse("cart:detail")).content.decode()
    assert 'value="store_credit"' in page and "80.00" in page
    response = tablet.post(reverse("cart:place"), {"tender": "store_credit"})
    assert response.status_code == 302, response.content.decode()
    order = Order.objects.get()
    assert order.payments.get().tender == "store_credit"
    assert credit.credit_balance(customer) == Decimal("20.00")
    assert StoreCreditEntry.objects.get(kind="spent").by == associate


def test_the_cart_refuses_a_short_balance_and_stays_as_it_was(shop, tablet, associate):
    customer = shop["customer"]
    credit.credit_issue(customer=customer, amount=Decimal("30.00"), reason="goodwill")
    fill_cart(tablet, customer)
    response = tablet.post(reverse("cart:place"), {"tender": "store_credit"})
    assert response.status_code == 400
    assert "Not enough store credit" in response.content.decode()
    cart = Cart.objects.get(associate=associate)
    assert cart.state == CartState.OPEN and cart.lines.get().quantity == 1
    assert not Order.objects.exists()
    assert credit.credit_balance(customer) == Decimal("30.00")
    assert StoreCreditEntry.objects.count() == 1
    assert not StockLevel.objects.filter(reserved__gt=0).exists()


# --- The counter: a reservation paid at hand-over -----------------------------------------


def reserved_to_pay_at_counter(store, shop, ref="K-1"):
    order, _created = services.order_place(
        OrderInput(
            order_ref=ref,
            channel="kiosk",
            customer=shop["customer"],
            lines=[LineInput(shop["jumper"], 1, shop["jumper"].price)],
            method="pickup",
            store=store,
            pay_at_pickup=True,
            fingerprint=ref,
        )
    )
    f = make_ready(order.fulfillments.get(), store)
    return order, f


def test_the_counter_takes_store_credit_at_hand_over(shop, store, associate, tablet):
    order, f = reserved_to_pay_at_counter(store, shop)
    credit.credit_issue(customer=shop["customer"], amount=Decimal("75.00"), reason="goodwill")
    page = tablet.get(reverse("orders_store:handover", args=[f.pk])).content.decode()
    assert 'value="store_credit"' in page and "75.00" in page
    response = tablet.post(
        reverse("orders_store:handover", args=[f.pk]),
        {"code": f.pickup_code, "tender": "store_credit"},
    )
    assert response.status_code == 302
    f.refresh_from_db()
    assert f.state == "collected"
    assert (order.payments.get().tender, order.payments.get().amount) == (
        "store_credit",
        Decimal("60.00"),
    )
    assert credit.credit_balance(shop["customer"]) == Decimal("15.00")
    spent = StoreCreditEntry.objects.get(kind="spent")
    assert (spent.order, spent.store, spent.by) == (order, store, associate)


def test_the_counter_refuses_a_short_balance_and_hands_nothing_over(
    shop, store, associate, tablet, assert_ledger_reconciles
):
    _order, f = reserved_to_pay_at_counter(store, shop)
    credit.credit_issue(customer=shop["customer"], amount=Decimal("20.00"), reason="goodwill")
    response = tablet.post(
        reverse("orders_store:handover", args=[f.pk]),
        {"code": f.pickup_code, "tender": "store_credit"},
    )
    assert response.status_code == 409
    assert "Not enough store credit" in response.content.decode()
    f.refresh_from_db()
    assert f.state == "ready" and f.collected_at is None
    assert not Payment.objects.exists()
    assert credit.credit_balance(shop["customer"]) == Decimal("20.00")
    assert StockLevel.objects.get(variant=shop["jumper"]).reserved == 1
    with pytest.raises(credit.InsufficientCredit):
        pickup.pickup_hand_over(
            fulfillment=f, code=f.pickup_code, by=associate, store=store, tender="store_credit"
        )
    assert_ledger_reconciles()


# --- Screens, admin, demo ----------------------------------------------------------------


@pytest.mark.parametrize("entries", [1, 25])
def test_the_customer_page_shows_the_balance_and_recent_history(
    shop, tablet, entries, django_assert_max_num_queries
):
    customer = shop["customer"]
    for i in range(entries):
        credit.credit_issue(customer=customer, amount=Decimal("2.00"), reason=f"gift {i}")
    url = reverse("retail:customer_detail", args=[customer.pk])
    tablet.get(url)  # warm the caches
    with django_assert_max_num_queries(40):
        page = tablet.get(url).content.decode()
    section = page.split('id="store-credit"')[1].split("</section>")[0]
    assert f"{2 * entries:.2f}" in section
    assert section.count("<tr data-kind=") == min(entries, credit.HISTORY)


def test_the_store_credit_section_costs_one_query(shop, rf, store, django_assert_num_queries):
    from orders.credit_views import customer_section

    for i in range(15):
        credit.credit_issue(customer=shop["customer"], amount=Decimal("1.00"), reason=f"{i}")
    with django_assert_num_queries(1):
        html = customer_section(rf.get("/"), shop["customer"], store)
    assert 'data-balance="15.00"' in html


def test_hq_sees_the_ledger_read_only_in_admin(shop, hq_client):
    credit.credit_issue(customer=shop["customer"], amount=Decimal("9.00"), reason="goodwill")
    account = StoreCredit.objects.get()
    entry = StoreCreditEntry.objects.get()
    for url in (
        reverse("admin:orders_storecredit_changelist") + "?q=WEB-C1&credit_left=yes",
        reverse("admin:orders_storecreditentry_changelist") + "?kind=issued&q=Ada",
        reverse("admin:orders_storecredit_change", args=[account.pk]),
        reverse("admin:orders_storecreditentry_change", args=[entry.pk]),
    ):
        response = hq_client.get(url)
        assert response.status_code == 200, url
        assert "WEB-C1" in response.content.decode() or "Ada" in response.content.decode()
    # Read-only: a POST changes nothing.
    hq_client.post(
        reverse("admin:orders_storecreditentry_change", args=[entry.pk]), {"amount": "900"}
    )
    entry = StoreCreditEntry.objects.get()
    assert entry.amount == Decimal("9.00")
    assert hq_client.get(reverse("admin:orders_storecreditentry_add")).status_code == 403


def test_demo_credit_is_issued_once(db):
    from orders import demo

    customers = [factories.CustomerFactory() for _ in range(4)]
    for _ in range(2):
        demo.seed_store_credit(DemoContext(scale="small", stdout=io.StringIO()))
    assert StoreCreditEntry.objects.count() == len(demo.CREDIT)
    assert credit.credit_balance(customers[-1]) == demo.CREDIT[0][0]


# --- Races (PostgreSQL, real threads) -----------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_spending_one_balance_exactly_one_succeeds(assert_ledger_reconciles):
    assert connection.vendor == "postgresql"
    store = factories.StoreFactory(code="S01")
    shelf = factories.store_location(store)
    jumper = factories.VariantFactory(sku="JUMPER-M", price=Decimal("60.00"))
    factories.give_stock(shelf, jumper, 50)
    customer = factories.CustomerFactory()
    credit.credit_issue(customer=customer, amount=Decimal("100.00"), reason="goodwill")

    def place(i):
        try:
            services.order_place(
                OrderInput(
                    order_ref=f"RACE-{i}",
                    channel="store",
                    customer=customer,
                    lines=[LineInput(jumper, 1, Decimal("60.00"))],
                    method="carry_out" if i % 2 else "pickup",
                    store=store,
                    tender="store_credit",
                    amount=Decimal("60.00"),
                    fingerprint=f"f{i}",
                )
            )
            return "ok"
        except credit.InsufficientCredit:
            return "short"

    results, errors = run_threads(place, 24)
    assert errors == []
    assert results.count("ok") == 1 and results.count("short") == 23
    assert Order.objects.count() == 1
    assert credit.credit_balance(customer) == Decimal("40.00")
    assert StoreCreditEntry.objects.filter(kind="spent").count() == 1
    assert_ledger_reconciles()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_to_a_new_customer_open_one_account():
    assert connection.vendor == "postgresql"
    customer = factories.CustomerFactory()

    def issue(i):
        return credit.credit_issue(customer=customer, amount=Decimal("1.50"), reason=f"r{i}")

    results, errors = run_threads(issue, 24)
    assert errors == [] and len(results) == 24
    assert StoreCredit.objects.count() == 1
    assert credit.credit_balance(customer) == Decimal("36.00")
    assert sorted(e.balance_after for e in StoreCreditEntry.objects.all()) == [
        Decimal("1.50") * n for n in range(1, 25)
    ]
