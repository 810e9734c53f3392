"""The customer page's sections (`retail/customer_page.py`): kept for every reader, one
query for every section's versions and one cache round trip for every kept render;
what changed is rendered again, what did not is not."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clienteling.models import Note
from orders import credit
from retail import customer_page
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def shared_cache(settings):
    settings.AISLE_SHARED_CACHE = True
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    cache.clear()


def page(client, customer) -> str:
    response = client.get(f"/store/customers/{customer.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def section_queries(client, customer) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        page(client, customer)
    return [q["sql"] for q in captured.captured_queries]


def test_a_kept_page_asks_every_sections_versions_in_one_query(client, associate, store):
    customer = factories.CustomerFactory()
    client.force_login(associate)
    page(client, customer)  # the sections rendered and kept
    queries = section_queries(client, customer)
    # The customer, the audit row and the one query of versions; no section's own.
    assert len(queries) == 3, queries
    assert sum("orders_storecreditentry" in q for q in queries) == 1
    assert sum("returns_return" in q for q in queries) == 1
    assert sum("clienteling_note" in q for q in queries) == 1


def test_new_store_credit_shows_at_once(client, associate, store):
    customer = factories.CustomerFactory()
    client.force_login(associate)
    assert "No store credit yet." in page(client, customer)
    credit.credit_issue(customer=customer, amount=Decimal("12.50"), reason="goodwill")
    html = page(client, customer)
    assert "No store credit yet." not in html
    assert 'data-balance="12.50"' in html


def test_a_new_note_shows_at_once_and_only_the_changed_section_renders_again(
    client, associate, store, monkeypatch
):
    customer = factories.CustomerFactory()
    client.force_login(associate)
    page(client, customer)
    rendered = []
    for label, section in list(customer_page._sections.items()):
        original = section.render

        def counting(request, c, s, _label=label, _render=original):
            rendered.append(_label)
            return _render(request, c, s)

        monkeypatch.setitem(
            customer_page._sections,
            label,
            customer_page.Section(
                label,
                counting,
                section.versions,
                section.stamps,
                section.seconds,
                section.finish,
            ),
        )
    page(client, customer)
    assert rendered == []  # nothing changed: every section from the cache
    Note.objects.create(customer=customer, author=associate, store=store, text="Size up in knits")
    html = page(client, customer)
    assert "Size up in knits" in html
    assert rendered == ["clienteling"]


def test_with_nothing_kept_every_section_is_rendered(client, associate, store, settings):
    customer = factories.CustomerFactory()
    client.force_login(associate)
    page(client, customer)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    credit.credit_issue(customer=customer, amount=Decimal("5.00"), reason="goodwill")
    html = page(client, customer)
    assert 'data-balance="5.00"' in html
    assert 'id="customer-360"' in html and 'id="customer-returns"' in html


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_versions_are_one_statement_prepared_on_the_connection_unless_behind_pgbouncer(
    settings,
):
    sql = "SELECT (SELECT COUNT(*) FROM retail_store WHERE id = %(c)s)"

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                ["%retail_store WHERE id = $1%"],
            )
            return cursor.fetchone()[0]

    settings.DATABASE_POOLER = "pgbouncer"
    for pk in range(8):
        assert customer_page._fetch_one(sql, {"c": pk}) == (0,)
    assert prepared() == 0

    settings.DATABASE_POOLER = ""
    for pk in range(8):
        assert customer_page._fetch_one(sql, {"c": pk}) == (0,)
    assert prepared() == 1
