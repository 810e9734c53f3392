"""Issue 16, "Hardening": headers on every answer, personal pages never stored by the
browser, polls revalidated with a validator; plain-text e-mails not HTML-escaped; the
message channel a backend registry."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from retail import messaging
from retail.models import MessageState, OutboundMessage
from tests import factories
from tests.retail.api.conftest import ApiClientHelper

pytestmark = pytest.mark.django_db


def test_signed_in_pages_are_not_stored(client, associate):
    """Finding (Low): "authenticated pages cacheable". Failed before: no Cache-Control."""
    client.force_login(associate)
    response = client.get(reverse("retail:home"), follow=True)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_api_answers_with_personal_data_are_not_stored(db):
    """Failed before: a customer read carried no Cache-Control."""
    factories.CustomerFactory(customer_ref="WEB-C1", email="ada@example.com")
    _client, key = factories.api_client("customers:read")
    response = ApiClientHelper(key).get("/api/v1/customers/WEB-C1/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    refused = ApiClientHelper(key).get("/api/v1/customers/NOPE/")
    assert "no-store" in refused["Cache-Control"]


def test_polls_are_private_and_revalidated_with_an_etag(client, associate, settings):
    """A polling fragment (an htmx GET in place) may be kept by the browser only to
    revalidate it: `private, no-cache`, and an ETag from its store's version in the
    shared cache (`retail/polls.py`, tested in tests/orders/test_poll_versions.py)."""
    settings.AISLE_SHARED_CACHE = True
    client.force_login(associate)
    url = reverse("orders_store:queue")
    client.get(url, HTTP_HX_REQUEST="true", follow=True)  # the store's version is known now
    first = client.get(url, HTTP_HX_REQUEST="true", follow=True)
    assert first.status_code == 200
    assert first["Cache-Control"] == "private, no-cache"
    assert first["ETag"].startswith('W/"') and len(first["ETag"]) > 10
    again = client.get(url, HTTP_HX_REQUEST="true", follow=True)
    assert again["ETag"] == first["ETag"]
    boosted = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true", follow=True)
    assert boosted["Cache-Control"] == "no-store"


def test_every_answer_has_referrer_and_permissions_policies(client):
    """Failed before: no Permissions-Policy header."""
    response = client.get(reverse("account_login"))
    assert response["Referrer-Policy"] == "same-origin"
    assert "microphone=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_plain_text_emails_are_not_html_escaped(django_capture_on_commit_callbacks):
    """Finding (Low): "plain-text e-mails HTML-escaped". Failed before: the text read
    `O&#x27;Brien &amp; Sons`."""
    customer = factories.CustomerFactory(email="ob@example.com", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        messaging.message_send(
            customer=customer,
            template="customer_welcome",
            context={"first_name": "O'Brien & <Sons>"},
            key="welcome:escape",
        )
    sent = mail.outbox[0]
    assert "Hello O'Brien & <Sons>," in sent.body
    assert "&amp;" not in sent.body and "&#x27;" not in sent.body
    assert "O'Brien & <Sons>" in sent.subject
    assert OutboundMessage.objects.get().body == sent.body


def test_a_message_channel_is_a_backend_that_can_be_plugged_in(
    django_capture_on_commit_callbacks, monkeypatch
):
    sent = []

    class FakeSms(messaging.MessageBackend):
        channel = "sms"

        def address(self, customer):
            return customer.phone or None

        def send(self, message, subject, text, html, headers=None):
            sent.append((message.to_address, text))

    monkeypatch.setitem(messaging.BACKENDS, "sms", FakeSms())
    customer = factories.CustomerFactory(email="", phone="+447700900123")
    assert messaging.reachable(customer, "sms") and not messaging.reachable(customer, "email")
    with django_capture_on_commit_callbacks(execute=True):
        messaging.message_send(
            customer=customer,
            template="customer_welcome",
            context={"first_name": "Sam"},
            key="welcome:sms",
            channel="sms",
        )
    assert sent and sent[0][0] == "+447700900123" and "Sam" in sent[0][1]
    assert mail.outbox == []
    logged = OutboundMessage.objects.get()
    assert (logged.channel, logged.state) == ("sms", MessageState.SENT)
    with pytest.raises(messaging.MessageError):
        messaging.message_send(
            customer=customer, template="customer_welcome", context={}, key="x", channel="pigeon"
        )
