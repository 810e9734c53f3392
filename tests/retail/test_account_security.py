"""#16 "Accounts, tablets and kiosks": each test names the finding it covers and
fails on the code before the fix."""

from __future__ import annotations

import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.sessions.models import Session
from django.core import mail
from django.urls import reverse

from retail import sessions
from retail.checks import rate_limits_shared
from retail.services import mark_email_verified
from tests import factories

pytestmark = pytest.mark.django_db

ACCOUNT_PAGES = (
    "account_email",
    "account_change_password",
    "account_set_password",
    "account_reauthenticate",
    "mfa_index",
    "mfa_activate_totp",
    "account_reset_password",
    "account_login",
)


@pytest.fixture
def kiosk(store):
    return factories.StaffFactory(role="kiosk", home_store=store)


def verified(user):
    mark_email_verified(user)
    return user


def set_idle(client, seconds: float) -> None:
    session = client.session
    session[sessions.LAST_SEEN_KEY] = time.time() - seconds
    session.save()


# --- Kiosks ---------------------------------------------------------------------------


def test_a_kiosk_reaches_no_account_page_and_cannot_add_an_email(client, kiosk):
    """High finding: a kiosk account could open allauth's account pages."""
    client.force_login(kiosk)
    for name in ACCOUNT_PAGES:
        assert client.get(reverse(name)).status_code == 403, name
    response = client.post(reverse("account_email"), {"action_add": "", "email": "x@evil.test"})
    assert response.status_code == 403
    assert not EmailAddress.objects.filter(email="x@evil.test").exists()
    assert client.get(reverse("kiosk:home")).status_code == 200


def test_a_kiosk_cannot_sign_out(client, kiosk):
    """High finding: a kiosk account could sign out (and leave the sign-in open)."""
    client.force_login(kiosk)
    assert client.post(reverse("account_logout")).status_code == 403
    assert client.get(reverse("kiosk:home")).status_code == 200
    assert "_auth_user_id" in client.session


