"""The tablet's offline mode: the service worker and the page it keeps (retail/offline.py),
the script every page loads, and the words it shows in both languages."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from tests import factories


def test_the_service_worker_is_served_from_the_root_uncached_with_its_offline_page(client):
    response = client.get(reverse("service_worker"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    body = response.content.decode()
    assert 'const OFFLINE = "/offline/"' in body
    # Page loads only: a page's own requests (htmx, downloads) are never answered by it.
    assert 'request.mode !== "navigate"' in body
    version = re.search(r'aisle-offline-([0-9a-f]{12})"', body).group(1)
    assert version == re.search(r"service worker \(([0-9a-f]{12})\)", body).group(1)


def test_the_offline_page_names_nobody_and_speaks_both_languages(client, db):
    staff = factories.StaffFactory(role="associate", first_name="Samantha")
    client.force_login(staff)
    response = client.get(reverse("offline"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "No network" in html and "没有网络" in html
    assert "Samantha" not in html and "csrfmiddlewaretoken" not in html
    assert "<script" not in html


@pytest.mark.parametrize(("language", "word"), [("en", "Retry"), ("zh-hans", "重试")])
def test_every_page_carries_the_script_and_its_words(client, db, language, word):
    store = factories.StoreFactory(code="S01")
    staff = factories.StaffFactory(role="associate", home_store=store)
    client.force_login(staff)
    response = client.get(reverse("retail:store_home"), HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert re.search(r'<script src="/static/js/aisle[^"]*\.js" defer>', html)
    block = re.search(
        r'<script id="aisle-strings" type="application/json">(.*?)</script>', html, re.S
    )
    words = json.loads(block.group(1))
    assert words["retry"] == word
    assert f'<meta name="aisle-user" content="{staff.pk}">' in html
    assert f'<meta name="aisle-store" content="{store.pk}">' in html
    assert '<meta name="aisle-sw" content="/sw.js">' in html  # the tablet has the worker
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html).group(1))
    assert config["allowEval"] is False and config["includeIndicatorStyles"] is False


def test_a_failed_csrf_check_asks_the_tablet_to_sign_in_again(db):
    from django.test import Client

    store = factories.StoreFactory(code="S01")
    staff = factories.StaffFactory(role="associate", home_store=store)
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(staff)
    response = checked.post(reverse("retail:store_choose"), {"store": store.pk})
    assert response.status_code == 403
    assert response["X-Aisle-Sign-In"] == "1"
