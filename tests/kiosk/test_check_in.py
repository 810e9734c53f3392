"""The kiosk's pickup check-in: kiosk accounts only, the first name only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories
from tests.orders.pickups import make_ready, network, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def net(store):
    return network(store, shelf_units=5)


def test_kiosk_check_in_shows_the_first_name_only(client, store, kiosk_user, net):
    customer = factories.CustomerFactory(name="Mei Lin Chen", email="mei@example.com")
    f = place(store, [(net["jumper"], 1)], customer=customer).fulfillments.get()
    client.force_login(kiosk_user)
    early = client.post(reverse("kiosk:check_in"), {"code": "WEB-1"})
    assert early.status_code == 409 and "not ready" in early.content.decode()
    make_ready(f, store)
    f.refresh_from_db()
    response = client.post(reverse("kiosk:check_in"), {"code": f.pickup_code})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mei" in html and "Lin Chen" not in html and "mei@example.com" not in html
    f.refresh_from_db()
    assert f.checked_in_at is not None


def test_kiosk_check_in_is_for_kiosk_accounts_only(client, associate):
    client.force_login(associate)
    assert client.post(reverse("kiosk:check_in"), {"code": "123456"}).status_code == 403


def test_kiosk_refuses_wrong_tampered_and_other_stores_codes_with_a_message(
    client, store, other_store, net
):
    f = place(store, [(net["jumper"], 1)]).fulfillments.get()
    make_ready(f, store)
    f.refresh_from_db()
    elsewhere = factories.StaffFactory(role="kiosk", home_store=other_store)
    client.force_login(elsewhere)
    home = client.get(reverse("kiosk:home"))
    assert 'name="code"' in home.content.decode()
    response = client.post(reverse("kiosk:check_in"), {"code": f.pickup_code})
    assert response.status_code == 404
    assert "another store" in response.content.decode()
    wrong = "000000" if f.pickup_code != "000000" else "111111"
    assert client.post(reverse("kiosk:check_in"), {"code": wrong}).status_code == 400
    f.refresh_from_db()
    assert f.checked_in_at is None
