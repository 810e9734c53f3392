"""Finance's daily journal (`JournalDay`, `/hq/journal/`, `/store/journal/`): its lines
worked out by hand from `journal_world`'s story, its tie with the dashboards' net
revenue, an idempotent refresh, a late refund re-opening only its day, and bad input
answered with a message, never a 500 or another store's figures."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from insights import kpis, rollups
from insights.dates import today as reporting_today
from insights.models import DirtyDay, JournalDay
from tests import factories
from tests.insights import journal_world
from tests.insights.journal_world import give_back, travel

pytestmark = pytest.mark.django_db

DEC = {n: dt.date(2026, 12, n) for n in range(1, 5)}
NOV30 = dt.date(2026, 11, 30)


@pytest.fixture
def books():
    built = journal_world.build()
    rollups.refresh(full=True)
    return built


def lines(**filters) -> set[tuple]:
    """(day, store code or "", kind, tender, tax rate or "", amount, count)."""
    return {
        (day, code or "", kind, tender, "" if rate is None else str(rate), str(amount), count)
        for day, code, kind, tender, rate, amount, count in JournalDay.objects.filter(
            **filters
        ).values_list("day", "store__code", "kind", "tender", "tax_rate", "amount", "count")
    }


def snapshot() -> list[tuple]:
    return sorted(
        tuple(str(v) for v in row)
        for row in JournalDay.objects.values_list(
            "day", "store_id", "kind", "tender", "tax_rate", "amount", "count"
        )
    )


# --- The lines, by hand -----------------------------------------------------------------


def test_the_journal_lines_of_the_story(books):
    assert lines() == {
        # 30 Nov: goodwill credit at no store (reporting day).
        (NOV30, "", "credit_issued", "store_credit", "", "40.00", 1),
        # S1 at NY, 23:30 on 1 Dec in New York (04:30 UTC on 2 Dec): New York's 1 Dec.
        (DEC[1], "NY", "sale", "", "20.00", "50.00", 1),
        (DEC[1], "NY", "sale", "", "10.00", "80.00", 1),
        (DEC[1], "NY", "tax", "", "20.00", "8.33", 1),  # 50 × 20 / 120
        (DEC[1], "NY", "tax", "", "10.00", "7.27", 1),  # 80 × 10 / 110
        (DEC[1], "NY", "payment", "card", "", "90.00", 1),
        (DEC[1], "NY", "payment", "store_credit", "", "40.00", 1),
        (DEC[1], "NY", "credit_spent", "store_credit", "", "40.00", 1),
        # W1 online, 2 Dec: 2 × A (100.00) and L (80.00), by card.
        (DEC[2], "", "sale", "", "20.00", "100.00", 1),
        (DEC[2], "", "sale", "", "10.00", "80.00", 1),
        (DEC[2], "", "tax", "", "20.00", "16.67", 1),  # 100 × 20 / 120
        (DEC[2], "", "tax", "", "10.00", "7.27", 1),
        (DEC[2], "", "payment", "card", "", "180.00", 1),
        # P1 (web, to collect at SH) paid and cancelled on 2 Dec: no sale, money back.
        (DEC[2], "SH", "payment", "card", "", "80.00", 1),
        (DEC[2], "SH", "cancel_refund", "card", "", "80.00", 1),
        # W1's A returned at NY on 3 Dec: the web order's bucket (no store), to the card.
        (DEC[3], "", "refund", "card", "", "50.00", 1),
        (DEC[3], "", "refund_tax", "", "20.00", "8.33", 1),
        # S1's lamp returned on 4 Dec (10:00 in New York) as store credit.
        (DEC[4], "NY", "refund", "store_credit", "", "80.00", 1),
        (DEC[4], "NY", "refund_tax", "", "10.00", "7.27", 1),
        (DEC[4], "NY", "credit_issued", "store_credit", "", "80.00", 1),
    }


def test_sales_less_refunds_of_returns_is_the_dashboards_net_revenue(books):
    """What ties: Σ `sale` − Σ `refund` = `kpis.revenue(scope)["total"]` for the same
    days and store — sales are the kept value of the orders placed in the period and
    refunds are those of returns paid in it, whatever day the sale was.

    What does not tie, on purpose: store credit spent (S1's 40.00) is a tender, paid
    for revenue already counted in `sale`; the credit issued for S1's return is that
    return's refund paid as credit, not a second refund; the goodwill credit (40.00)
    is no sale; P1's cancellation refund (80.00) gives back units never sold, so it
    is in neither; payments (390.00 here) count money taken, cancelled units included."""
    period = (NOV30, DEC[4])
    total = kpis.revenue(kpis.Scope(*period))
    # By hand: sales 130 (S1) + 180 (W1) = 310; refunds 50 (W1) + 80 (S1) = 130.
    assert total["total"] == D("180.00")
    journal = JournalDay.objects.filter(day__gte=period[0], day__lte=period[1])
    assert sum(r.amount for r in journal.filter(kind="sale")) - sum(
        r.amount for r in journal.filter(kind="refund")
    ) == D("180.00")
    # One store: NY sold 130.00 and refunded 80.00; SH's cancelled order is no revenue.
    assert kpis.revenue(kpis.Scope(*period, store=books.ny))["total"] == D("50.00")
    assert kpis.revenue(kpis.Scope(*period, store=books.sh))["total"] == D("0.00")
    # One day: 3 Dec online is W1's refund only.
    assert kpis.revenue(kpis.Scope(DEC[3], DEC[3]))["total"] == D("-50.00")
    # The tax of the sales is the tax `SalesDay` holds: 8.33 + 7.27 + 16.67 + 7.27.
    assert sum(r.amount for r in journal.filter(kind="tax")) == D("39.54")


# --- Refreshing ----------------------------------------------------------------------------


def test_a_full_rebuild_twice_and_a_day_refreshed_twice_write_the_same_lines(books):
    first = snapshot()
    assert len(first) == 20
    rollups.refresh(full=True)
    assert snapshot() == first
    rollups.refresh_day(books.ny.pk, DEC[1])
    rollups.refresh_day(books.ny.pk, DEC[1])
    rollups.refresh_day(None, DEC[3])
    assert snapshot() == first


def test_a_late_refund_reopens_only_its_own_day(books, django_capture_on_commit_callbacks):
    """Bob returns W1's lamp today: the refund counts today under online orders; the
    sale's day (2 Dec) and every other day keep their lines."""
    before = lines()
    with django_capture_on_commit_callbacks(execute=True):
        give_back(books.orders["W1"], books.lamp, "R-LATE", books.ny, books.clerk, "original")
    today = reporting_today()  # online orders count in the reporting time zone
    assert set(DirtyDay.objects.values_list("store_id", "day")) == {(None, today)}
    rollups.refresh_dirty()
    after = lines()
    assert before - after == set()
    assert after - before == {
        (today, "", "refund", "card", "", "80.00", 1),
        (today, "", "refund_tax", "", "10.00", "7.27", 1),
    }


def test_a_payment_taken_on_a_later_day_is_a_journal_day_of_its_own(books):
    """A day with nothing but a payment (a pickup paid at the counter when collected,
    here written as the counter writes it) is found by the full rebuild."""
    from orders.models import Payment

    with travel(journal_world.f.at("2026-11-28 12:00")):
        Payment.objects.create(order=books.orders["W1"], tender="cash", amount=D("5.00"))
    rollups.refresh(full=True)
    assert lines(day=dt.date(2026, 11, 28)) == {
        (dt.date(2026, 11, 28), "", "payment", "cash", "", "5.00", 1)
    }


def test_credit_without_an_order_counts_where_it_was_issued_on_its_local_day(books):
    """Credit for a return without a receipt (as `returns` issues it: a store, no
    order) at 23:00 on 4 Dec in Shanghai (15:00 UTC): SH's 4 Dec, a `credit_issued`
    line and no refund — net revenue unchanged, as on the dashboards."""
    from orders import credit

    with travel(journal_world.f.at("2026-12-04 23:00", "Asia/Shanghai")):
        credit.credit_issue(
            customer=books.customers["carol"],
            amount=D("25.00"),
            reason="return without receipt",
            store=books.sh,
            return_ref="R-NORECEIPT",
        )
    rollups.refresh(full=True)
    assert lines(store=books.sh, day=DEC[4]) == {
        (DEC[4], "SH", "credit_issued", "store_credit", "", "25.00", 1)
    }
    assert kpis.revenue(kpis.Scope(NOV30, DEC[4]))["total"] == D("180.00")


# --- The pages -------------------------------------------------------------------------------

PERIOD = {"start": "2026-11-30", "end": "2026-12-04"}


@pytest.fixture
def hq(client):
    factories.login_with_totp(client, factories.StaffFactory(role="hq_admin"))
    return client


def manager_of(client, store):
    client.force_login(factories.StaffFactory(role="store_manager", home_store=store))
    return client


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_hq_sees_every_store_with_the_dashboards_net_revenue(books, hq):
    response = hq.get(reverse("journal_hq:journal"), PERIOD)
    assert response.status_code == 200
    journal = response.context["journal"]
    assert [j.code for j in journal.stores] == ["NY", "SH", ""]
    ny, sh, online = journal.stores
    assert (ny.amounts["sale"], ny.amounts["refund"], ny.net) == (D("130"), D("80"), D("50"))
    assert (sh.amounts["cancel_refund"], sh.net) == (D("80"), D("0"))
    assert online.net == D("130.00")  # 180 − 50
    assert journal.total.net == response.context["dashboard_net"] == D("180.00")
    assert ny.sorted_tax() == [(D("10.00"), D("7.27"), D("7.27")), (D("20.00"), D("8.33"), D(0))]
    assert ny.amounts["credit_issued"] == D("80.00")
    assert ny.amounts["credit_spent"] == D("40.00")
    assert journal.total.amounts["credit_issued"] == D("120.00")  # goodwill 40 + 80
    card = [t for t in ny.sorted_tenders() if t[0] == "Card"]
    assert card == [("Card", D("90.00"), D("0"), D("90.00"))]
    assert "€180.00" in response.content.decode()


def test_the_csv_has_one_row_per_store_day_and_line_in_the_documented_order(books, hq):
    rows = read_csv(hq.get(reverse("journal_hq:csv"), {**PERIOD, "store": "NY"}))
    assert rows == [
        ["Day", "Store", "Line", "Tender", "Tax rate (%)", "Count", "Amount (€)", "Currency"],
        ["2026-12-01", "NY", "sale", "", "10.00", "1", "80.00", "EUR"],
        ["2026-12-01", "NY", "sale", "", "20.00", "1", "50.00", "EUR"],
        ["2026-12-01", "NY", "tax", "", "10.00", "1", "7.27", "EUR"],
        ["2026-12-01", "NY", "tax", "", "20.00", "1", "8.33", "EUR"],
        ["2026-12-01", "NY", "payment", "card", "", "1", "90.00", "EUR"],
        ["2026-12-01", "NY", "payment", "store_credit", "", "1", "40.00", "EUR"],
        ["2026-12-01", "NY", "credit_spent", "store_credit", "", "1", "40.00", "EUR"],
        ["2026-12-04", "NY", "refund", "store_credit", "", "1", "80.00", "EUR"],
        ["2026-12-04", "NY", "refund_tax", "", "10.00", "1", "7.27", "EUR"],
        ["2026-12-04", "NY", "credit_issued", "store_credit", "", "1", "80.00", "EUR"],
    ]


def test_the_whole_network_csv_lists_online_orders_last_each_day(books, hq):
    rows = read_csv(hq.get(reverse("journal_hq:csv"), PERIOD))
    assert len(rows) == 1 + 20
    second = [(r[1], r[2]) for r in rows if r[0] == "2026-12-02"]
    assert second == [
        ("SH", "cancel_refund"),
        ("SH", "payment"),
        ("", "sale"),
        ("", "sale"),
        ("", "tax"),
        ("", "tax"),
        ("", "payment"),
    ]


def test_the_hq_nav_links_to_the_journal_and_marks_it(books, hq):
    html = hq.get(reverse("journal_hq:journal"), PERIOD).content.decode()
    nav = html.split('<nav class="mainnav"')[1].split("</nav>")[0]
    assert f'<a href="{reverse("journal_hq:journal")}" aria-current="page">Finance journal</a>' in (
        nav
    )


def test_a_manager_sees_only_their_store(books, client):
    manager_of(client, books.ny)
    response = client.get(reverse("journal_store:journal"), PERIOD)
    assert response.status_code == 200
    assert [j.code for j in response.context["journal"].stores] == ["NY"]
    assert response.context["dashboard_net"] == D("50.00")
    rows = read_csv(client.get(reverse("journal_store:csv"), PERIOD))
    assert {r[1] for r in rows[1:]} == {"NY"}


@pytest.mark.parametrize("name", ["journal_store:journal", "journal_store:csv"])
def test_a_manager_asking_for_another_store_is_refused_without_its_figures(books, client, name):
    manager_of(client, books.ny)
    response = client.get(reverse(name), {**PERIOD, "store": "SH"})
    assert response.status_code == 403
    text = response.content.decode()
    assert "This is the journal of NY only." in text
    assert response.context["journal"] is None


def test_an_associate_is_refused_the_journal(books, client):
    client.force_login(books.clerk)
    response = client.get(reverse("journal_store:journal"), PERIOD)
    assert response.status_code == 403
    assert "Only the store&#x27;s managers see its journal." in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-12-04", "end": "2026-12-01"}, "The period ends before it starts."),
        ({"start": "2026-12-01", "end": "2099-01-01"}, "The period cannot reach into the future"),
        ({"start": "2099-01-01"}, "The period cannot reach into the future"),
        ({"start": "2024-01-01", "end": "2026-12-01"}, "Choose a period of at most 366 days."),
        ({**PERIOD, "store": "XX"}, "That store code is unknown."),
        ({"start": "yesterday"}, "Enter a valid date."),
    ],
)
@pytest.mark.parametrize("name", ["journal_hq:journal", "journal_hq:csv"])
def test_bad_filters_answer_400_with_a_clear_message(books, hq, name, params, message):
    response = hq.get(reverse(name), params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["journal"] is None


def test_an_empty_period_is_an_empty_state(books, hq):
    response = hq.get(reverse("journal_hq:journal"), {"start": "2026-10-01", "end": "2026-10-31"})
    assert response.status_code == 200
    assert "No sale, refund, payment or store credit in this period." in response.content.decode()
    assert read_csv(
        hq.get(reverse("journal_hq:csv"), {"start": "2026-10-01", "end": "2026-10-31"})
    ) == [["Day", "Store", "Line", "Tender", "Tax rate (%)", "Count", "Amount (€)", "Currency"]]


def test_the_page_defaults_to_the_last_seven_days(books, hq):
    response = hq.get(reverse("journal_hq:journal"))
    assert response.status_code == 200
    start, end = response.context["start"], response.context["end"]
    assert (end - start).days == 6
    assert end >= timezone.now().astimezone(dt.UTC).date()


def test_the_page_reads_rollups_in_a_fixed_number_of_queries(
    books, hq, django_assert_max_num_queries
):
    """Session, user, TOTP, the stores' today, the journal, revenue (2 + codes) and the
    store list of the filter: nine, with three stores or four and twice the days."""
    with django_assert_max_num_queries(9):
        assert hq.get(reverse("journal_hq:journal"), PERIOD).status_code == 200
    more = factories.StoreFactory(code="LA", time_zone="America/Los_Angeles")
    factories.give_stock(factories.store_location(more), books.a, 10)
    for n, day in enumerate(("2026-11-30 20:00", "2026-12-01 20:00", "2026-12-03 20:00")):
        with travel(journal_world.f.at(day)):
            journal_world.place(
                f"LA-{n}", "store", books.customers["bob"], [(books.a, 1)],
                method="carry_out", store=more,
            )  # fmt: skip
    rollups.refresh(full=True)
    assert JournalDay.objects.filter(store=more).count() == 9
    with django_assert_max_num_queries(9):
        response = hq.get(reverse("journal_hq:journal"), PERIOD)
    assert [j.code for j in response.context["journal"].stores] == ["LA", "NY", "SH", ""]
