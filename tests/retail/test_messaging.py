"""Outbound messages: rendered in the customer's language, sent and logged once per key."""

import pytest
from django.core import mail

from retail import messaging, outbox
from retail.models import MessageState, OutboundMessage, OutboxEntry
from tests import factories

pytestmark = pytest.mark.django_db


def test_message_is_sent_after_commit_in_the_customers_language(
    django_capture_on_commit_callbacks,
):
    customer = factories.CustomerFactory(
        name="Mei Lin Chen", email="mei@example.com", language="zh-hans"
    )
    with django_capture_on_commit_callbacks(execute=True):
        messaging.message_send(
            customer=customer,
            template="customer_welcome",
            context={"first_name": "Mei"},
            key="welcome:1",
        )
        assert mail.outbox == []
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["mei@example.com"]
    assert "欢迎" in sent.subject
    logged = OutboundMessage.objects.get()
    assert (logged.state, logged.subject) == (MessageState.SENT, sent.subject)


def test_the_same_key_twice_sends_and_logs_once(django_capture_on_commit_callbacks):
    customer = factories.CustomerFactory(email="a@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            messaging.message_send(
                customer=customer, template="customer_welcome", context={"first_name": "A"}, key="k"
            )
    assert len(mail.outbox) == 1
    assert OutboundMessage.objects.count() == 1


def test_a_retried_or_duplicated_task_sends_once(django_capture_on_commit_callbacks):
    customer = factories.CustomerFactory(email="b@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        message = messaging.message_send(
            customer=customer, template="customer_welcome", context={"first_name": "B"}, key="k2"
        )
    # The task runs again (a retry, or two workers got it).
    messaging.message_deliver(message_id=message.pk)
    entry = OutboxEntry.objects.get(key=f"message:{message.pk}")
    outbox.run(entry.pk)
    assert len(mail.outbox) == 1


def test_customer_without_email_is_logged_as_failed(django_capture_on_commit_callbacks):
    customer = factories.CustomerFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        messaging.message_send(customer=customer, template="customer_welcome", context={}, key="k3")
    assert mail.outbox == []
    assert OutboundMessage.objects.get().state == MessageState.FAILED


def test_hq_sees_the_message_log_read_only(hq_client, django_capture_on_commit_callbacks):
    customer = factories.CustomerFactory(email="c@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        message = messaging.message_send(
            customer=customer, template="customer_welcome", context={"first_name": "C"}, key="k4"
        )
    assert "customer_welcome" in hq_client.get("/admin/retail/outboundmessage/").content.decode()
    assert hq_client.get(f"/admin/retail/outboundmessage/{message.pk}/delete/").status_code == 403
