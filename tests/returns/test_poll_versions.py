"""The returns approval queue, the returns home panel and a return's status part
answer unchanged polls with 304 and no query (`retail/polls.py`), and render news
after a return service changed what they show."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from returns import services
from returns.models import Return, ReturnState
from returns.services import LineAsk
from tests import factories
from tests.returns import world

pytestmark = pytest.mark.django_db

FRAGMENT = {"HTTP_HX_REQUEST": "true"}
POLL = {**FRAGMENT, "HTTP_X_AISLE_POLL": "1"}
APPROVALS = "/store/returns/approvals/"


@pytest.fixture(autouse=True)
def shared_cache(settings):
    settings.AISLE_SHARED_CACHE = True
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


@pytest.fixture
def net():
    return world.network()


@pytest.fixture
def clerk(net):
    return factories.StaffFactory(role="associate", home_store=net["s1"])


@pytest.fixture
def boss(net):
    return factories.StaffFactory(role="store_manager", home_store=net["s1"])


def tablet(user, url=APPROVALS, headers=POLL) -> Client:
    """Signed in, the page opened, the fragment polled once (its version known)."""
    client = Client()
    client.force_login(user)
    assert client.get(APPROVALS).status_code == 200
    assert client.get(url, **headers).status_code == 200
    return client


def big_return(net, clerk) -> Return:
    """A return at S01's counter above the approval threshold: it waits for a manager."""
    order = world.delivered([(net["jumper"], 9)])
    ret, _created = services.return_at_counter(
        order=order,
        asks=[LineAsk(quantity=9, reason="size", order_line=order.lines.get())],
        store=net["s1"],
        by=clerk,
        return_ref=f"R-{Return.objects.count() + 1:032x}",
    )
    assert ret.state == ReturnState.AWAITING_APPROVAL
    return ret


def test_an_unchanged_approval_queue_answers_304_without_a_query(
    net, clerk, django_assert_num_queries
):
    ret = big_return(net, clerk)
    client = tablet(clerk)
    first = client.get(APPROVALS, **POLL)
    assert first.status_code == 200 and ret.code.encode() in first.content
    with django_assert_num_queries(0):
        again = client.get(APPROVALS, HTTP_IF_NONE_MATCH=first["ETag"], **POLL)
    assert again.status_code == 304 and again["Cache-Control"] == "private, no-cache"


def test_a_return_waiting_then_decided_renders_the_next_poll(
    net, clerk, boss, django_capture_on_commit_callbacks
):
    client = tablet(boss)
    empty = client.get(APPROVALS, **POLL)
    assert b"No return waits for approval here." in empty.content
    with django_capture_on_commit_callbacks(execute=True):
        ret = big_return(net, clerk)
    waiting = client.get(APPROVALS, HTTP_IF_NONE_MATCH=empty["ETag"], **POLL)
    assert waiting.status_code == 200 and ret.code.encode() in waiting.content
    assert b"Decide" in waiting.content  # drawn for a manager
    with django_capture_on_commit_callbacks(execute=True):
        services.return_approve(ret=ret, by=boss)
    decided = client.get(APPROVALS, HTTP_IF_NONE_MATCH=waiting["ETag"], **POLL)
    assert decided.status_code == 200 and ret.code.encode() not in decided.content


def test_associates_and_managers_never_share_the_copy(net, clerk, boss):
    big_return(net, clerk)
    associate_view = tablet(clerk).get(APPROVALS, **POLL)
    manager_view = tablet(boss).get(APPROVALS, HTTP_IF_NONE_MATCH=associate_view["ETag"], **POLL)
    assert manager_view.status_code == 200
    assert b"Decide" in manager_view.content and b"Decide" not in associate_view.content


def test_two_managers_tablets_share_one_render(net, clerk, boss, django_assert_num_queries):
    big_return(net, clerk)
    first = tablet(boss)
    second = tablet(factories.StaffFactory(role="store_manager", home_store=net["s1"]))
    rendered = first.get(APPROVALS, **POLL)
    with django_assert_num_queries(0):
        kept = second.get(APPROVALS, **POLL)
    assert kept.status_code == 200 and kept.content == rendered.content


