"""Incentives on "My sales", for the manager's team and at HQ, on the history of
conftest.py, with HQ's weights set here:

    own store sales 2 %, attributed online sales 1 %, 1.50 per pickup handed over,
    2.00 per follow-up converted, returns take back 50 % of what the credit earned.

Worked by hand (December 2026, today being 10 December):
- ann (SH): O1 170.00 in store × 2 % = 3.40; O4 80.00 online × 1 % = 0.80; O4 handed
  over 3 Dec: 1 × 1.50 = 1.50; total 5.70.
- ben (NY): O2 30.00 in store × 2 % = 0.60; bob's follow-up converted: 1 × 2.00 = 2.00;
  total 2.60.
- network: 8.30.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal as D

import pytest
import time_machine
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clienteling.models import SalesCredit
from insights import incentive_views, rollups
from insights.models import AssociateDay, IncentiveWeights
from tests import factories

TODAY = dt.datetime(2026, 12, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def built(world):
    IncentiveWeights.objects.create(
        own_store_sales=D("2"),
        attributed_online=D("1"),
        pickup_handed=D("1.50"),
        followup_converted=D("2.00"),
        returns_deducted=D("50"),
    )
    rollups.refresh(full=True)
    return world


def login(client, user):
    client.force_login(user)
    return client


def part(html: str, name: str) -> list[str]:
    """The cells of one part's row in the first make-up table of `html`."""
    row = html.split(f'<tr data-part="{name}">')[1].split("</tr>")[0]
    return [cell.split(">", 1)[1] for cell in row.replace("</th>", "</td>").split("</td>")[:-1]]


