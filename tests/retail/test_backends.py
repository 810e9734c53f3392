"""The signed-in staff member kept in the shared cache: read once, and forgotten the
moment they, their profile or a store change (`retail/backends.py`)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from retail import backends
from retail.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def shared_cache(settings):
    settings.AISLE_SHARED_CACHE = True  # as with Redis; one test process shares locmem too


def user_queries(client, url="/store/") -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return sum('FROM "retail_user"' in q["sql"] for q in queries.captured_queries)


def test_the_signed_in_user_is_loaded_once_then_read_from_the_cache(client, associate):
    client.force_login(associate)
    backends.forget_user(type(associate), associate)
    assert user_queries(client) == 1
    assert user_queries(client) == 0
    assert user_queries(client, reverse("retail:customer_search")) == 0


def test_a_switched_off_account_is_signed_out_on_its_next_request(client, associate):
    client.force_login(associate)
    assert client.get("/store/").status_code == 200
    associate.is_active = False
    associate.save()
    response = client.get("/store/")
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_a_new_role_takes_effect_on_the_next_request(client, associate):
    client.force_login(associate)
    assert client.get("/store/").status_code == 200
    profile = associate.staff_profile
    profile.role = Role.KIOSK
    profile.save()
    assert client.get("/store/").status_code == 403


def test_a_changed_password_signs_other_sessions_out(client, associate):
    client.force_login(associate)
    assert client.get("/store/").status_code == 200
    associate.set_password("a new long passphrase 42")
    associate.save()
    assert client.get("/store/").status_code == 302


def test_a_renamed_home_store_shows_on_the_next_request(client, associate, store):
    client.force_login(associate)
    assert "Paris Rivoli" in client.get("/store/").content.decode()
    store.name = "Paris Haussmann"
    store.save()
    assert "Paris Haussmann" in client.get("/store/").content.decode()


def test_a_removed_authenticator_asks_hq_to_set_up_totp_again(client):
    """Whether an HQ admin has TOTP is kept with them, and forgotten when it changes."""
    from allauth.mfa.models import Authenticator

    from tests import factories

    hq = factories.StaffFactory(role="hq_admin")
    factories.login_with_totp(client, hq)
    url = reverse("retail:hq_overview")
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert not any("mfa_authenticator" in q["sql"] for q in queries.captured_queries)
    Authenticator.objects.filter(user=hq).delete()
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("mfa_activate_totp") in response["Location"]


def test_a_managers_other_stores_are_kept_with_them_and_forgotten_when_they_change(
    client, manager, store, other_store
):
    """A manager of two stores works in either without a query for their stores; a
    store taken from them takes effect on the next request."""
    from retail.access import STORE_SESSION_KEY

    manager.staff_profile.other_stores.add(other_store)
    client.force_login(manager)
    session = client.session
    session[STORE_SESSION_KEY] = other_store.pk
    session.save()
    assert other_store.name in client.get("/store/").content.decode()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/store/").status_code == 200
    assert not any(
        '"retail_staffprofile_other_stores"' in q["sql"] for q in queries.captured_queries
    )
    manager.staff_profile.other_stores.remove(other_store)
    html = client.get("/store/").content.decode()
    assert store.name in html and other_store.name not in html  # back in their only store
