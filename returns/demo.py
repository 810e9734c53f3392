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
