"""Issue #16, marketing consent: every outreach e-mail carries a one-click unsubscribe
link (a signed token, no login, works once, recorded with its source); outreach is
refused without marketing consent when it is sent, not only when it is written.
Tampered, expired or replayed tokens: a clear page, nothing changed."""

from __future__ import annotations

import re

import pytest
from django.core import mail, signing
from django.urls import reverse

from clienteling import services as clienteling
from retail import messaging, unsubscribe
from retail.models import AuditLog, Customer, MessageState, OutboundMessage
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(store, associate, django_capture_on_commit_callbacks):
    """An outreach e-mail sent to a customer who agrees to marketing."""
    customer = factories.CustomerFactory(marketing_consent=True, email="m@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        clienteling.outreach_send(
            customer=customer, subject="New in", body="Hello", by=associate, store=store, nonce="1"
        )
    assert len(mail.outbox) == 1
    return customer, mail.outbox[0], OutboundMessage.objects.get(customer=customer)


def link_in(email) -> str:
    found = re.search(r"https?://\S+/unsubscribe/\S+/", email.body)
    assert found, email.body
    return found.group(0)


def path_of(url: str) -> str:
    return url[url.index("/unsubscribe/") :]


def test_every_outreach_email_carries_a_one_click_unsubscribe_link(sent):
    _customer, email, _message = sent
    url = link_in(email)
    assert email.extra_headers["List-Unsubscribe"] == f"<{url}>"
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_link_withdraws_marketing_consent_once_without_login(sent, client):
    customer, email, message = sent
    path = path_of(link_in(email))
    page = client.get(path)  # opening the link (or a mail scanner) changes nothing
    assert page.status_code == 200
    customer.refresh_from_db()
    assert customer.marketing_consent is True
    done = client.post(path)
    assert done.status_code == 200
    assert "no more marketing" in done.content.decode()
    customer.refresh_from_db()
    assert customer.marketing_consent is False and customer.marketing_consent_at is not None
    withdrawal = AuditLog.objects.get(action="customer.consent_withdraw")
    assert withdrawal.detail == {"consent": "marketing", "source": "unsubscribe_link"}
    assert withdrawal.actor is None
    assert (
        AuditLog.objects.filter(action="customer.unsubscribe", target_id=str(message.pk)).count()
        == 1
    )


def test_a_replayed_link_changes_nothing(sent, client):
    customer, email, _message = sent
    path = path_of(link_in(email))
    assert client.post(path).status_code == 200
    # The customer agrees again (at a store, say); the old link must not undo it.
    Customer.objects.filter(pk=customer.pk).update(marketing_consent=True)
    replay = client.post(path)
    assert replay.status_code == 409
    assert "used already" in replay.content.decode()
    customer.refresh_from_db()
    assert customer.marketing_consent is True
    assert AuditLog.objects.filter(action="customer.consent_withdraw").count() == 1


def test_a_tampered_token_changes_nothing(sent, client):
    customer, _email, message = sent
    forged = signing.dumps({"m": message.pk, "c": customer.pk}, salt="another salt")
    for token in (forged, "garbage", unsubscribe.token_for(message)[:-2] + "xx"):
        response = client.post(reverse("unsubscribe", args=[token]))
        assert response.status_code == 400, token
        assert "not valid" in response.content.decode()
    customer.refresh_from_db()
    assert customer.marketing_consent is True
    assert not AuditLog.objects.filter(action__in=["customer.unsubscribe"]).exists()


def test_an_expired_token_changes_nothing(sent, client, settings):
    customer, email, _message = sent
    path = path_of(link_in(email))
    settings.AISLE_UNSUBSCRIBE_MAX_AGE_DAYS = -1
    response = client.post(path)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    customer.refresh_from_db()
    assert customer.marketing_consent is True


def test_a_token_for_another_customers_message_is_refused(sent, client):
    _customer, _email, message = sent
    other = factories.CustomerFactory(marketing_consent=True)
    token = signing.dumps({"m": message.pk, "c": other.pk}, salt=unsubscribe.SALT)
    assert client.post(reverse("unsubscribe", args=[token])).status_code == 400
    other.refresh_from_db()
    assert other.marketing_consent is True


def test_outreach_is_refused_at_send_time_when_consent_was_withdrawn_since(store, associate):
    """Before: the consent was checked only when the message was queued."""
    customer = factories.CustomerFactory(marketing_consent=True, email="w@example.com")
    clienteling.outreach_send(
        customer=customer, subject="S", body="B", by=associate, store=store, nonce="2"
    )
    message = OutboundMessage.objects.get(customer=customer)
    from retail.services import customer_consent_withdraw

    customer_consent_withdraw(customer=customer, kind="marketing", by=associate)
    messaging.message_deliver(message_id=message.pk)
    assert mail.outbox == []
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert message.error == messaging.NO_MARKETING_CONSENT


def test_service_messages_carry_no_unsubscribe_link(db, django_capture_on_commit_callbacks):
    customer = factories.CustomerFactory(marketing_consent=False, email="s@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        messaging.message_send(
            customer=customer, template="customer_welcome", context={"first_name": "S"}, key="s"
        )
    assert len(mail.outbox) == 1
    assert "/unsubscribe/" not in mail.outbox[0].body


def test_the_public_pages_are_the_unsubscribe_and_appointment_links():
    from retail import access

    assert {p for p in access.PUBLIC_PAGES if not p.startswith("appointment_links:")} == {
        "unsubscribe"
    }