def test_another_stores_manager_never_gets_this_stores_304(net, clerk, boss):
    ret = big_return(net, clerk)
    mine = tablet(boss).get(APPROVALS, **POLL)
    elsewhere = tablet(factories.StaffFactory(role="store_manager", home_store=net["s2"]))
    theirs = elsewhere.get(APPROVALS, HTTP_IF_NONE_MATCH=mine["ETag"], **POLL)
    assert theirs.status_code == 200 and ret.code.encode() not in theirs.content


def test_anonymous_polls_are_sent_to_sign_in(net, clerk):
    big_return(net, clerk)
    etag = tablet(clerk).get(APPROVALS, **POLL)["ETag"]
    anonymous = Client().get(APPROVALS, HTTP_IF_NONE_MATCH=etag, **POLL)
    assert anonymous.status_code == 302


def test_the_returns_panel_answers_304_and_renders_news(
    net, clerk, django_assert_num_queries, django_capture_on_commit_callbacks
):
    panel = reverse("returns_store:panel")
    client = tablet(clerk, panel, FRAGMENT)
    first = client.get(panel, **FRAGMENT)
    with django_assert_num_queries(0):
        assert client.get(panel, HTTP_IF_NONE_MATCH=first["ETag"], **FRAGMENT).status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        ret = big_return(net, clerk)
    news = client.get(panel, HTTP_IF_NONE_MATCH=first["ETag"], **FRAGMENT)
    assert news.status_code == 200 and ret.code.encode() in news.content


def test_a_returns_status_part_answers_304_until_the_decision(
    net, clerk, boss, django_assert_num_queries, django_capture_on_commit_callbacks
):
    ret = big_return(net, clerk)
    status = reverse("returns_store:detail", args=[ret.pk]) + "?part=status"
    client = tablet(clerk, status)
    first = client.get(status, **POLL)
    assert b'id="waiting-manager"' in first.content
    assert first.content.count(b"csrfmiddlewaretoken") >= 1  # its cancel form
    with django_assert_num_queries(0):
        assert client.get(status, HTTP_IF_NONE_MATCH=first["ETag"], **POLL).status_code == 304
    # Another associate of the store has a validator of their own (forms, a CSRF token).
    other = tablet(factories.StaffFactory(role="associate", home_store=net["s1"]), status)
    assert other.get(status, HTTP_IF_NONE_MATCH=first["ETag"], **POLL).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        services.return_approve(ret=ret, by=boss)
    decided = client.get(status, HTTP_IF_NONE_MATCH=first["ETag"], **POLL)
    assert decided.status_code == 200 and b'data-state="completed"' in decided.content
    assert b"every 3s" not in decided.content  # it stops polling


def test_a_return_received_elsewhere_leaves_its_kiosk_stores_panel(
    net, clerk, django_capture_on_commit_callbacks
):
    """A kiosk return waits on its store's panel; received at another store, it leaves
    that panel on its next poll (both stores' versions move)."""
    from returns import kiosk

    order = world.delivered([(net["jumper"], 1)])
    line = order.lines.get()
    kiosk_user = factories.StaffFactory(role="kiosk", home_store=net["s1"])
    with django_capture_on_commit_callbacks(execute=True):
        ret = kiosk.kiosk_return_start(
            order=order,
            store=net["s1"],
            picks={line.pk: (1, "size")},
            nonce="a" * 32,
            kiosk_user=kiosk_user,
        )
    panel = reverse("returns_store:panel")
    client = tablet(clerk, panel, FRAGMENT)
    shown = client.get(panel, **FRAGMENT)
    assert ret.code.encode() in shown.content
    with django_capture_on_commit_callbacks(execute=True):
        services.return_receive(ret=ret, location=net["shelf2"], store=net["s2"])
    after = client.get(panel, HTTP_IF_NONE_MATCH=shown["ETag"], **FRAGMENT)
    assert after.status_code == 200 and ret.code.encode() not in after.content
