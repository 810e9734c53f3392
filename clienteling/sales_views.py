"""Assisted selling on the tablet and influenced sales: "I'm serving this customer",
the associate's own credits, and HQ's totals per store and associate by channel."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import DecimalField, F, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clienteling import attribution
from clienteling.models import SalesCredit
from orders.models import Channel
from retail import access
from retail.access import Area, area_required
from retail.db_router import replica_reads
from retail.views import store_or_choose

PAGE = 25
CHANNELS = dict(Channel.choices)


@area_required(Area.STORE)
@require_POST
def serving(request: HttpRequest, pk: int) -> HttpResponse:
    """The associate taps "I'm serving this customer" on the customer's page."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    customer = get_object_or_404(access.customers_for(request.user), pk=pk)
    attribution.serving_record(
        associate=request.user, store=store, customer=customer, action="serving"
    )
    return redirect(reverse("retail:customer_detail", args=[customer.pk]) + "?serving=1")


def _net():
    return Coalesce(
        Sum(F("amount") - F("reversed_amount")),
        0,
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


@area_required(Area.STORE)
@require_GET
def my_sales(request: HttpRequest) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    credits = SalesCredit.objects.filter(associate=request.user)
    by_channel = list(credits.values("channel").annotate(net=_net()).order_by("channel"))
    for row in by_channel:
        row["label"] = CHANNELS.get(row["channel"], row["channel"])
    page = Paginator(
        credits.select_related("order", "store").order_by("-created_at", "-pk"), PAGE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "clienteling/my_sales.html",
        {
            "store": store,
            "nav": "sales",
            "page": page,
            "by_channel": by_channel,
            "total": sum((row["net"] for row in by_channel), 0),
        },
    )


@area_required(Area.HQ)
@require_GET
@replica_reads
def hq_sales(request: HttpRequest) -> HttpResponse:
    """Influenced sales per store and associate, by channel (one grouped query)."""
    grouped = (
        SalesCredit.objects.values(
            "store__code",
            "associate_id",
            "associate__email",
            "associate__first_name",
            "associate__last_name",
            "channel",
        )
        .annotate(net=_net())
        .order_by("store__code", "associate__email", "channel")
    )
    codes = sorted({row["channel"] for row in grouped})
    channels = [CHANNELS.get(code, code) for code in codes]
    people: dict[tuple, dict] = {}
    stores: dict[str, dict] = {}
    for row in grouped:
        key = (row["store__code"], row["associate_id"])
        name = f"{row['associate__first_name']} {row['associate__last_name']}".strip()
        person = people.setdefault(
            key,
            {"store": row["store__code"], "name": name or row["associate__email"], "by": {}},
        )
        person["by"][row["channel"]] = row["net"]
        shop = stores.setdefault(row["store__code"], {"store": row["store__code"], "by": {}})
        shop["by"][row["channel"]] = shop["by"].get(row["channel"], 0) + row["net"]
    for item in [*people.values(), *stores.values()]:
        item["cells"] = [item["by"].get(code, 0) for code in codes]
        item["total"] = sum(item["cells"], 0)
    page = Paginator(list(people.values()), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "clienteling/hq_sales.html",
        {"page": page, "channels": channels, "stores": list(stores.values())},
    )
