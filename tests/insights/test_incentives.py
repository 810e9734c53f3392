"""Incentives that count every channel, with HQ's weights."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from clienteling.models import SalesCredit
from insights import incentives, kpis, rollups
from insights.models import IncentiveWeights

PERIOD = kpis.Scope(start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 3))


@pytest.fixture
def built(world):
    rollups.refresh(full=True)
    return world


def test_each_associate_figure_with_its_make_up(built):
    # Default weights: 2 % of own store sales, 2 % of attributed online sales, 0.50 per
    # pickup handed over, 1.00 per follow-up converted, returns take back 100 %.
    ben, ann = incentives.incentives(PERIOD)  # by store code: NY, SH
    assert (ann.email, ann.store) == ("ann@test.aisle", "SH")
    # ann: O1 170 × 2 % = 3.40; O4 80 online × 2 % = 1.60; O4 handed over: 0.50.
    assert {k: v["amount"] for k, v in ann.parts.items()} == {
        "own_store_sales": D("3.40"),
        "attributed_online": D("1.60"),
        "pickups_handed": D("0.50"),
        "followups_converted": D("0.00"),
        "returns_deducted": D("0.00"),
    }
    assert ann.total == D("5.50")
    # ben: O2 30 × 2 % = 0.60; the follow-up for bob converted (O2 within 14 days): 1.00.
    assert ben.parts["followups_converted"] == {
        "basis": 1,
        "weight": D("1.00"),
        "amount": D("1.00"),
    }
    assert ben.total == D("1.60")
    assert incentives.by_store([ann, ben]) == {"NY": D("1.60"), "SH": D("5.50")}


def test_a_reversed_credit_is_deducted_at_the_rate_it_earned(built):
    SalesCredit.objects.filter(order=built.orders[4]).update(reversed_amount=D("20.00"))
    rollups.refresh_day(built.sh.pk, dt.date(2026, 12, 2))
    IncentiveWeights.objects.create(returns_deducted=D("50.00"))
    (ann,) = incentives.incentives(PERIOD, associate=built.ann)
    # 20.00 of online credit reversed × 2 % × 50 % = 0.20 taken back.
    assert ann.parts["returns_deducted"]["amount"] == D("-0.20")
    assert ann.total == D("5.30")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pickup_handed", D("-1"), "A weight cannot be negative."),
        ("own_store_sales", D("120"), "A percentage cannot be more than 100."),
    ],
)
def test_weights_are_validated_with_a_clear_message(db, field, value, message):
    weights = IncentiveWeights(**{field: value})
    with pytest.raises(ValidationError) as caught:
        weights.full_clean()
    assert caught.value.message_dict[field] == [message]


def test_weights_that_are_all_zero_are_refused(db):
    weights = IncentiveWeights(
        own_store_sales=0, attributed_online=0, pickup_handed=0, followup_converted=0
    )
    with pytest.raises(ValidationError) as caught:
        weights.full_clean()
    assert "At least one weight must be above zero" in str(caught.value)


def test_hq_edits_the_weights_in_admin_and_a_negative_one_is_refused(hq_client):
    response = hq_client.post(
        "/admin/insights/incentiveweights/add/",
        {
            "own_store_sales": "-2",
            "attributed_online": "2",
            "pickup_handed": "0.5",
            "followup_converted": "1",
            "returns_deducted": "100",
        },
    )
    assert response.status_code == 200
    assert "A weight cannot be negative." in response.content.decode()
    assert not IncentiveWeights.objects.exists()
    response = hq_client.post(
        "/admin/insights/incentiveweights/add/",
        {
            "own_store_sales": "3",
            "attributed_online": "2",
            "pickup_handed": "0.5",
            "followup_converted": "1",
            "returns_deducted": "100",
        },
    )
    assert response.status_code == 302
    assert IncentiveWeights.current().own_store_sales == D("3.00")
