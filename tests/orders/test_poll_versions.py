"""Polls that cost nothing when nothing changed (`retail/polls.py`): the pickup queue
and its home panel answer an unchanged poll with 304 and no query, render a change
once for every tablet of the store, and never answer 304 without a version."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from orders import pickup
from retail import polls
from tests import factories
from tests.orders.pickups import make_ready, network, place

pytestmark = pytest.mark.django_db

POLL = {"HTTP_HX_REQUEST": "true", "HTTP_X_AISLE_POLL": "1"}
QUEUE = "/store/pickups/"


@pytest.fixture(autouse=True)
def shared_cache(settings):
    """As deployed: sessions and the signed-in user in the shared cache (Redis; one
    test process shares its local-memory cache just the same)."""
    settings.AISLE_SHARED_CACHE = True
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


@pytest.fixture
def net(store):
    return network(store, shelf_units=50)


def tablet(user) -> Client:
    """A signed-in tablet that opened the queue (its store remembered, its user kept in
    the cache) and polled it once (the store's version known from then on)."""
    client = Client()
    client.force_login(user)
    assert client.get(QUEUE).status_code == 200
    assert client.get(QUEUE, **POLL).status_code == 200
    return client


def poll(client, url=QUEUE, etag=None, **headers):
    if etag:
        headers["HTTP_IF_NONE_MATCH"] = etag
    return client.get(url, **POLL, **headers)


def test_an_unchanged_queue_answers_304_without_a_query(
    associate, store, net, django_assert_num_queries
):
    place(store, [(net["jumper"], 1)], ref="WEB-1")
    client = tablet(associate)
    first = poll(client)
    assert first.status_code == 200 and b"WEB-1" in first.content
    etag = first["ETag"]
    assert etag.startswith('W/"') and first["Cache-Control"] == "private, no-cache"
    with django_assert_num_queries(0):
        again = poll(client, etag=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    assert again["Cache-Control"] == "private, no-cache"
    assert "HX-Request" in again["Vary"]
    # No body, so no policy to build for it: the browser keeps the one it revalidated.
    assert "Content-Security-Policy" in first
    assert "Content-Security-Policy" not in again


def test_a_new_pickup_a_state_change_and_a_check_in_each_render_the_next_poll(
    associate, store, net, django_capture_on_commit_callbacks
):
    client = tablet(associate)
    etag = poll(client)["ETag"]

    with django_capture_on_commit_callbacks(execute=True):
        order = place(store, [(net["jumper"], 1)], ref="WEB-NEW")
    news = poll(client, etag=etag)
    assert news.status_code == 200 and b"WEB-NEW" in news.content
    assert news["ETag"] != etag
    assert poll(client, etag=news["ETag"]).status_code == 304

    f = order.fulfillments.get()
    with django_capture_on_commit_callbacks(execute=True):
        pickup.pickup_scan(fulfillment=f, code=net["jumper"].barcode, by=associate, store=store)
    picking = poll(client, etag=news["ETag"])
    assert picking.status_code == 200 and b'data-state="picking"' in picking.content

    with django_capture_on_commit_callbacks(execute=True):
        f = make_ready(f, store)
    ready = poll(client, etag=picking["ETag"])
    assert ready.status_code == 200 and b'data-state="ready"' in ready.content

    with django_capture_on_commit_callbacks(execute=True):
        pickup.pickup_check_in(store=store, text=f.pickup_code, by=None)
    waiting = poll(client, etag=ready["ETag"])
    assert waiting.status_code == 200 and b'data-state="waiting"' in waiting.content
    assert poll(client, etag=waiting["ETag"]).status_code == 304


def test_the_version_that_counts_is_bumped_after_the_commit(
    store, net, django_capture_on_commit_callbacks
):
    """A tablet that read the version while the change was not committed yet drew the
    old data: the bump after the commit makes its next poll draw again."""
    key = polls.version_key(polls.PICKUPS, store.pk)
    before = cache.get(key)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        place(store, [(net["jumper"], 1)], ref="WEB-2")
    during = cache.get(key)
    assert during != before
    for callback in callbacks:
        callback()
    assert cache.get(key) not in (before, during)


def test_two_tablets_of_the_store_share_one_render(
    associate, manager, store, net, django_assert_num_queries
):
    place(store, [(net["jumper"], 1)], ref="WEB-1")
    first, second = (
        tablet(associate),
        tablet(factories.StaffFactory(role="associate", home_store=store)),
    )
    rendered = poll(first)
    assert rendered.status_code == 200
    with django_assert_num_queries(0):
        kept = poll(second)
    assert kept.status_code == 200
    assert kept.content == rendered.content and kept["ETag"] == rendered["ETag"]
    with django_assert_num_queries(0):
        assert poll(second, etag=kept["ETag"]).status_code == 304
    # The filter and the page are the copy's too: another tab renders its own.
    other = poll(second, QUEUE + "?show=ready")
    assert other["ETag"] != rendered["ETag"]


def test_another_stores_tablet_gets_neither_the_304_nor_the_copy(
    associate, store, other_store, net
):
    place(store, [(net["jumper"], 1)], ref="WEB-S01")
    mine = poll(tablet(associate))
    theirs_client = tablet(factories.StaffFactory(role="associate", home_store=other_store))
    theirs = poll(theirs_client, etag=mine["ETag"])
    assert theirs.status_code == 200
    assert b"WEB-S01" not in theirs.content
    assert theirs["ETag"] != mine["ETag"]


def test_a_manager_has_a_validator_of_their_own_role(associate, manager, store, net):
    etag = poll(tablet(associate))["ETag"]
    answer = poll(tablet(manager), etag=etag)
    assert answer.status_code == 200 and answer["ETag"] != etag


def test_the_language_is_part_of_the_validator(associate, store, net):
    place(store, [(net["jumper"], 1)], ref="WEB-1")
    client = tablet(associate)
    english = poll(client)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    chinese = poll(client, etag=english["ETag"])
    assert chinese.status_code == 200
    assert chinese["ETag"] != english["ETag"]
    assert chinese.content != english.content
    assert poll(client, etag=chinese["ETag"]).status_code == 304


def test_relative_times_move_the_validator_with_the_time_step(associate, store, net, monkeypatch):
    """ "waiting 5 minutes" changes with the clock: a new step draws the queue again."""
    client = tablet(associate)
    etag = poll(client)["ETag"]
    real = polls.time.time
    monkeypatch.setattr(polls.time, "time", lambda: real() + settings.AISLE_POLL_TIME_STEP_SECONDS)
    later = poll(client, etag=etag)
    assert later.status_code == 200 and later["ETag"] != etag


def test_an_emptied_cache_answers_200_without_a_validator_then_versions_again(
    associate, store, net
):
    client = tablet(associate)
    etag = poll(client)["ETag"]
    for kind_key in (polls.version_key(polls.PICKUPS, store.pk),):
        cache.delete(kind_key)
    unknown = poll(client, etag=etag)
    assert unknown.status_code == 200
    assert not unknown.has_header("ETag")
    assert unknown["Cache-Control"] == "private, no-cache"
    again = poll(client, etag=etag)
    assert again.status_code == 200 and again.has_header("ETag") and again["ETag"] != etag


def test_without_a_shared_cache_no_poll_is_answered_from_versions(associate, store, net, settings):
    """The embedded default (one process's local cache) knows no version another process
    bumped: plain 200s, revalidated by the browser, never a 304."""
    settings.AISLE_SHARED_CACHE = False
    client = tablet(associate)
    first = poll(client)
    assert first.status_code == 200 and not first.has_header("ETag")
    assert first["Cache-Control"] == "private, no-cache"
    assert poll(client, etag='W/"anything"').status_code == 200


def test_anonymous_and_kiosk_polls_get_their_usual_answers_never_304(
    associate, kiosk_user, store, net
):
    etag = poll(tablet(associate))["ETag"]
    anonymous = poll(Client(), etag=etag)
    assert anonymous.status_code == 302 and reverse("account_login") in anonymous["Location"]
    kiosk = Client()
    kiosk.force_login(kiosk_user)
    assert poll(kiosk, etag=etag).status_code == 403
    assert poll(kiosk, reverse("orders_store:panel"), etag=etag).status_code == 403


def test_the_full_page_is_never_answered_304(associate, store, net):
    client = tablet(associate)
    etag = poll(client)["ETag"]
    page = client.get(QUEUE, HTTP_IF_NONE_MATCH=etag)
    assert page.status_code == 200 and b"<html" in page.content
    assert page["Cache-Control"] == "no-store"


def test_the_home_panel_answers_304_and_renders_news(
    associate, store, net, django_assert_num_queries, django_capture_on_commit_callbacks
):
    panel = reverse("orders_store:panel")
    client = tablet(associate)
    first = client.get(panel, HTTP_HX_REQUEST="true")
    assert first.status_code == 200 and b"All clear" in first.content
    with django_assert_num_queries(0):
        assert (
            client.get(panel, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=first["ETag"]).status_code
            == 304
        )
    with django_capture_on_commit_callbacks(execute=True):
        place(store, [(net["jumper"], 1)], ref="WEB-PANEL")
    news = client.get(panel, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=first["ETag"])
    assert news.status_code == 200 and b"WEB-PANEL" in news.content


def test_the_queue_polls_at_the_configured_interval(associate, store, net, settings):
    settings.AISLE_POLL_SECONDS = 2
    html = tablet(associate).get(QUEUE).content.decode()
    assert 'hx-trigger="every 2s"' in html


def test_with_the_cache_unreachable_polls_answer_200_without_a_validator(
    associate, store, net, settings
):
    """Redis down: no version can be read, so no 304 could be trusted; the queue is
    drawn from the database on every poll (sessions too: `cached_db`)."""
    from retail import cache as resilient
    from tests.retail.test_cache_down import CLOSED_PORT, cache_settings

    resilient._down_until.clear()
    settings.CACHES = cache_settings(CLOSED_PORT)
    place(store, [(net["jumper"], 1)], ref="WEB-DOWN")
    client = Client()
    client.force_login(associate)
    assert client.get(QUEUE).status_code == 200
    for _n in range(2):
        answer = poll(client, etag='W/"a-version-from-before"')
        assert answer.status_code == 200 and b"WEB-DOWN" in answer.content
        assert not answer.has_header("ETag")
        assert answer["Cache-Control"] == "private, no-cache"
    resilient._down_until.clear()


def test_a_manager_working_in_their_other_store_polls_without_a_query(
    manager, store, other_store, net, django_assert_num_queries
):
    from retail.access import STORE_SESSION_KEY

    manager.staff_profile.other_stores.add(other_store)
    client = Client()
    client.force_login(manager)
    session = client.session
    session[STORE_SESSION_KEY] = other_store.pk
    session.save()
    client.get(QUEUE)
    poll(client)
    etag = poll(client)["ETag"]
    with django_assert_num_queries(0):
        assert poll(client, etag=etag).status_code == 304


def test_the_queues_counts_are_drawn_once_per_change_for_every_tablet(
    associate, store, net, django_capture_on_commit_callbacks, monkeypatch
):
    """The full page's tab counts are one heavy query to build: kept under the queue's
    version, so a second tablet opening the page does not draw them again, and a new
    pickup (a version bump) shows in them at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # One time step throughout: a step turning mid-test would draw the counts again.
    fixed = polls.time.time()
    monkeypatch.setattr(polls.time, "time", lambda: fixed)
    place(store, [(net["jumper"], 1)], ref="WEB-1")
    tablet(associate)  # drew the counts
    other = factories.StaffFactory(role="associate", home_store=store)
    second = Client()
    second.force_login(other)
    second.get(QUEUE)  # its session and user kept
    with CaptureQueriesContext(connection) as kept:
        page = second.get(QUEUE)
    assert 'data-count="total">1<' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        place(store, [(net["jumper"], 1)], ref="WEB-2")
    with CaptureQueriesContext(connection) as drawn:
        page = second.get(QUEUE)
    assert 'data-count="total">2<' in page.content.decode()
    assert len(drawn) == len(kept) + 1  # the counts, drawn again once
    with CaptureQueriesContext(connection) as again:
        second.get(QUEUE)
    assert len(again) == len(kept)
