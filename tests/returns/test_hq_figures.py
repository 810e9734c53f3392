"""HQ's view of what comes back: the figures of `returns.figures` over a hand-built
history (values worked out here), their agreement with the Refund rows and the stock
ledger of the period, and the `/hq/returns/` pages and CSVs (filters, reversed dates,
a fixed number of queries, access)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from inventory import services as stock
from inventory.models import LocationKind, MovementKind, StockMovement
from orders import services as order_services
from orders.models import Order, Refund, State
from orders.services import LineInput, OrderInput
from returns import figures, services
from returns.figures import Filters, Period
from returns.models import Return
from returns.services import LineAsk
from tests import factories

pytestmark = pytest.mark.django_db

UTC = dt.UTC
PERIOD = Period(dt.date(2026, 3, 5), dt.date(2026, 3, 11))
NOW = dt.datetime(2026, 3, 15, 0, 0, tzinfo=UTC)
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Rue Montorgueil",
    "city": "Paris",
    "postcode": "75002",
    "country": "FR",
}


def at(day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


# --- Building the history ---------------------------------------------------------------


def _network():
    s1 = factories.StoreFactory(code="S01", name="Aisle Soho")
    s2 = factories.StoreFactory(code="S02", name="Aisle Lyon", time_zone="Europe/Paris")
    shelf1, shelf2 = factories.store_location(s1), factories.store_location(s2)
    dc = factories.StockLocationFactory(code="DC1", ships_to_customers=True)
    knitwear = factories.CategoryFactory(
        code="knitwear", name="Knitwear", tax_rate=Decimal("20.00")
    )
    accessories = factories.CategoryFactory(
        code="accessories", name="Accessories", tax_rate=Decimal("20.00")
    )
    jumper = factories.VariantFactory(
        sku="JUMPER-M",
        price=Decimal("60.00"),
        product__category=knitwear,
        product__style_code="JUMPER",
        product__name="Lambswool jumper",
    )
    scarf = factories.VariantFactory(
        sku="SCARF-1",
        price=Decimal("20.00"),
        product__category=accessories,
        product__style_code="SCARF",
        product__name="Silk scarf",
    )
    for variant in (jumper, scarf):
        for location in (dc, shelf1, shelf2):
            factories.give_stock(location, variant, 100)
    return {
        "s1": s1,
        "s2": s2,
        "shelf1": shelf1,
        "shelf2": shelf2,
        "dc": dc,
        "jumper": jumper,
        "scarf": scarf,
        "knitwear": knitwear,
        "accessories": accessories,
    }


def _delivered(ref, lines, *, channel="web", tender="card", customer=None) -> Order:
    """An order shipped from the DC and delivered: lines are (variant, quantity)."""
    customer = customer or factories.CustomerFactory(language="en")
    total = sum((v.price * q for v, q in lines), Decimal("0.00"))
    order, _created = order_services.order_place(
        OrderInput(
            order_ref=ref,
            channel=channel,
            customer=customer,
            lines=[LineInput(v, q, v.price) for v, q in lines],
            method="ship",
            address=ADDRESS,
            tender=tender,
            amount=total,
            fingerprint=ref,
        )
    )
    for f in order.fulfillments.all():
        for to in (State.PICKING, State.PACKED, State.SHIPPED, State.DELIVERED):
            f = order_services.fulfillment_transition(fulfillment=f, to=to, by=None)
    return order


def _till(ref, store, lines, *, tender="cash", customer=None) -> Order:
    """A till sale carried out of the store."""
    total = sum((v.price * q for v, q in lines), Decimal("0.00"))
    order, _created = order_services.order_place(
        OrderInput(
            order_ref=ref,
            channel="store",
            customer=customer,
            lines=[LineInput(v, q, v.price) for v, q in lines],
            method="carry_out",
            store=store,
            tender=tender,
            amount=total,
            fingerprint=ref,
        )
    )
    return order


def _counter(order, store, clerk, sku, units, reason, disposition, *, refund_to="original"):
    line = order.lines.get(sku=sku)
    ret, _created = services.return_at_counter(
        order=order,
        asks=[LineAsk(quantity=units, reason=reason, order_line=line, disposition=disposition)],
        store=store,
        by=clerk,
        return_ref=f"R-{order.order_ref}-{sku}",
        refund_to=refund_to,
    )
    assert ret.state == "completed"
    return ret


@pytest.fixture
def history():
    """Six returns completed in the period (5–11 March 2026), one just before it and
    one at the first moment after it:

    ====  =====================  =====  ==================  ============  ===========  ======
    ret   order (channel, paid)  where  item                reason        disposition  refund
    ====  =====================  =====  ==================  ============  ===========  ======
    R1    WEB-1 (web, card)      S01    1 jumper            size          restock       60.00
    R2    WEB-1 (web, card)      S02    1 scarf             quality       damaged       20.00
    R3    WEB-2 (web, gift card) DC     1 jumper (post)     fit           restock       60.00
    R4    APP-1 (app, card)      S02    1 jumper            changed mind  vendor        60.00*
    R5    TILL-1 (store, cash)   S01    2 scarves           damaged       donate        40.00
    R6    WEB-3 (web, card)      S01    1 jumper, exchange  size          restock       60.00
    out   WEB-4 (web, card)      S02    1 scarf, 4 Mar      damaged       damaged       20.00
    out   WEB-5 (web, card)      S01    1 scarf, 12 Mar     size          restock       20.00
    ====  =====================  =====  ==================  ============  ===========  ======

    (*) taken as store credit. R6's customer took EX-1 (a jumper, 60.00) instead.
    """
    net = _network()
    clerk1 = factories.StaffFactory(role="associate", home_store=net["s1"])
    clerk2 = factories.StaffFactory(role="associate", home_store=net["s2"])
    jumper, scarf = net["jumper"], net["scarf"]
    with time_machine.travel(at(1, 10), tick=False):
        web1 = _delivered("WEB-1", [(jumper, 2), (scarf, 1)])
        web2 = _delivered("WEB-2", [(jumper, 1)], tender="gift_card")
        app1 = _delivered("APP-1", [(jumper, 1)], channel="app")
        till1 = _till("TILL-1", net["s1"], [(scarf, 2)])
        web3 = _delivered("WEB-3", [(jumper, 1)])
        web4 = _delivered("WEB-4", [(scarf, 1)])
        web5 = _delivered("WEB-5", [(scarf, 1)])
    rets = {}
    with time_machine.travel(at(4, 23, 30), tick=False):
        rets["out_before"] = _counter(web4, net["s2"], clerk2, "SCARF-1", 1, "damaged", "damaged")
    with time_machine.travel(at(5, 9), tick=False):
        rets["R1"] = _counter(web1, net["s1"], clerk1, "JUMPER-M", 1, "size", "restock")
    with time_machine.travel(at(6, 12), tick=False):
        rets["R2"] = _counter(web1, net["s2"], clerk2, "SCARF-1", 1, "quality", "damaged")
        r3, _created = services.return_request(
            order=web2,
            return_ref="R-WEB-2",
            asks=[LineAsk(quantity=1, reason="fit", order_line=web2.lines.get())],
        )
    with time_machine.travel(at(7, 10), tick=False):
        rets["R3"] = services.return_receive(
            ret=r3, location=net["dc"], dispositions={"JUMPER-M": "restock"}
        )
    with time_machine.travel(at(8, 15), tick=False):
        rets["R4"] = _counter(
            app1,
            net["s2"],
            clerk2,
            "JUMPER-M",
            1,
            "changed_mind",
            "vendor",
            refund_to="store_credit",
        )
    with time_machine.travel(at(9, 9), tick=False):
        rets["R5"] = _counter(till1, net["s1"], clerk1, "SCARF-1", 2, "damaged", "donate")
    with time_machine.travel(at(10, 16), tick=False):
        rets["R6"] = _counter(web3, net["s1"], clerk1, "JUMPER-M", 1, "size", "restock")
        exchange = _till("EX-1", net["s1"], [(jumper, 1)], tender="card")
        # What the exchanges part records when the customer takes another item instead.
        Return.objects.filter(pk=rets["R6"].pk).update(exchange_order=exchange)
    with time_machine.travel(dt.datetime(2026, 3, 12, 0, 0, tzinfo=UTC), tick=False):
        rets["out_after"] = _counter(web5, net["s1"], clerk1, "SCARF-1", 1, "size", "restock")
    return {**net, "rets": rets, "clerk1": clerk1, "exchange": exchange}


def _by_key(rows: list[dict]) -> dict:
    return {r["key"]: (r["returns"], r["units"], r["refunded"]) for r in rows}


D = Decimal


# --- The figures ------------------------------------------------------------------------


def test_summary_counts_the_returns_completed_in_the_period_only(history):
    summary = figures.returns_summary(PERIOD)
    assert summary["returns"] == 6
    assert summary["units"] == 7
    assert summary["refunded"] == D("300.00")
    assert summary["fees"] == D("0.00")
    # Tax included at 20 %: 10.00 per jumper, 3.33 per scarf, 6.67 for two scarves.
    assert summary["tax"] == D("10.00") * 4 + D("3.33") + D("6.67")


def test_returns_by_store_reason_category_product_channel_and_disposition(history):
    assert _by_key(figures.returns_by_store(PERIOD)) == {
        "S01": (3, 4, D("160.00")),
        "S02": (2, 2, D("80.00")),
        "": (1, 1, D("60.00")),  # the parcel received at the DC
    }
    assert _by_key(figures.returns_by_reason(PERIOD)) == {
        "size": (2, 2, D("120.00")),
        "quality": (1, 1, D("20.00")),
        "fit": (1, 1, D("60.00")),
        "changed_mind": (1, 1, D("60.00")),
        "damaged": (1, 2, D("40.00")),
    }
    assert _by_key(figures.returns_by_category(PERIOD)) == {
        "knitwear": (4, 4, D("240.00")),
        "accessories": (2, 3, D("60.00")),
    }
    products = figures.returns_by_product(PERIOD)
    assert [(r["key"], r["label"]) for r in products] == [
        ("JUMPER", "Lambswool jumper"),
        ("SCARF", "Silk scarf"),
    ]
    assert _by_key(products) == {"JUMPER": (4, 4, D("240.00")), "SCARF": (2, 3, D("60.00"))}
    assert _by_key(figures.returns_by_product(PERIOD, limit=1)) == {"JUMPER": (4, 4, D("240.00"))}
    assert _by_key(figures.returns_by_channel(PERIOD)) == {
        "web": (4, 4, D("200.00")),
        "app": (1, 1, D("60.00")),
        "store": (1, 2, D("40.00")),
    }
    assert _by_key(figures.returns_by_disposition(PERIOD)) == {
        "restock": (3, 3, D("180.00")),
        "damaged": (1, 1, D("20.00")),
        "vendor": (1, 1, D("60.00")),
        "donate": (1, 2, D("40.00")),
    }


def test_filters_narrow_to_the_receiving_store_and_the_channel_of_purchase(history):
    s1 = Filters(store=history["s1"])
    assert _by_key(figures.returns_by_store(PERIOD, s1)) == {"S01": (3, 4, D("160.00"))}
    assert _by_key(figures.returns_by_channel(PERIOD, s1)) == {
        "web": (2, 2, D("120.00")),
        "store": (1, 2, D("40.00")),
    }
    web = Filters(channel="web")
    assert figures.returns_summary(PERIOD, web)["refunded"] == D("200.00")
    assert _by_key(figures.returns_by_store(PERIOD, Filters(store=history["s2"], channel="app")))
    assert _by_key(figures.returns_by_store(PERIOD, Filters(channel="kiosk"))) == {}


def test_period_bounds_are_whole_utc_days(history):
    # 4 March 23:30 UTC is out of a period starting on the 5th; 12 March 00:00 is the
    # first moment after one ending on the 11th.
    assert figures.returns_summary(Period(dt.date(2026, 3, 4), dt.date(2026, 3, 4)))["returns"] == 1
    assert (
        figures.returns_summary(Period(dt.date(2026, 3, 12), dt.date(2026, 3, 12)))["returns"] == 1
    )
    assert (
        figures.returns_summary(Period(dt.date(2026, 3, 4), dt.date(2026, 3, 12)))["returns"] == 8
    )
    with pytest.raises(ValueError):
        Period(dt.date(2026, 3, 12), dt.date(2026, 3, 4))


def test_boris_share_is_online_orders_returned_in_stores_over_all_their_returns(history):
    result = figures.boris_share(PERIOD)
    # Online orders (web, app): R1, R2, R3 (by post), R4, R6 — 5 units, 260.00.
    assert result["total"] == {"returns": 5, "units": 5, "refunded": D("260.00")}
    assert result["in_stores"] == {"returns": 4, "units": 4, "refunded": D("200.00")}
    assert result["share_units"] == D("80.0")  # 4 / 5
    assert result["share_value"] == D("76.9")  # 200 / 260
    rows = {r["key"]: r for r in result["rows"]}
    assert (rows["S01"]["units"], rows["S01"]["units_share"], rows["S01"]["value_share"]) == (
        2,
        D("40.0"),
        D("46.2"),  # 120 / 260
    )
    assert (rows["S02"]["refunded"], rows["S02"]["value_share"]) == (D("80.00"), D("30.8"))
    assert (rows[""]["in_store"], rows[""]["units_share"]) == (False, D("20.0"))
    # One store's row is still its part of every online order's return.
    only = figures.boris_share(PERIOD, Filters(store=history["s2"]))
    assert [r["key"] for r in only["rows"]] == ["S02"]
    assert only["share_units"] == D("80.0")


def test_exchange_rate_and_the_value_saved(history):
    result = figures.exchange_rate(PERIOD)
    assert result["total"] == {
        "returns": 6,
        "exchanges": 1,
        "saved": D("60.00"),
        "rate": D("16.7"),
    }
    s1 = {r["key"]: r for r in result["rows"]}["S01"]
    assert (s1["returns"], s1["exchanges"], s1["rate"], s1["saved"]) == (
        3,
        1,
        D("33.3"),
        D("60.00"),
    )
    # An exchange order cancelled since saved nothing.
    Order.objects.filter(pk=history["exchange"].pk).update(status="cancelled")
    assert figures.exchange_rate(PERIOD)["total"]["exchanges"] == 0
    assert figures.exchange_rate(PERIOD)["total"]["saved"] == D("0.00")


def test_refunds_by_tender_agree_with_the_refund_rows_of_the_period(history):
    rows = {(r["tender"], r["to_store_credit"]): r for r in figures.refunds_by_tender(PERIOD)}
    assert {k: (r["refunds"], r["amount"]) for k, r in rows.items()} == {
        ("card", False): (3, D("140.00")),
        ("card", True): (1, D("60.00")),
        ("gift_card", False): (1, D("60.00")),
        ("cash", False): (1, D("40.00")),
    }
    refunds = Refund.objects.filter(at__gte=PERIOD.since, at__lt=PERIOD.until).exclude(
        return_ref=""
    )
    assert sum(r["amount"] for r in rows.values()) == refunds.aggregate(s=Sum("amount"))["s"]
    assert sum(r["tax"] for r in rows.values()) == refunds.aggregate(s=Sum("tax_amount"))["s"]
    # …and with what the returns of the period refunded.
    assert sum(r["amount"] for r in rows.values()) == figures.returns_summary(PERIOD)["refunded"]
    # Filters: S02 took R2 (card) and R4 (card, as store credit); app orders: R4 only.
    s2 = figures.refunds_by_tender(PERIOD, Filters(store=history["s2"]))
    assert {(r["tender"], r["to_store_credit"], r["amount"]) for r in s2} == {
        ("card", False, D("20.00")),
        ("card", True, D("60.00")),
    }
    app = figures.refunds_by_tender(PERIOD, Filters(channel="app"))
    assert [(r["tender"], r["to_store_credit"], r["amount"]) for r in app] == [
        ("card", True, D("60.00"))
    ]


def test_a_return_without_receipt_is_store_credit_without_a_tender_or_a_channel(history):
    from tests.returns.factories import ReturnPolicyFactory

    ReturnPolicyFactory(category=history["accessories"], receiptless_allowed=True)
    boss = factories.StaffFactory(role="store_manager", home_store=history["s2"])
    with time_machine.travel(at(11, 14), tick=False):
        ret, _created = services.return_at_counter(
            order=None,
            asks=[LineAsk(quantity=1, reason="other", variant=history["scarf"])],
            store=history["s2"],
            by=boss,
            return_ref="R-NO-RECEIPT",
            customer=factories.CustomerFactory(),
        )
        services.return_approve(ret=ret, by=boss)
    ret.refresh_from_db()
    assert (ret.state, ret.refund_amount) == ("completed", D("20.00"))
    rows = figures.refunds_by_tender(PERIOD)
    assert [(r["label"], r["to_store_credit"], r["refunds"], r["amount"], r["tax"]) for r in rows][
        -1
    ] == ("No receipt", True, 1, D("20.00"), None)
    refund_rows = Refund.objects.filter(at__gte=PERIOD.since, at__lt=PERIOD.until).aggregate(
        s=Sum("amount")
    )["s"]
    assert figures.returns_summary(PERIOD)["refunded"] == refund_rows + D("20.00") == D("320.00")
    assert sum(r["amount"] for r in rows) == D("320.00")
    assert _by_key(figures.returns_by_channel(PERIOD))[""] == (1, 1, D("20.00"))
    assert [r["label"] for r in figures.returns_by_channel(PERIOD) if r["key"] == ""] == [
        "No receipt"
    ]
    # Bought in a channel: a return without a receipt has none.
    assert all(r["tender"] for r in figures.refunds_by_tender(PERIOD, Filters(channel="web")))
    s2 = figures.refunds_by_tender(PERIOD, Filters(store=history["s2"]))
    assert ("", True, D("20.00")) in {(r["tender"], r["to_store_credit"], r["amount"]) for r in s2}


def test_units_by_disposition_agree_with_the_ledger_movements_of_the_period(history):
    moves = StockMovement.objects.filter(
        kind=MovementKind.RETURN, at__gte=PERIOD.since, at__lt=PERIOD.until
    )
    restocked = moves.exclude(location__kind=LocationKind.HOLD).aggregate(s=Sum("quantity"))["s"]
    held = moves.filter(location__kind=LocationKind.HOLD).aggregate(s=Sum("quantity"))["s"]
    rows = {r["key"]: r["units"] for r in figures.returns_by_disposition(PERIOD)}
    assert restocked == rows["restock"] == 3
    assert held == rows["damaged"] + rows["vendor"] + rows["donate"] == 4
    assert moves.aggregate(s=Sum("quantity"))["s"] == figures.returns_summary(PERIOD)["units"]


def test_hold_stock_per_store_with_the_age_of_its_units(history):
    rows = {r["key"]: r for r in figures.hold_stock(now=NOW)}
    assert set(rows) == {"S01", "S02"}
    s1 = rows["S01"]  # R5: two scarves to donate since 9 March 09:00
    assert (s1["hold"], s1["units"], s1["donate"], s1["damaged"], s1["vendor"]) == (
        "S01-HOLD",
        2,
        2,
        0,
        0,
    )
    assert s1["oldest_days"] == 5  # 5 days 15 hours
    assert s1["average_days"] == 5.6
    s2 = rows["S02"]  # scarf 4 Mar 23:30 (damaged), scarf 6 Mar 12:00 (damaged), jumper
    # 8 Mar 15:00 (vendor): the one before the period counts, this is stock now.
    assert (s2["units"], s2["damaged"], s2["vendor"], s2["donate"]) == (3, 2, 1, 0)
    assert s2["oldest_days"] == 10
    ages = [NOW - at(4, 23, 30), NOW - at(6, 12), NOW - at(8, 15)]
    expected = sum(a.total_seconds() for a in ages) / 3 / 86400
    assert s2["average_days"] == round(expected, 1)
    # A decision takes the oldest scarf out of S02's hold: first in, first out.
    hold = stock.hold_location_for(history["shelf2"])
    stock.stock_adjust(
        location=hold, variant=history["scarf"], delta=-1, by=None, reason="sent for recycling"
    )
    s2 = {r["key"]: r for r in figures.hold_stock(now=NOW)}["S02"]
    assert (s2["units"], s2["damaged"], s2["vendor"], s2["oldest_days"]) == (2, 1, 1, 8)
    # The store filter keeps that store's hold.
    assert [r["key"] for r in figures.hold_stock(Filters(store=history["s1"]), now=NOW)] == ["S01"]


def test_figures_run_a_fixed_number_of_queries(history):
    with CaptureQueriesContext(connection) as ctx:
        figures.returns_summary(PERIOD)
        figures.returns_by_store(PERIOD)
        figures.returns_by_product(PERIOD)
        figures.boris_share(PERIOD)
        figures.exchange_rate(PERIOD)
        figures.refunds_by_tender(PERIOD)
        figures.hold_stock(now=NOW)
    assert len(ctx.captured_queries) == 2 + 1 + 1 + 1 + 1 + 2 + 2


# --- The pages --------------------------------------------------------------------------


@pytest.fixture
def hq(client):
    user = factories.StaffFactory(role="hq_admin")
    factories.login_with_totp(client, user)
    return client


PERIOD_QUERY = {"start": "2026-03-05", "end": "2026-03-11"}


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


def test_the_page_shows_each_table_with_totals_and_its_definition(history, hq):
    response = hq.get(reverse("returns_hq:overview"), PERIOD_QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    for key in hq_tables():
        assert f'id="returns-{key}"' in html
        assert reverse("returns_hq:csv", args=[key]) in html
    assert "How is this computed?" in html
    assert escape(str(figures.DEFINITIONS["boris"])) in html
    tables = {t.key: t for t in response.context["tables"]}
    assert tables["by_store"].totals == [["Total", "", 6, 7, D("300.00")]]
    assert tables["boris"].totals[0][5] == "80.0 %"
    assert response.context["exchange_rate"] == "16.7 %"


def hq_tables():
    from returns.hq_views import TABLES

    return list(TABLES)


def test_the_csv_has_the_tables_rows_and_totals_with_the_same_filters(history, hq):
    response = hq.get(
        reverse("returns_hq:csv", args=["by_store"]), {**PERIOD_QUERY, "channel": "web"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "aisle-returns-by_store-20260305-20260311.csv" in response["Content-Disposition"]
    assert _csv(response) == [
        ["Store", "Code", "Returns", "Units", "Refunded (€)"],
        ["Aisle Soho", "S01", "2", "2", "120.00"],
        ["Aisle Lyon", "S02", "1", "1", "20.00"],
        ["Distribution centre (by post)", "", "1", "1", "60.00"],
        ["Total", "", "4", "4", "200.00"],
    ]
    tenders = _csv(hq.get(reverse("returns_hq:csv", args=["tenders"]), PERIOD_QUERY))
    assert tenders[-1] == ["Total", "", "6", "300.00", "50.00"]


def test_csv_cells_are_not_formulas(history, hq):
    s2 = history["s2"]
    s2.name = '=HYPERLINK("http://evil")'
    s2.save(update_fields=["name"])
    rows = _csv(hq.get(reverse("returns_hq:csv", args=["by_store"]), PERIOD_QUERY))
    assert ['\'=HYPERLINK("http://evil")', "S02", "2", "2", "80.00"] in rows


def test_an_unknown_table_is_not_found(hq, db):
    assert hq.get(reverse("returns_hq:csv", args=["salaries"])).status_code == 404


def test_the_default_period_is_the_last_30_days(hq, db):
    with time_machine.travel(at(20, 9), tick=False):
        response = hq.get(reverse("returns_hq:overview"))
    assert response.status_code == 200
    assert response.context["period"] == Period(dt.date(2026, 2, 19), dt.date(2026, 3, 20))
    html = response.content.decode()
    assert 'value="2026-02-19"' in html and 'value="2026-03-20"' in html
    assert "Nothing came back in this period for these filters." in html
    assert "No returned units are waiting for a decision." in html


@pytest.mark.parametrize(
    "params, message",
    [
        ({"start": "2026-03-11", "end": "2026-03-05"}, "The period ends before it starts."),
        ({"start": "2025-01-01", "end": "2026-03-05"}, "Choose a period of at most 366 days."),
        ({"start": "5 March"}, "Enter a valid date."),
        ({"store": "NOPE"}, "That store code is unknown."),
        ({"channel": "fax"}, "That channel is unknown."),
    ],
)
@pytest.mark.parametrize("name, args", [("returns_hq:overview", []), ("returns_hq:csv", ["hold"])])
def test_bad_filters_are_refused_and_nothing_is_computed(params, message, name, args, hq, db):
    with CaptureQueriesContext(connection) as ctx:
        response = hq.get(reverse(name, args=args), params)
    assert response.status_code == 400
    assert message in response.content.decode()
    touched = [q["sql"] for q in ctx.captured_queries if "returns_" in q["sql"]]
    assert touched == []


def test_reversed_dates_are_refused_in_chinese_too(hq, db):
    response = hq.get(
        reverse("returns_hq:overview"),
        {"start": "2026-03-11", "end": "2026-03-05"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert "结束" in response.content.decode()


def test_the_definitions_are_shown_in_the_users_language(history, hq):
    response = hq.get(reverse("returns_hq:overview"), PERIOD_QUERY, HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = response.content.decode()
    assert "这是如何计算的？" in html
    assert "线上购买、门店退货" in html  # the BORIS table's title
    assert "除以线上订单退回的全部件数和金额" in html  # …and its definition


def _more_returns(net, clerk, n: int, start: int) -> None:
    """`n` more web orders, each returned at S01 in the period, dispositions in turn."""
    dispositions = ["restock", "damaged", "vendor", "donate"]
    with time_machine.travel(at(1, 10), tick=False):
        orders = [
            _delivered(f"MORE-{start + i}", [(net["scarf"], 1)], channel=["web", "app"][i % 2])
            for i in range(n)
        ]
    with time_machine.travel(at(9, 11), tick=False):
        for i, order in enumerate(orders):
            _counter(order, net["s1"], clerk, "SCARF-1", 1, "fit", dispositions[i % 4])


def test_pages_and_csvs_run_the_same_queries_at_two_sizes(history, hq):
    urls = [reverse("returns_hq:overview")] + [
        reverse("returns_hq:csv", args=[key]) for key in hq_tables()
    ]

    def counts():
        result = {}
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                response = hq.get(url, PERIOD_QUERY)
            assert response.status_code == 200
            result[url] = len(ctx.captured_queries)
        return result

    hq.get(reverse("returns_hq:overview"), PERIOD_QUERY)  # the session settles
    small = counts()
    _more_returns(history, history["clerk1"], 24, 0)
    assert figures.returns_summary(PERIOD)["returns"] == 30
    large = counts()
    assert large == small


# --- Access -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["associate", "store_manager", "kiosk"])
@pytest.mark.parametrize("name, args", [("returns_hq:overview", []), ("returns_hq:csv", ["hold"])])
def test_store_staff_and_kiosks_are_refused(role, name, args, client, store):
    client.force_login(factories.StaffFactory(role=role, home_store=store))
    assert client.get(reverse(name, args=args)).status_code == 403


def test_hq_without_the_second_factor_is_sent_to_set_it_up(client, db):
    client.force_login(factories.StaffFactory(role="hq_admin"))
    response = client.get(reverse("returns_hq:overview"))
    assert response.status_code == 302
    assert reverse("mfa_activate_totp") in response["Location"]


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(reverse("returns_hq:csv", args=["by_store"]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