def test_a_kiosk_shows_no_sign_out_link_and_no_signed_in_banner(client, kiosk):
    """Low finding: a "Sign out" link and a "Successfully signed in" banner on the kiosk."""
    response = client.post(
        reverse("account_login"), {"login": kiosk.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    page = client.get(reverse("kiosk:home"), follow=True).content.decode()
    assert reverse("account_logout") not in page
    assert "Successfully signed in" not in page


def test_staff_still_see_the_sign_out_link(client, associate):
    client.force_login(associate)
    assert reverse("account_logout") in client.get(reverse("retail:store_home")).content.decode()


def test_an_idle_kiosk_returns_to_its_start_in_the_default_language_and_forgets(
    client, kiosk, settings
):
    """Kiosk lockdown: after the idle time the kiosk starts afresh, nothing kept."""
    client.force_login(kiosk)
    client.get(reverse("kiosk:home"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    session = client.session
    session["last_customer"] = "jane@example.com"
    session.save()
    set_idle(client, settings.AISLE_KIOSK_IDLE_SECONDS + 1)

    response = client.get(reverse("kiosk:aisle"))
    assert response.status_code == 302
    assert response["Location"] == reverse("kiosk:home")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""
    assert "last_customer" not in client.session
    assert "_auth_user_id" in client.session  # still the kiosk, still signed in
    page = client.get(reverse("kiosk:home"))
    assert page.status_code == 200
    assert f'content="{settings.AISLE_KIOSK_IDLE_SECONDS + 1};' in page.content.decode()


def test_a_busy_kiosk_is_not_reset(client, kiosk):
    client.force_login(kiosk)
    client.get(reverse("kiosk:home"))
    session = client.session
    session["kept"] = 1
    session.save()
    assert client.get(reverse("kiosk:aisle")).status_code == 200
    assert client.session["kept"] == 1


# --- Staff accounts: reauthentication, verification, notices ------------------------


def test_adding_an_email_needs_the_password_again(client, associate):
    """High finding: an e-mail could be added on a tablet left signed in, without the password."""
    client.force_login(associate)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "me@evil.test"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert not EmailAddress.objects.filter(email="me@evil.test").exists()


def add_email_with_password(client, user, email: str, django_capture_on_commit_callbacks):
    client.force_login(user)
    client.post(reverse("account_reauthenticate"), {"password": factories.PASSWORD})
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("account_email"), {"action_add": "", "email": email})


def test_an_added_email_counts_only_once_verified_and_gets_no_reset_mail(
    client, associate, django_capture_on_commit_callbacks
):
    """High finding: an added address needed no verification, so a reset went there."""
    verified(associate)
    old = associate.email
    response = add_email_with_password(
        client, associate, "me@evil.test", django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    added = EmailAddress.objects.get(email="me@evil.test")
    assert not added.verified and not added.primary
    associate.refresh_from_db()
    assert associate.email == old  # the change waits for the verification
    assert any("me@evil.test" in m.to for m in mail.outbox)  # the verification mail

    mail.outbox.clear()
    anonymous = client.__class__()
    with django_capture_on_commit_callbacks(execute=True):
        anonymous.post(reverse("account_reset_password"), {"email": "me@evil.test"})
    assert not any("me@evil.test" in m.to and "reset" in m.body.lower() for m in mail.outbox)
    assert all("/password/reset/key/" not in m.body for m in mail.outbox)


def test_password_reset_goes_to_a_verified_address(
    client, associate, django_capture_on_commit_callbacks
):
    verified(associate)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": associate.email})
    assert [m.to for m in mail.outbox] == [[associate.email]]
    assert "/password/reset/key/" in mail.outbox[0].body


def test_the_owner_is_told_of_a_password_change(
    client, associate, django_capture_on_commit_callbacks
):
    """Staff accounts: the owner is told by e-mail of every password change."""
    verified(associate)
    client.force_login(associate)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_change_password"),
            {
                "oldpassword": factories.PASSWORD,
                "password1": "a-new-Passw0rd-here",
                "password2": "a-new-Passw0rd-here",
            },
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[associate.email]]


def test_adding_an_email_with_smtp_down_answers_no_500(
    client, associate, settings, django_capture_on_commit_callbacks
):
    """Medium finding: adding an address answered 500 with DEBUG=0 (the verification
    mail was sent by SMTP inside the request, and a refused connection raised)."""
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    client.raise_request_exception = False
    verified(associate)
    response = add_email_with_password(
        client, associate, "new@aisle.test", django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    assert EmailAddress.objects.filter(email="new@aisle.test", verified=False).exists()
    from retail.models import OutboxEntry

    entry = OutboxEntry.objects.get(name="retail.auth.account_mail_deliver")
    assert "new@aisle.test" not in str(entry.payload)  # sealed: it may hold a link


# --- Tablet sessions --------------------------------------------------------------------


def test_an_idle_tablet_session_ends(client, associate, settings):
    """Tablet sessions end after the idle time (they lasted 12 hours)."""
    client.force_login(associate)
    assert client.get(reverse("retail:store_home")).status_code == 200
    set_idle(client, settings.AISLE_STAFF_IDLE_SECONDS + 5)
    response = client.get(reverse("retail:store_home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert "_auth_user_id" not in client.session


def test_a_poll_after_the_idle_time_sends_the_page_to_login(client, associate, settings):
    client.force_login(associate)
    client.get(reverse("retail:store_home"))
    set_idle(client, settings.AISLE_STAFF_IDLE_SECONDS + 5)
    poll = client.get(
        reverse("orders_store:queue"), headers={"HX-Request": "true", "X-Aisle-Poll": "1"}
    )
    assert poll.status_code == 204
    assert poll["HX-Redirect"] == reverse("account_login")
    assert "_auth_user_id" not in client.session


def test_a_poll_is_not_activity_and_writes_no_session(client, associate, store, settings):
    client.force_login(associate)
    client.get(reverse("retail:store_home"))
    set_idle(client, settings.AISLE_STAFF_IDLE_SECONDS - 60)
    before = client.session[sessions.LAST_SEEN_KEY]
    saved = Session.objects.get(session_key=client.session.session_key).expire_date
    poll = client.get(
        reverse("orders_store:queue"), headers={"HX-Request": "true", "X-Aisle-Poll": "1"}
    )
    assert poll.status_code == 200
    assert client.session[sessions.LAST_SEEN_KEY] == before
    assert Session.objects.get(session_key=client.session.session_key).expire_date == saved
    # A real request is activity.
    client.get(reverse("retail:store_home"))
    assert client.session[sessions.LAST_SEEN_KEY] > before
    # The queue page marks its poll.
    assert "X-Aisle-Poll" in client.get(reverse("orders_store:queue")).content.decode()


def test_an_idle_hq_session_needs_totp_again(client, hq_user, settings):
    """HQ sessions need TOTP again after a shorter idle time."""
    factories.login_with_totp(client, hq_user)
    assert client.get("/hq/").status_code == 200
    set_idle(client, settings.AISLE_HQ_TOTP_IDLE_SECONDS + 5)
    response = client.get("/hq/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


def test_deactivating_a_staff_account_ends_its_sessions(
    client, associate, django_capture_on_commit_callbacks
):
    """A deactivated staff account's sessions ended at once."""
    client.force_login(associate)
    other = client.__class__()
    other.force_login(associate)
    assert Session.objects.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        associate.is_active = False
        associate.save()
    assert Session.objects.count() == 0
    response = client.get(reverse("retail:store_home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- TOTP at rest, admin ------------------------------------------------------------------


def test_totp_secrets_are_encrypted_at_rest_and_still_work(client, hq_user):
    """Low finding: TOTP secrets were stored in plain text."""
    secret = factories.totp_activate(hq_user)
    stored = Authenticator.objects.get(user=hq_user, type="totp").data["secret"]
    assert secret not in stored and stored.startswith("enc1:")
    client.post(reverse("account_login"), {"login": hq_user.email, "password": factories.PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": factories.totp_code(secret)})
    assert client.get("/hq/").status_code == 200


def test_the_migration_encrypts_plain_secrets(hq_user):
    from importlib import import_module

    from django.apps import apps

    Authenticator.objects.create(user=hq_user, type="totp", data={"secret": "PLAINSECRET234567"})
    migration = import_module("retail.migrations.0011_accounts_totp_encrypt")
    migration.encrypt_existing(apps, None)
    stored = Authenticator.objects.get(user=hq_user).data["secret"]
    assert stored.startswith("enc1:")
    from retail.totp_crypto import decrypt_secret

    assert decrypt_secret(stored) == "PLAINSECRET234567"


def test_admin_never_shows_or_edits_a_totp_secret(client, hq_user):
    """Low finding: TOTP secrets editable in admin."""
    factories.login_with_totp(client, hq_user)
    authenticator = Authenticator.objects.get(user=hq_user)
    url = reverse("admin:mfa_authenticator_change", args=[authenticator.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert authenticator.data["secret"] not in page.content.decode()
    assert 'name="data"' not in page.content.decode()
    client.post(url, {"data": '{"secret": "JBSWY3DPEHPK3PXP"}', "type": "totp"})
    authenticator.refresh_from_db()
    assert authenticator.data["secret"] != "JBSWY3DPEHPK3PXP"


# --- Rate limits need a shared cache -----------------------------------------------------


def test_a_local_cache_with_several_processes_is_refused(settings):
    """Low finding: rate limits per process where the cache is local."""
    settings.DEBUG = False
    settings.AISLE_WEB_CONCURRENCY = 4
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [e.id for e in rate_limits_shared()] == ["aisle.E016"]
    settings.AISLE_WEB_CONCURRENCY = 1
    assert rate_limits_shared() == []
    settings.AISLE_WEB_CONCURRENCY = 4
    settings.CACHES = {"default": {"BACKEND": "retail.cache.ResilientRedisCache"}}
    assert rate_limits_shared() == []


def test_staff_created_by_hq_have_a_verified_address(store):
    from retail.services import staff_create

    user = staff_create(
        email="New.Person@aisle.test", password=None, role="associate", home_store=store
    )
    assert EmailAddress.objects.filter(user=user, verified=True, primary=True).exists()


def test_seed_demo_hq_secret_still_works(db):
    """The demo HQ TOTP secret printed by seed_demo still validates (encrypted at rest)."""
    from allauth.mfa.totp.internal.auth import TOTP

    from retail import demo
    from retail.models import User

    hq = factories.StaffFactory(role="hq_admin", email=demo.HQ_EMAIL)
    demo.activate_hq_totp(hq)
    authenticator = Authenticator.objects.get(user=hq, type="totp")
    assert demo.HQ_TOTP_SECRET not in str(authenticator.data)
    assert TOTP(authenticator).validate_code(demo.hq_totp_code())
    assert User.objects.filter(pk=hq.pk).exists()


def test_the_owner_is_told_when_the_e_mail_changes(
    client, associate, django_capture_on_commit_callbacks
):
    """#16: the account's owner is told by e-mail of every e-mail change: once the new
    address is verified (and only then does it replace the old one), the old address
    hears of it."""
    import re

    verified(associate)
    old = associate.email
    add_email_with_password(
        client, associate, "new@example.test", django_capture_on_commit_callbacks
    )
    [verification] = [m for m in mail.outbox if "new@example.test" in m.to]
    key = re.search(r"/accounts/confirm-email/([^/\s]+)/", verification.body).group(1)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_confirm_email", args=[key]))
    associate.refresh_from_db()
    assert associate.email == "new@example.test"
    told = [m for m in mail.outbox if old in m.to]
    assert told, [(m.to, m.subject) for m in mail.outbox]
    assert "new@example.test" in told[0].body
