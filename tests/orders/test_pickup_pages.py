"""The pickup pages on the tablet, the kiosk's check-in and HQ's figures: what the
people see, refusals as clear 4xx messages, and fixed query counts at two sizes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders import pickup
from orders.models import Fulfillment, State
from tests import factories
from tests.orders.pickups import make_ready, network, place

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def net(store):
    return network(store, shelf_units=200)


@pytest.fixture
def tablet(client, associate):
    client.force_login(associate)
    return client


def orders_at(store, net, n, start=0):
    """n pickups at the store in every state of the queue."""
    made = []
    for i in range(start, start + n):
        order = place(
            store,
            [(net["jumper"], 1), (net["scarf"], 2)],
            ref=f"WEB-{i}",
            customer=factories.CustomerFactory(),
        )
        f = order.fulfillments.get()
        if i % 3 == 1:
            make_ready(f, store)
        elif i % 3 == 2:
            make_ready(f, store)
            f.refresh_from_db()
            pickup.pickup_check_in(store=store, text=f.pickup_code, by=None)
        made.append(f)
    return made


def test_queue_shows_states_counts_and_the_waiting_customer(tablet, store, net):
    new, ready, waiting = orders_at(store, net, 3)
    response = tablet.get(reverse("orders_store:queue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-count="total">3<' in html
    assert 'data-count="waiting">1<' in html
    assert "Customer waiting" in html and "waiting since" in html
    assert html.index(waiting.order.order_ref) < html.index(new.order.order_ref)
    # The htmx poll gets only the list, with the filter kept.
    partial = tablet.get(reverse("orders_store:queue") + "?show=ready", **HTMX)
    body = partial.content.decode()
    assert "<html" not in body and ready.order.order_ref in body
    assert new.order.order_ref not in body


def test_home_panel_shows_todays_pickups(tablet, store, net):
    orders_at(store, net, 2)
    home = tablet.get(reverse("retail:store_home")).content.decode()
    assert reverse("orders_store:panel") in home
    panel = tablet.get(reverse("orders_store:panel"), **HTMX)
    assert panel.status_code == 200
    assert "Today&#x27;s pickups" in panel.content.decode() or "Today's pickups" in (
        panel.content.decode()
    )
    assert "WEB-0" in panel.content.decode()


def test_pick_by_scan_through_the_page(tablet, store, net):
    f = place(store, [(net["jumper"], 1)]).fulfillments.get()
    url = reverse("orders_store:scan", args=[f.pk])
    response = tablet.post(url, {"code": net["jumper"].barcode}, **HTMX)
    assert response.status_code == 200
    assert "Picked" in response.content.decode()
    wrong = tablet.post(url, {"code": net["scarf"].barcode}, **HTMX)
    assert wrong.status_code == 400
    assert "Wrong item" in wrong.content.decode()
    assert net["jumper"].sku in wrong.content.decode()
    ready = tablet.post(reverse("orders_store:ready", args=[f.pk]))
    assert ready.status_code == 302
    f.refresh_from_db()
    assert f.state == State.READY


def test_mark_ready_with_unpicked_lines_answers_409_with_the_reason(tablet, store, net):
    f = place(store, [(net["jumper"], 1)]).fulfillments.get()
    response = tablet.post(reverse("orders_store:ready", args=[f.pk]))
    assert response.status_code == 409
    assert "Not every line is picked" in response.content.decode()
    f.refresh_from_db()
    assert f.state == State.RESERVED


def test_another_stores_pickup_is_not_found(client, store, other_store, net):
    f = place(store, [(net["jumper"], 1)]).fulfillments.get()
    client.force_login(factories.StaffFactory(role="associate", home_store=other_store))
    assert client.get(reverse("orders_store:detail", args=[f.pk])).status_code == 404
    response = client.post(
        reverse("orders_store:scan", args=[f.pk]), {"code": net["jumper"].barcode}
    )
    assert response.status_code == 404
    assert Fulfillment.objects.get(pk=f.pk).lines.first().picked_quantity == 0


def test_find_by_code_then_hand_over_and_a_replay_is_refused(tablet, store, net):
    f = place(store, [(net["jumper"], 1)]).fulfillments.get()
    make_ready(f, store)
    f.refresh_from_db()
    found = tablet.post(reverse("orders_store:find"), {"q": f.pickup_code})
    assert found.status_code == 200
    assert f'value="{f.pickup_code}"' in found.content.decode()
    url = reverse("orders_store:handover", args=[f.pk])
    done = tablet.post(url, {"code": f.pickup_code})
    assert done.status_code == 302
    replay = tablet.post(url, {"code": f.pickup_code})
    assert replay.status_code == 409
    assert "already handed over" in replay.content.decode()
    f.refresh_from_db()
    assert f.state == State.COLLECTED


def test_find_by_customer_name_and_wrong_code_at_hand_over(tablet, store, net):
    customer = factories.CustomerFactory(name="Grace Hopper")
    f = place(store, [(net["jumper"], 1)], customer=customer).fulfillments.get()
    make_ready(f, store)
    f.refresh_from_db()
    found = tablet.post(reverse("orders_store:find"), {"q": "hopper"})
    assert found.status_code == 200 and "WEB-1" in found.content.decode()
    wrong = "999999" if f.pickup_code != "999999" else "888888"
    response = tablet.post(reverse("orders_store:handover", args=[f.pk]), {"code": wrong})
    assert response.status_code == 400
    assert "does not match" in response.content.decode()
    f.refresh_from_db()
    assert f.state == State.READY
    bad = tablet.post(reverse("orders_store:find"), {"q": wrong})
    assert bad.status_code == 400


def test_short_line_through_the_page(tablet, store):
    net = network(store, shelf_units=1, dc_units=0)
    f = place(store, [(net["jumper"], 1)]).fulfillments.get()
    line = f.lines.get()
    response = tablet.post(reverse("orders_store:short", args=[f.pk, line.pk]))
    assert response.status_code == 302
    f.refresh_from_db()
    assert f.state == State.CANCELLED
    assert f.order.refunds.count() == 1


def test_hq_page_shows_figures_per_store(hq_client, store, other_store, net):
    orders_at(store, net, 3)
    response = hq_client.get(reverse("orders_hq:pickups"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-store="S01"' in html and 'data-store="S02"' in html
    row = html[html.index('data-store="S01"') :]
    assert '<td data-figure="waiting">3</td>' in row
    assert '<td data-figure="customers_waiting">1</td>' in row


def test_order_timeline_in_hq_admin(hq_client, store, net, associate):
    f = place(store, [(net["jumper"], 1)]).fulfillments.get()
    make_ready(f, store, associate)
    response = hq_client.get(reverse("admin:orders_order_change", args=[f.order.pk]))
    assert response.status_code == 200
    assert "item_picked" in response.content.decode()


# --- Fixed number of queries, whatever the number of orders -------------------------


def _query_counts(client, urls) -> dict[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for label, url, headers in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, **headers).status_code == 200, url
        counts[label] = len(queries)
    return counts


def test_queue_panel_order_page_and_fragments_run_in_the_same_queries_at_two_sizes(
    tablet, store, net, monkeypatch
):
    from retail import polls

    # One time step throughout: a step turning between two measurements would draw
    # what is kept per step (the queue's counts) again in one of them.
    fixed = polls.time.time()
    monkeypatch.setattr(polls.time, "time", lambda: fixed)
    made = orders_at(store, net, 3)
    f, ready = made[0], made[1]

    def urls():
        detail = reverse("orders_store:detail", args=[f.pk])
        return [
            ("queue", reverse("orders_store:queue"), {}),
            ("queue poll", reverse("orders_store:queue") + "?show=waiting", HTMX),
            ("panel", reverse("orders_store:panel"), HTMX),
            ("order page", detail, {}),
            ("pick fragment", detail, HTMX),
            ("timeline fragment", detail + "?part=timeline", HTMX),
            ("hand-over page", reverse("orders_store:handover", args=[ready.pk]), {}),
        ]

    tablet.get(reverse("orders_store:queue"))  # a session's first page remembers its store
    # Each size measured warm (what a change draws once, such as the queue's counts,
    # kept): the same state of the cache at both sizes.
    _query_counts(tablet, urls())
    small = _query_counts(tablet, urls())
    orders_at(store, net, 21, start=100)
    for _n in range(2):  # a longer timeline too
        pickup.pickup_scan(fulfillment=f, code=net["scarf"].barcode, by=None, store=store)
    _query_counts(tablet, urls())
    large = _query_counts(tablet, urls())
    assert large == small
    assert max(small.values()) <= 14, small


def test_hq_pickups_runs_in_the_same_queries_at_two_sizes(hq_client, store, net):
    url = [("hq", reverse("orders_hq:pickups"), {})]
    orders_at(store, net, 3)
    small = _query_counts(hq_client, url)
    for i in range(10):
        factories.StoreFactory(code=f"X{i:02d}")
    orders_at(store, net, 9, start=100)
    assert _query_counts(hq_client, url) == small


def test_hand_over_without_code_refused_shows_the_course_that_unlocks_it(tablet, store, net):
    skill = factories.SkillFactory(code="bopis_fulfilment")
    factories.OperationRuleFactory(operation="handover_without_code", skill=skill, level=2)
    factories.CourseFactory(code="pickup-done-right", grants={skill: 2})
    f = place(store, [(net["jumper"], 1)]).fulfillments.get()
    make_ready(f, store)
    response = tablet.post(
        reverse("orders_store:handover", args=[f.pk]), {"code": "", "id_checked": "1"}
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-operation="handover_without_code"' in html
    assert reverse("training:course", args=["pickup-done-right"]) in html
    f.refresh_from_db()
    assert f.state == State.READY


def test_control_characters_and_junk_are_refused_with_4xx_never_500(
    tablet, client, store, net, kiosk_user
):
    f = place(store, [(net["jumper"], 1)]).fulfillments.get()
    junk = ["\x00", "12\x0034", "x" * 5000, "' OR 1=1 --", "AISLE1:1:123456:zz"]
    for text in junk:
        scan = tablet.post(reverse("orders_store:scan", args=[f.pk]), {"code": text}, **HTMX)
        assert 400 <= scan.status_code < 500, (text, scan.status_code)
        found = tablet.post(reverse("orders_store:find"), {"q": text})
        assert found.status_code < 500, (text, found.status_code)
        over = tablet.post(reverse("orders_store:handover", args=[f.pk]), {"code": text})
        assert 400 <= over.status_code < 500, (text, over.status_code)
    client.force_login(kiosk_user)
    for text in junk:
        response = client.post(reverse("kiosk:check_in"), {"code": text})
        assert 400 <= response.status_code < 500, (text, response.status_code)
    f.refresh_from_db()
    assert f.state == State.RESERVED and f.lines.get().picked_quantity == 0


def test_overdue_means_past_the_promised_time_or_near_the_end_of_the_hold(store, net):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    late = place(store, [(net["jumper"], 1)], ref="WEB-LATE").fulfillments.get()
    held = place(store, [(net["scarf"], 1)], ref="WEB-HELD").fulfillments.get()
    make_ready(held, store)
    held.refresh_from_db()
    assert pickup.queue_counts(store)["overdue"] == 0
    with time_machine.travel(late.ready_by + dt.timedelta(minutes=1), tick=False):
        assert [f.pk for f in pickup.pickup_queue(store, bucket="overdue")] == [late.pk]
    with time_machine.travel(held.hold_until - dt.timedelta(hours=3), tick=False):
        overdue = list(pickup.pickup_queue(store, bucket="overdue"))
        assert held.pk in [f.pk for f in overdue]
        pickup.annotate_for_display(overdue, timezone.now())
        assert all(f.overdue for f in overdue)


def test_the_queue_polls_its_own_filter_and_page(tablet, store, net, monkeypatch):
    from orders import views

    monkeypatch.setattr(views, "QUEUE_PAGE", 2)
    orders_at(store, net, 9)
    url = reverse("orders_store:queue") + "?show=new&page=2"
    html = tablet.get(url).content.decode()
    assert f'hx-get="{url.replace("&", "&amp;")}"' in html
    assert 'hx-trigger="every 10s"' in html
    partial = tablet.get(url, **HTMX).content.decode()
    assert "Page 2 of 2" in partial