def rows_of(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- The associate's own figure --------------------------------------------------------------


def test_my_sales_loads_my_incentive(client, built):
    html = login(client, built.ann).get(reverse("clienteling:my_sales")).content.decode()
    assert f'hx-get="{reverse("insights_incentives:mine")}"' in html


def test_the_associate_sees_their_figure_and_how_it_was_made_up(client, built):
    response = login(client, built.ann).get(reverse("insights_incentives:mine"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "From 1 Dec 2026 to 10 Dec 2026" in html
    assert "<strong>€5.70</strong>" in html.split('id="my-incentive-total"')[1]
    assert part(html, "own_store_sales") == [
        "Own store sales credited",
        "€170.00",
        "2.00%",
        "€3.40",
    ]
    assert part(html, "attributed_online") == [
        "Online sales credited (attributed)",
        "€80.00",
        "1.00%",
        "€0.80",
    ]
    assert part(html, "pickups_handed") == ["Pickups handed over", "1", "€1.50 each", "€1.50"]
    assert part(html, "followups_converted")[1:] == ["0", "€2.00 each", "€0.00"]
    assert part(html, "returns_deducted")[1:] == ["€0.00", "50.00% of what it earned", "€0.00"]
    # Never another associate's figures, and no link to a team they do not lead.
    assert "ben@test.aisle" not in html
    assert "€2.60" not in html
    assert f'href="{reverse("insights_incentives:team")}"' not in html


def test_a_reversed_credit_is_taken_back_on_the_tablet(client, built):
    SalesCredit.objects.filter(order=built.orders[4]).update(reversed_amount=D("20.00"))
    rollups.refresh_day(built.sh.pk, dt.date(2026, 12, 2))
    html = login(client, built.ann).get(reverse("insights_incentives:mine")).content.decode()
    # 20.00 of online credit reversed × 1 % × 50 % = 0.10.
    assert part(html, "returns_deducted")[1:] == ["€20.00", "50.00% of what it earned", "−€0.10"]
    assert "<strong>€5.60</strong>" in html.split('id="my-incentive-total"')[1]


def test_the_associate_chooses_the_period(client, built):
    c = login(client, built.ann)
    last_month = c.get(reverse("insights_incentives:mine"), {"period": "last_month"})
    html = last_month.content.decode()
    assert "From 1 Nov 2026 to 30 Nov 2026" in html
    assert "€5.70" not in html and "€3.40" not in html
    last_30 = c.get(reverse("insights_incentives:mine"), {"period": "last_30_days"})
    assert "From 11 Nov 2026 to 10 Dec 2026" in last_30.content.decode()
    assert "€5.70" in last_30.content.decode()


def test_a_forged_period_is_a_clear_error(client, built):
    response = login(client, built.ann).get(
        reverse("insights_incentives:mine"), {"period": "forever"}
    )
    assert response.status_code == 400
    assert "Choose a period from the list." in response.content.decode()


def test_someone_without_figures_sees_an_empty_state(client, built):
    newcomer = factories.StaffFactory(role="associate", home_store=built.sh)
    html = login(client, newcomer).get(reverse("insights_incentives:mine")).content.decode()
    assert "No figure for this period yet" in html
    assert "ann@test.aisle" not in html


# --- The manager's team ----------------------------------------------------------------------


def test_the_manager_sees_their_store_team_only(client, built):
    manager = factories.StaffFactory(role="store_manager", home_store=built.sh)
    c = login(client, manager)
    response = c.get(reverse("insights_incentives:team"), {"store": "NY"})  # no such parameter
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-associate="ann@test.aisle"' in html
    assert "ben@test.aisle" not in html
    assert "<strong>€5.70</strong>" in html.split('id="team-total"')[1]
    assert part(html, "pickups_handed") == ["Pickups handed over", "1", "€1.50 each", "€1.50"]


def test_the_new_york_manager_sees_ben_only(client, built):
    manager = factories.StaffFactory(role="store_manager", home_store=built.ny)
    html = login(client, manager).get(reverse("insights_incentives:team")).content.decode()
    assert 'data-associate="ben@test.aisle"' in html
    assert "ann@test.aisle" not in html
    assert part(html, "followups_converted") == ["Follow-ups converted", "1", "€2.00 each", "€2.00"]
    assert "<strong>€2.60</strong>" in html.split('id="team-total"')[1]


def test_the_my_incentive_fragment_links_a_manager_to_the_team(client, built):
    manager = factories.StaffFactory(role="store_manager", home_store=built.sh)
    html = login(client, manager).get(reverse("insights_incentives:mine")).content.decode()
    assert f'href="{reverse("insights_incentives:team")}"' in html


def test_an_associate_is_refused_the_team(client, built):
    c = login(client, built.ann)
    assert c.get(reverse("insights_incentives:team")).status_code == 403
    assert c.get(reverse("insights_incentives:team_csv")).status_code == 403


def test_the_team_csv_has_each_part(client, built):
    manager = factories.StaffFactory(role="store_manager", home_store=built.sh)
    response = login(client, manager).get(reverse("insights_incentives:team_csv"))
    header, *rows = rows_of(response)
    assert header[:4] + header[5:8] == [
        "From",
        "To",
        "Store",
        "Associate",
        "Total (€)",
        "Own store sales credited: basis (€)",
        "Own store sales credited: amount (€)",
    ]
    assert len(rows) == 1
    (ann,) = rows
    assert ann[:4] + ann[5:] == [
        "2026-12-01",
        "2026-12-10",
        "SH",
        "ann@test.aisle",
        "5.70",
        "170.00",
        "3.40",
        "80.00",
        "0.80",
        "1",
        "1.50",
        "0",
        "0.00",
        "0.00",
        "0.00",
    ]


def test_the_team_for_one_day(client, built):
    manager = factories.StaffFactory(role="store_manager", home_store=built.sh)
    html = (
        login(client, manager)
        .get(reverse("insights_incentives:team"), {"start": "2026-12-03", "end": "2026-12-03"})
        .content.decode()
    )
    # On 3 December ann only handed O4 over: 1.50 (the sales count on their order days).
    assert "<strong>€1.50</strong>" in html.split('id="team-total"')[1]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-12-05", "end": "2026-12-01"}, "The period ends before it starts."),
        ({"start": "2026-12-01", "end": "2026-12-11"}, "The period cannot end after today"),
        ({"start": "2026-12-01"}, "Give both the first and the last day, or choose a period."),
        ({"start": "yesterday", "end": "2026-12-01"}, "Enter a valid date."),
        ({"period": "all_time"}, "Choose a period from the list."),
    ],
)
def test_a_bad_team_period_is_a_clear_error(client, built, params, message):
    manager = factories.StaffFactory(role="store_manager", home_store=built.sh)
    c = login(client, manager)
    response = c.get(reverse("insights_incentives:team"), params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "ann@test.aisle" not in response.content.decode()
    assert c.get(reverse("insights_incentives:team_csv"), params).status_code == 400


# --- HQ ----------------------------------------------------------------------------------


def test_hq_sees_every_team_and_every_associate(hq_client, built):
    response = hq_client.get(reverse("insights_incentives_hq:network"))
    assert response.status_code == 200
    html = response.content.decode()
    stores = html.split('id="incentive-stores"')[1].split("</section>")[0]
    assert '<tr data-store="NY"><th scope="row">NY</th><td>1</td><td>€2.60</td></tr>' in stores
    assert '<tr data-store="SH"><th scope="row">SH</th><td>1</td><td>€5.70</td></tr>' in stores
    assert "<strong>€8.30</strong>" in stores
    people = html.split('id="incentive-people"')[1]
    assert 'data-associate="ann@test.aisle" data-store="SH"' in people
    assert 'data-associate="ben@test.aisle" data-store="NY"' in people


def test_hq_sees_the_weights_with_the_formula_and_a_link_to_change_them(hq_client, built):
    html = hq_client.get(reverse("insights_incentives_hq:network")).content.decode()
    weights = html.split('id="incentive-weights"')[1].split("</section>")[0]
    assert '<dd data-weight="own_store_sales">2.00%</dd>' in weights
    assert '<dd data-weight="attributed_online">1.00%</dd>' in weights
    assert '<dd data-weight="pickup_handed">€1.50</dd>' in weights
    assert '<dd data-weight="followup_converted">€2.00</dd>' in weights
    assert '<dd data-weight="returns_deducted">50.00%</dd>' in weights
    assert "own store sales credited to them × 2.00%" in weights
    row = IncentiveWeights.objects.get()
    assert f'href="{reverse("admin:insights_incentiveweights_change", args=[row.pk])}"' in weights


def test_without_weights_hq_is_offered_to_add_them(hq_client, world):
    html = hq_client.get(reverse("insights_incentives_hq:network")).content.decode()
    assert f'href="{reverse("admin:insights_incentiveweights_add")}"' in html


def test_hq_filters_by_store(hq_client, built):
    response = hq_client.get(reverse("insights_incentives_hq:network"), {"store": "SH"})
    html = response.content.decode()
    assert 'data-associate="ann@test.aisle"' in html
    assert "ben@test.aisle" not in html
    assert "<strong>€5.70</strong>" in html.split('id="network-total"')[1]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"store": "ZZ"}, "That store code is unknown."),
        ({"start": "2026-12-05", "end": "2026-12-01"}, "The period ends before it starts."),
        ({"start": "2026-12-01", "end": "2027-01-01"}, "The period cannot end after today"),
    ],
)
def test_bad_hq_filters_are_clear_errors(hq_client, built, params, message):
    response = hq_client.get(reverse("insights_incentives_hq:network"), params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert hq_client.get(reverse("insights_incentives_hq:csv"), params).status_code == 400


def test_hq_pages_through_the_associates(hq_client, built, monkeypatch):
    monkeypatch.setattr(incentive_views, "PAGE_SIZE", 1)
    first = hq_client.get(reverse("insights_incentives_hq:network"), {"period": "this_month"})
    html = first.content.decode()
    people = html.split('id="incentive-people"')[1]
    assert "ben@test.aisle" in people and "ann@test.aisle" not in people
    assert 'href="?period=this_month&amp;page=2"' in people
    second = hq_client.get(
        reverse("insights_incentives_hq:network"), {"period": "this_month", "page": "2"}
    )
    people = second.content.decode().split('id="incentive-people"')[1]
    assert "ann@test.aisle" in people and "ben@test.aisle" not in people


def test_hq_csv_streams_every_associate(hq_client, built):
    response = hq_client.get(reverse("insights_incentives_hq:csv"), {"period": "this_month"})
    assert response["Content-Disposition"] == 'attachment; filename="aisle-incentives-network.csv"'
    _header, *rows = rows_of(response)
    assert [(r[2], r[3], r[5]) for r in rows] == [
        ("NY", "ben@test.aisle", "2.60"),
        ("SH", "ann@test.aisle", "5.70"),
    ]


def test_the_hq_page_costs_the_same_for_two_and_twenty_associates(hq_client, built):
    url = reverse("insights_incentives_hq:network")

    def queries() -> int:
        hq_client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert hq_client.get(url).status_code == 200
        return len(captured)

    few = queries()
    for _i in range(18):
        person = factories.StaffFactory(role="associate", home_store=built.sh)
        AssociateDay.objects.create(
            day=dt.date(2026, 12, 2), store=built.sh, associate=person, credited_store=D("10")
        )
    assert queries() == few


# --- Weights through admin ---------------------------------------------------------------


WEIGHTS = {
    "own_store_sales": "2",
    "attributed_online": "2",
    "pickup_handed": "0.5",
    "followup_converted": "1",
    "returns_deducted": "100",
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"returns_deducted": "150"}, "A percentage cannot be more than 100."),
        ({"attributed_online": "100.01"}, "A percentage cannot be more than 100."),
        ({"followup_converted": "-1"}, "A weight cannot be negative."),
        (
            {
                "own_store_sales": "0",
                "attributed_online": "0",
                "pickup_handed": "0",
                "followup_converted": "0",
            },
            "At least one weight must be above zero, or every figure would be nothing.",
        ),
    ],
)
def test_admin_refuses_weights_that_make_no_sense(hq_client, db, changes, message):
    response = hq_client.post(
        reverse("admin:insights_incentiveweights_add"), {**WEIGHTS, **changes}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not IncentiveWeights.objects.exists()
