"""The return policy engine: every verdict code, the window in the receiving store's
time zone, HQ's exceptions, fees, approval reasons, and the policy admin and demo."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from retail import services as retail_services
from retail.demo import DemoContext
from returns import policy
from returns.models import FeeKind, PolicyException, ReturnPolicy
from tests import factories
from tests.returns.factories import OrderFactory, PolicyExceptionFactory, ReturnPolicyFactory

pytestmark = pytest.mark.django_db

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
UTC = dt.UTC


@pytest.fixture
def la_store():
    return factories.StoreFactory(code="LAX", time_zone="America/Los_Angeles", hours=False)


@pytest.fixture
def product():
    return factories.ProductFactory()


@pytest.fixture
def order():
    return OrderFactory(created_at=dt.datetime(2026, 11, 28, 10, tzinfo=UTC))


def verdict(product, order, *, received_at, units=1, store=None, at, **kwargs):
    return policy.line_verdict(
        product=product,
        order=order,
        customer=order.customer,
        received_at=received_at,
        returnable_units=units,
        store=store,
        at=at,
        **kwargs,
    )


RECEIVED = dt.datetime(2026, 12, 1, 12, tzinfo=UTC)


# --- Choosing the policy ---------------------------------------------------------------


def test_policy_for_takes_the_categorys_policy_else_the_default_else_model_defaults(product):
    unsaved = policy.policy_for(product)
    assert unsaved.pk is None and unsaved.window_days == 30
    assert unsaved.approval_threshold == Decimal("500.00") and not unsaved.receiptless_allowed

    default = ReturnPolicyFactory(category=None, window_days=45)
    assert policy.policy_for(product) == default
    own = ReturnPolicyFactory(category=product.category, window_days=14)
    assert policy.policy_for(product) == own


def test_policies_for_many_products_is_one_query(django_assert_num_queries):
    products = [factories.ProductFactory() for _ in range(3)]
    default = ReturnPolicyFactory(category=None)
    own = ReturnPolicyFactory(category=products[0].category, window_days=60)
    with django_assert_num_queries(1):
        found = policy.policies_for(products)
    assert found[products[0].category_id] == own
    assert found[products[1].category_id] == default == found[None]


def test_many_lines_are_judged_without_further_queries(order, django_assert_num_queries):
    products = [factories.ProductFactory() for _ in range(4)]
    ReturnPolicyFactory(category=products[0].category, final_sale=True)
    PolicyExceptionFactory(customer=order.customer, extra_days=10)
    with django_assert_num_queries(2):
        policies = policy.policies_for(products)
        exceptions = policy.exceptions_for(customer=order.customer, order=order)
    at = RECEIVED + dt.timedelta(days=35)
    with django_assert_num_queries(0):
        verdicts = [
            verdict(p, order, received_at=RECEIVED, at=at, policies=policies, exceptions=exceptions)
            for p in products
        ]
    assert [v.code for v in verdicts] == ["final_sale", "", "", ""]


# --- Every verdict code ----------------------------------------------------------------


def test_a_line_not_yet_collected_or_delivered_is_not_received(product, order):
    result = verdict(product, order, received_at=None, at=RECEIVED)
    assert (result.returnable, result.code) == (False, "not_received")
    assert result.message == "Not yet collected or delivered"
    assert result.window_ends is None


def test_a_line_with_nothing_left_to_return_exceeds_returnable(product, order):
    result = verdict(product, order, received_at=RECEIVED, units=0, at=RECEIVED)
    assert (result.returnable, result.code) == (False, "exceeds_returnable")
    assert result.message == "Every unit already returned or claimed by another return"


def test_not_received_is_checked_before_exceeds_returnable(product, order):
    assert verdict(product, order, received_at=None, units=0, at=RECEIVED).code == "not_received"


def test_a_final_sale_category_or_product_cannot_be_returned(order):
    final_category = ReturnPolicyFactory(final_sale=True).category
    result = verdict(
        factories.ProductFactory(category=final_category), order, received_at=RECEIVED, at=RECEIVED
    )
    assert (result.returnable, result.code) == (False, "final_sale")
    assert result.message == "Final sale: this category cannot be returned"

    flagged = factories.ProductFactory(final_sale=True)
    result = verdict(flagged, order, received_at=RECEIVED, at=RECEIVED)
    assert (result.code, result.message) == (
        "final_sale",
        "Final sale: this product cannot be returned",
    )


def test_final_sale_is_checked_before_the_window(order):
    flagged = factories.ProductFactory(final_sale=True)
    late = RECEIVED + dt.timedelta(days=400)
    assert verdict(flagged, order, received_at=RECEIVED, at=late).code == "final_sale"


def test_a_returnable_line_says_until_when_and_lists_the_conditions(product, order):
    ReturnPolicyFactory(category=product.category, require_unworn=True, require_tags=True)
    result = verdict(product, order, received_at=RECEIVED, at=RECEIVED)
    assert (result.returnable, result.code) == (True, "")
    assert result.message == "Returnable until Dec. 31, 2026 (30-day window)"
    assert result.conditions == ("Unworn", "Tags attached")
    assert result.policy.category == product.category


def test_after_the_window_the_line_is_window_closed(product, order):
    result = verdict(product, order, received_at=RECEIVED, at=RECEIVED + dt.timedelta(days=31))
    assert (result.returnable, result.code) == (False, "window_closed")
    assert result.message == "The return window closed on Dec. 31, 2026 (30-day window)"


# --- The window in the receiving store's time zone ---------------------------------------


def test_the_window_counts_local_days_in_the_receiving_stores_time_zone(product, order, la_store):
    # Delivered at 23:30 on 1 December in Los Angeles: already 2 December in UTC.
    received = dt.datetime(2026, 12, 1, 23, 30, tzinfo=LA)
    last_moment = dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=LA)
    on_time = verdict(product, order, received_at=received, store=la_store, at=last_moment)
    assert on_time.returnable
    assert on_time.window_ends == dt.datetime.combine(dt.date(2026, 12, 31), dt.time.max, tzinfo=LA)
    assert "Dec. 31, 2026" in on_time.message
    just_after = dt.datetime(2027, 1, 1, 0, 0, 1, tzinfo=LA)  # 1 January, local time
    late = verdict(product, order, received_at=received, store=la_store, at=just_after)
    assert late.code == "window_closed"
    # Counted in UTC the same delivery would have had a day more.
    in_utc = verdict(product, order, received_at=received, store=None, at=just_after)
    assert in_utc.returnable
    assert in_utc.window_ends.date() == dt.date(2027, 1, 1)


def test_a_zero_day_window_closes_at_the_end_of_the_receiving_day(product, order, la_store):
    ReturnPolicyFactory(category=product.category, window_days=0)
    received = dt.datetime(2026, 12, 1, 9, tzinfo=LA)
    evening = dt.datetime(2026, 12, 1, 23, 59, tzinfo=LA)
    next_morning = dt.datetime(2026, 12, 2, 0, 1, tzinfo=LA)
    assert verdict(product, order, received_at=received, store=la_store, at=evening).returnable
    assert (
        verdict(product, order, received_at=received, store=la_store, at=next_morning).code
        == "window_closed"
    )


# --- HQ's exceptions -------------------------------------------------------------------


LATE = RECEIVED + dt.timedelta(days=40)  # ten days past the 30-day window


def test_a_customer_exception_adds_days(product, order):
    PolicyExceptionFactory(customer=order.customer, extra_days=14)
    result = verdict(product, order, received_at=RECEIVED, at=LATE)
    assert result.returnable
    assert result.message == "Returnable until Jan. 14, 2027 (30-day window, extended by 14 days)"


def test_another_customers_exception_does_not_apply(product, order):
    PolicyExceptionFactory(extra_days=14)
    assert verdict(product, order, received_at=RECEIVED, at=LATE).code == "window_closed"


def test_an_order_exception_adds_days_to_that_order_only(product, order):
    PolicyExceptionFactory(customer=None, order=order, extra_days=20)
    assert verdict(product, order, received_at=RECEIVED, at=LATE).returnable
    other = OrderFactory(customer=order.customer, created_at=order.created_at)
    assert verdict(product, other, received_at=RECEIVED, at=LATE).code == "window_closed"


def test_a_purchase_date_range_exception_matches_orders_placed_in_it(product, order):
    PolicyExceptionFactory(
        customer=None,
        purchased_from=dt.date(2026, 11, 20),
        purchased_to=dt.date(2026, 11, 28),
        extra_days=30,
    )
    assert verdict(product, order, received_at=RECEIVED, at=LATE).returnable
    after = OrderFactory(created_at=dt.datetime(2026, 11, 29, 0, 30, tzinfo=UTC))
    assert verdict(product, after, received_at=RECEIVED, at=LATE).code == "window_closed"


def test_an_expired_exception_no_longer_applies(product, order):
    PolicyExceptionFactory(
        customer=order.customer, extra_days=30, valid_until=(LATE - dt.timedelta(days=1)).date()
    )
    assert verdict(product, order, received_at=RECEIVED, at=LATE).code == "window_closed"
    PolicyException.objects.update(valid_until=LATE.date())
    assert verdict(product, order, received_at=RECEIVED, at=LATE).returnable


def test_an_exception_for_one_category_leaves_the_others_alone(product, order):
    PolicyExceptionFactory(customer=order.customer, category=product.category, extra_days=30)
    assert verdict(product, order, received_at=RECEIVED, at=LATE).returnable
    elsewhere = factories.ProductFactory()
    assert verdict(elsewhere, order, received_at=RECEIVED, at=LATE).code == "window_closed"


def test_the_best_matching_exception_gives_its_days(product, order):
    PolicyExceptionFactory(customer=order.customer, extra_days=5)
    PolicyExceptionFactory(customer=None, order=order, extra_days=12)
    result = verdict(product, order, received_at=RECEIVED, at=LATE)
    assert result.returnable
    assert result.window_ends.date() == dt.date(2027, 1, 12)


def test_an_exception_may_waive_final_sale(order):
    final_category = ReturnPolicyFactory(final_sale=True).category
    item = factories.ProductFactory(category=final_category, final_sale=True)
    PolicyExceptionFactory(customer=None, order=order, extra_days=0, waive_final_sale=True)
    result = verdict(item, order, received_at=RECEIVED, at=RECEIVED)
    assert result.returnable
    assert result.message.endswith("final sale waived by an exception")


def test_exceptions_for_finds_each_scope_in_one_query(order, django_assert_num_queries):
    mine = PolicyExceptionFactory(customer=order.customer)
    for_order = PolicyExceptionFactory(customer=None, order=order)
    in_range = PolicyExceptionFactory(
        customer=None, purchased_from=dt.date(2026, 11, 1), purchased_to=dt.date(2026, 11, 30)
    )
    PolicyExceptionFactory()  # someone else's
    PolicyExceptionFactory(
        customer=None, purchased_from=dt.date(2026, 12, 1), purchased_to=dt.date(2026, 12, 31)
    )
    with django_assert_num_queries(1):
        found = policy.exceptions_for(customer=order.customer, order=order)
    assert found == [mine, for_order, in_range]


def test_an_exception_needs_exactly_one_scope_and_an_effect(order):
    customer = order.customer
    bad = [
        {"customer": customer, "order": order},
        {"customer": None},
        {"customer": None, "purchased_from": dt.date(2026, 1, 1)},
        {"customer": customer, "purchased_from": dt.date(2026, 1, 1), "purchased_to": None},
        {
            "customer": None,
            "purchased_from": dt.date(2026, 2, 1),
            "purchased_to": dt.date(2026, 1, 1),
        },
        {"customer": customer, "extra_days": 0, "waive_final_sale": False},
        {"customer": customer, "reason": ""},
    ]
    for fields in bad:
        with pytest.raises(IntegrityError), transaction.atomic():
            PolicyExceptionFactory(**fields)
    assert not PolicyException.objects.exists()


def test_a_merged_customers_exceptions_follow_the_survivor(hq_user):
    survivor, duplicate = factories.CustomerFactory(), factories.CustomerFactory()
    granted = PolicyExceptionFactory(customer=duplicate)
    preview = dict(retail_services.merge_preview(survivor=survivor, duplicate=duplicate))
    assert preview["Return policy exceptions"] == 1
    retail_services.customer_merge(survivor=survivor, duplicate=duplicate, by=hq_user)
    granted.refresh_from_db()
    assert granted.customer == survivor


# --- The policy's own rules --------------------------------------------------------------


def test_the_network_has_at_most_one_default_policy():
    ReturnPolicyFactory(category=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReturnPolicyFactory(category=None)
    ReturnPolicyFactory()  # category policies are fine
    assert ReturnPolicy.objects.filter(category__isnull=True).count() == 1


def test_a_policy_refuses_a_percentage_above_100_or_a_negative_fee():
    for fields in (
        {"fee_kind": FeeKind.PERCENT, "fee_value": Decimal("100.01")},
        {"fee_kind": FeeKind.FIXED, "fee_value": Decimal("-1.00")},
        {"approval_threshold": Decimal("-0.01")},
        {"fee_kind": "bogus"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            ReturnPolicyFactory(**fields)
    assert ReturnPolicyFactory(fee_kind=FeeKind.FIXED, fee_value=Decimal("150.00")).pk


# --- Fees, approval, receipt-less -------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "refund", "units", "fee"),
    [
        (FeeKind.NONE, "5.00", "100.00", 2, "0.00"),
        (FeeKind.FIXED, "2.50", "100.00", 3, "7.50"),
        (FeeKind.FIXED, "30.00", "45.00", 2, "45.00"),  # never above the refund
        (FeeKind.PERCENT, "15.00", "33.33", 1, "5.00"),  # 4.9995 -> 5.00
        (FeeKind.PERCENT, "10.00", "0.05", 1, "0.01"),  # 0.005 rounds half up
        (FeeKind.PERCENT, "100.00", "19.99", 1, "19.99"),
        (FeeKind.PERCENT, "10.00", "0.00", 1, "0.00"),
    ],
)
def test_restocking_fee(kind, value, refund, units, fee):
    rule = ReturnPolicy(fee_kind=kind, fee_value=Decimal(value))
    charged = policy.restocking_fee(rule, refund=Decimal(refund), units=units)
    assert charged == Decimal(fee)
    assert charged.as_tuple().exponent == -2


def test_approval_is_needed_above_the_lowest_threshold_or_without_a_receipt():
    strict = ReturnPolicy(approval_threshold=Decimal("200.00"))
    relaxed = ReturnPolicy(approval_threshold=Decimal("800.00"))
    assert policy.approval_reasons(refund=Decimal("200.00"), receipt=True, policies=[strict]) == []
    assert policy.approval_reasons(
        refund=Decimal("200.01"), receipt=True, policies=[relaxed, strict]
    ) == ["The refund of €200.01 is above €200.00: a manager approves it"]
    assert policy.approval_reasons(refund=Decimal("10.00"), receipt=False, policies=[relaxed]) == [
        "No receipt: a manager approves every return without one"
    ]
    assert len(policy.approval_reasons(refund=Decimal("900"), receipt=False, policies=[])) == 2
    assert policy.approval_reasons(refund=Decimal("500.00"), receipt=True, policies=[]) == []


def test_receiptless_returns_follow_the_policy(product):
    assert policy.receiptless_allowed(product) is False
    ReturnPolicyFactory(category=product.category, receiptless_allowed=True)
    assert policy.receiptless_allowed(product) is True


# --- Language --------------------------------------------------------------------------


def test_verdicts_and_reasons_speak_the_associates_language(product, order):
    ReturnPolicyFactory(category=product.category, require_unworn=True)
    with translation.override("zh-hans"):
        returnable = verdict(product, order, received_at=RECEIVED, at=RECEIVED)
        closed = verdict(product, order, received_at=RECEIVED, at=LATE)
        missing = verdict(product, order, received_at=None, at=RECEIVED)
        reasons = policy.approval_reasons(refund=Decimal("900"), receipt=False, policies=[])
    assert returnable.message == "可退货至2026年12月31日（30 天退货期）"
    assert closed.message == "退货期已于2026年12月31日结束（30 天退货期）"
    assert missing.message == "尚未取货或送达"
    assert returnable.conditions == ("未穿着",)
    assert reasons == [
        "退款 €900.00 超过 €500.00：需经理批准",
        "无收据：所有无收据退货都需经理批准",
    ]


# --- Admin and demo --------------------------------------------------------------------


def test_hq_edits_a_policy_and_grants_an_exception_recorded_as_theirs(hq_client, hq_user, order):
    category = factories.CategoryFactory()
    response = hq_client.post(
        reverse("admin:returns_returnpolicy_add"),
        {
            "category": category.pk,
            "window_days": 45,
            "fee_kind": "percent",
            "fee_value": "10.00",
            "approval_threshold": "300.00",
            "note": "",
        },
    )
    assert response.status_code == 302, response.content
    saved = ReturnPolicy.objects.get(category=category)
    assert (saved.window_days, saved.updated_by) == (45, hq_user)
    response = hq_client.post(
        reverse("admin:returns_policyexception_add"),
        {"order": order.pk, "extra_days": 10, "reason": "Parcel lost for a week"},
    )
    assert response.status_code == 302, response.content
    assert PolicyException.objects.get().granted_by == hq_user
    bad = hq_client.post(
        reverse("admin:returns_policyexception_add"),
        {"order": order.pk, "customer": order.customer.pk, "extra_days": 10, "reason": "x"},
    )
    assert bad.status_code == 200 and "exactly one scope" in bad.content.decode()
    listing = hq_client.get(
        reverse("admin:returns_policyexception_changelist"), {"q": order.order_ref}
    )
    assert listing.status_code == 200 and "Parcel lost" not in listing.content.decode()
    assert f"order {order.order_ref}" in listing.content.decode()
    assert hq_client.get(reverse("admin:returns_returnpolicy_changelist")).status_code == 200


def test_the_demo_policies_are_idempotent_with_one_final_sale_category():
    from retail.demo import CATEGORIES
    from returns import demo

    for spec in CATEGORIES:
        factories.CategoryFactory(code=spec.code, name=spec.name)
    ctx = DemoContext(scale="small", stdout=io.StringIO())
    demo.seed(ctx)
    demo.seed(ctx)
    assert ReturnPolicy.objects.count() == len(CATEGORIES) + 1
    assert PolicyException.objects.count() == 1
    default = ReturnPolicy.objects.get(category__isnull=True)
    assert (default.window_days, default.fee_kind, default.receiptless_allowed) == (
        30,
        FeeKind.NONE,
        False,
    )
    assert default.approval_threshold == Decimal("500.00")
    final = ReturnPolicy.objects.filter(final_sale=True)
    assert [p.category.code for p in final] == ["bedding"]
    assert "final sale" in final[0].note.lower()
    assert not ReturnPolicy.objects.exclude(fee_kind=FeeKind.NONE).exists()
    home = ReturnPolicy.objects.get(category__code="kitchen")
    assert (home.window_days, home.require_packaging) == (60, True)
    tops = ReturnPolicy.objects.get(category__code="tops")
    assert tops.condition_labels() == ("Unworn", "Tags attached")


def test_bad_policies_in_admin_are_form_errors_and_nothing_is_written(hq_client):
    ReturnPolicyFactory(category=None)
    url = reverse("admin:returns_returnpolicy_add")
    base = {"window_days": 30, "fee_kind": "none", "fee_value": "0", "approval_threshold": "500"}
    second_default = hq_client.post(url, base)
    assert second_default.status_code == 200
    assert "There is already a default policy for the network." in second_default.content.decode()
    category = factories.CategoryFactory()
    too_much = hq_client.post(
        url, {**base, "category": category.pk, "fee_kind": "percent", "fee_value": "150"}
    )
    assert too_much.status_code == 200
    assert "A percentage fee cannot be above 100." in too_much.content.decode()
    assert ReturnPolicy.objects.count() == 1
