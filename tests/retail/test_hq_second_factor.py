"""HQ admins reach /admin/ and /hq/ only once this session passed TOTP."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


def password_login(client, user):
    return client.post(
        reverse("account_login"), {"login": user.email, "password": factories.PASSWORD}
    )


@pytest.mark.django_db(transaction=True)
def test_hq_admin_without_totp_is_sent_to_setup_then_gets_in(client, hq_user):
    # transaction=True: allauth announces the new authenticator on commit, as in production.
    password_login(client, hq_user)
    for url in ("/hq/", "/admin/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp")

    # Setting up a second factor asks for the password once more (allauth's rule).
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": factories.PASSWORD})
    # The setup page shows a secret; entering a valid code activates TOTP.
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post(reverse("mfa_activate_totp"), {"code": factories.totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=hq_user, type="totp").exists()

    assert client.get("/hq/").status_code == 200
    assert client.get("/admin/").status_code == 200


def test_hq_admin_with_totp_must_pass_the_totp_step_at_login(client, hq_user):
    secret = factories.totp_activate(hq_user)
    response = password_login(client, hq_user)
    # allauth stops at its TOTP stage: not logged in yet.
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get("/hq/").status_code == 302
    assert "/accounts/login/" in client.get("/hq/")["Location"]

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert response.status_code == 200  # wrong code: the form again, with its error
    assert client.get("/admin/")["Location"].startswith("/admin/login/")

    response = client.post(reverse("mfa_authenticate"), {"code": factories.totp_code(secret)})
    assert response.status_code == 302
    assert client.get("/hq/").status_code == 200
    assert client.get("/admin/").status_code == 200
    assert client.get(reverse("admin:retail_store_changelist")).status_code == 200


def test_session_that_skipped_totp_is_sent_to_the_totp_step(client, hq_user):
    factories.totp_activate(hq_user)
    client.force_login(hq_user)  # logged in some other way: no TOTP in this session
    response = client.get("/hq/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


@pytest.mark.parametrize("role", ["store_manager", "associate", "kiosk"])
def test_store_staff_never_reach_admin_or_hq_even_with_totp(client, store, role):
    user = factories.StaffFactory(role=role, home_store=store)
    factories.login_with_totp(client, user)
    assert client.get("/hq/").status_code == 403
    response = client.get("/admin/")
    if role == "kiosk":  # a kiosk reaches only /kiosk/ (retail.access.may_open_path)
        assert response.status_code == 403
        return
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 403


def test_wrong_passwords_are_rate_limited_with_a_clear_message(client, associate):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": associate.email, "password": "wrong"})
    response = client.post(
        reverse("account_login"), {"login": associate.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_there_is_no_public_sign_up(client, db):
    response = client.post(
        reverse("account_signup"),
        {"email": "someone@example.com", "password1": "a-long-passw0rd!", "password2": "x"},
    )
    from retail.models import User

    assert not User.objects.filter(email="someone@example.com").exists()
    assert response.status_code in (200, 302)
