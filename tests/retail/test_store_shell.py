"""The tablet shell: home, store choice, customer search and the profile page."""

import pytest
from django.urls import reverse

from retail.models import AuditLog
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def associate_client(client, associate):
    client.force_login(associate)
    return client


def test_associate_lands_on_the_tablet_home_after_login(client, associate):
    response = client.post(
        reverse("account_login"),
        {"login": associate.email, "password": factories.PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("retail:store_home")
    assert "Find a customer" in response.content.decode()


def test_kiosk_account_lands_on_the_kiosk(client, kiosk_user):
    client.force_login(kiosk_user)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("kiosk:home")
    assert client.get("/store/").status_code == 403


def test_staff_with_several_stores_choose_one_first(client, store, other_store):
    user = factories.StaffFactory(role="associate", home_store=store, other_stores=[other_store])
    client.force_login(user)
    assert client.get("/store/")["Location"] == reverse("retail:store_choose")
    response = client.post(reverse("retail:store_choose"), {"store": "S02"})
    assert response["Location"] == reverse("retail:store_home")
    assert "S02" in client.get("/store/").content.decode()


def test_unknown_or_foreign_store_code_is_refused_with_a_message(client, store, other_store):
    user = factories.StaffFactory(role="associate", home_store=store, other_stores=[other_store])
    factories.StoreFactory(code="S99")
    client.force_login(user)
    for code in ("NOPE", "S99"):
        response = client.post(reverse("retail:store_choose"), {"store": code})
        assert response.status_code == 400
        assert "unknown, or not one of your stores" in response.content.decode()
    assert "aisle_store_id" not in client.session


@pytest.mark.parametrize(
    "query",
    [
        "Mei Lin",
        "MEI.CHEN@example.com",
        "+33 6 12 90 01 23",
        "06 12 90 01 23",
        "WEB-MEI-001",
        "web-mei-001",
    ],
)
def test_customer_search_finds_by_name_whole_email_whole_phone_and_reference(
    associate_client, query
):
    mei = factories.CustomerFactory(
        name="Mei Lin Chen",
        email="mei.chen@example.com",
        phone="+33612900123",
        customer_ref="WEB-MEI-001",
    )
    factories.CustomerFactory(name="Someone Else", phone="+33612900555")
    response = associate_client.get(reverse("retail:customer_search"), {"q": query})
    body = response.content.decode()
    assert reverse("retail:customer_detail", args=[mei.pk]) in body
    assert "Someone Else" not in body


def test_htmx_search_answers_with_the_results_fragment_only(associate_client):
    factories.CustomerFactory(name="Mei Lin Chen")
    response = associate_client.get(
        reverse("retail:customer_search"), {"q": "Mei"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert "Mei Lin Chen" in body
    assert "<html" not in body


def test_search_has_an_empty_state_and_paginates(associate_client):
    response = associate_client.get(reverse("retail:customer_search"), {"q": "Nobody"})
    assert "No customer matches" in response.content.decode()
    factories.CustomerFactory.create_batch(
        25, name=factories.factory.Sequence(lambda n: f"Ann {n:02d}")
    )
    first = associate_client.get(reverse("retail:customer_search"), {"q": "Ann"}).content.decode()
    assert "25 customers found" in first
    assert "Page 1 of 2" in first
    second = associate_client.get(
        reverse("retail:customer_search"), {"q": "Ann", "page": 2}
    ).content.decode()
    assert second.count('class="result"') == 5


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": "Ann", "page": "abc"}, 200),
        ({"q": "Ann", "page": "-1"}, 200),
        ({"q": "x" * 500}, 200),
        ({"q": "a\x00b"}, 400),  # a NUL anywhere in a request: Django's 400 page
    ],
)
def test_malformed_query_strings_never_answer_500(associate_client, params, status):
    response = associate_client.get(reverse("retail:customer_search"), params)
    assert response.status_code == status


def test_malformed_paths_answer_404(associate_client):
    assert associate_client.get("/store/customers/abc/").status_code == 404
    assert associate_client.get("/store/customers/999999/").status_code == 404


def test_opening_a_profile_writes_one_audit_row(associate_client, associate, store):
    customer = factories.CustomerFactory(name="Mei Lin Chen")
    response = associate_client.get(reverse("retail:customer_detail", args=[customer.pk]))
    assert response.status_code == 200
    assert "Mei Lin Chen" in response.content.decode()
    row = AuditLog.objects.get()
    assert (row.actor, row.action, row.target_type, row.target_id, row.store) == (
        associate,
        "customer.view",
        "retail.customer",
        str(customer.pk),
        store,
    )


@pytest.mark.parametrize("count", [3, 30])
def test_search_page_runs_in_a_fixed_number_of_queries(
    client, associate, store, count, django_assert_max_num_queries, settings
):
    # As deployed with Redis (one test process shares its locmem cache): sessions and the
    # signed-in user are read from the cache, whatever database the suite runs on.
    settings.AISLE_SHARED_CACHE = True
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    client.force_login(associate)
    factories.CustomerFactory.create_batch(count, name="Ann Example", preferred_store=store)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("retail:customer_search"), {"q": "Ann"})
    assert response.status_code == 200


@pytest.mark.parametrize("count", [2, 20])
def test_hq_overview_runs_in_a_fixed_number_of_queries(
    hq_client, count, django_assert_max_num_queries
):
    for i in range(count):
        s = factories.StoreFactory(code=f"Q{i:02d}", hours=False)
        factories.StaffFactory(role="associate", home_store=s)
        factories.CustomerFactory(preferred_store=s)
    with django_assert_max_num_queries(16):
        response = hq_client.get(reverse("retail:hq_overview"))
    assert response.status_code == 200
    assert "Q01" in response.content.decode()


def test_store_pages_show_times_in_the_store_time_zone(client, db):
    paris = factories.StoreFactory(code="P01", time_zone="Europe/Paris")
    user = factories.StaffFactory(role="associate", home_store=paris)
    client.force_login(user)
    import time_machine

    with time_machine.travel("2026-07-01 10:00:00+00:00", tick=False):
        body = client.get("/store/").content.decode()
    assert "12:00" in body  # 10:00 UTC is noon in Paris in summer


def test_the_profile_card_shows_a_change_at_once(associate_client):
    mei = factories.CustomerFactory(email="mei@example.com")
    url = reverse("retail:customer_detail", args=[mei.pk])
    assert "mei@example.com" in associate_client.get(url).content.decode()
    mei.email = "mei.chen@example.org"
    mei.save()
    html = associate_client.get(url).content.decode()
    assert "mei.chen@example.org" in html and "mei@example.com" not in html


def test_the_tablet_nav_marks_the_current_page_in_the_readers_language(associate_client):
    html = associate_client.get(reverse("retail:store_home")).content.decode()
    nav = html.split('<nav class="mainnav"')[1].split("</nav>")[0]
    assert f'<a href="{reverse("retail:store_home")}" aria-current="page">Home</a>' in nav
    assert nav.count('aria-current="page"') == 1
    assert f'href="{reverse("orders_store:queue")}">Pickups</a>' in nav
    mei = factories.CustomerFactory()
    page = associate_client.get(reverse("retail:customer_detail", args=[mei.pk]))
    nav = page.content.decode().split('<nav class="mainnav"')[1].split("</nav>")[0]
    assert f'<a href="{reverse("retail:customer_search")}" aria-current="page">' in nav
    assert nav.count('aria-current="page"') == 1
    html = associate_client.get(
        reverse("retail:store_home"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    nav = html.split('<nav class="mainnav"')[1].split("</nav>")[0]
    assert "Pickups" not in nav and "Home" not in nav
