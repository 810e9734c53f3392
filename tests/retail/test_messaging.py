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


def test_a_failed_send_is_noted_retried_and_finally_logged_failed(
    django_capture_on_commit_callbacks, monkeypatch, hq_client
):
    import smtplib

    from django.core.mail import EmailMultiAlternatives

    def smtp_down(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("connection unexpectedly closed")

    customer = factories.CustomerFactory(email="d@example.com")
    monkeypatch.setattr(EmailMultiAlternatives, "send", smtp_down)
    with django_capture_on_commit_callbacks(execute=True):
        message = messaging.message_send(
            customer=customer, template="customer_welcome", context={"first_name": "D"}, key="k5"
        )
    message.refresh_from_db()
    assert message.state == MessageState.QUEUED  # still to be retried
    assert "connection unexpectedly closed" in message.error
    entry = OutboxEntry.objects.get(key=f"message:{message.pk}")
    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.run(entry.pk)
    message.refresh_from_db()
    assert message.state == MessageState.FAILED  # the outbox gave up
    page = hq_client.get("/admin/retail/outboundmessage/?state__exact=failed").content.decode()
    assert "connection unexpectedly closed" in page
    # The mail server is back and HQ retries the entry: sent once, logged as sent.
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        hq_client.post(
            "/admin/retail/outboxentry/",
            {"action": "retry_entries", "_selected_action": [entry.pk]},
        )
    message.refresh_from_db()
    assert (message.state, message.error) == (MessageState.SENT, "")
    assert len(mail.outbox) == 1


def test_bad_input_is_refused_and_nothing_is_written():
    customer = factories.CustomerFactory(email="e@example.com")
    for bad in (
        {"template": "no_such_template", "context": {}, "key": "k6"},
        {"template": "customer_welcome", "context": {}, "key": ""},
        {"template": "customer_welcome", "context": {}, "key": "x" * 201},
        {"template": "customer_welcome", "context": ["not", "a", "dict"], "key": "k7"},
    ):
        with pytest.raises(messaging.MessageError):
            messaging.message_send(customer=customer, **bad)
    assert not OutboundMessage.objects.exists()
    assert not OutboxEntry.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_runs_of_one_message_send_it_once(monkeypatch, broker_down):
    import threading

    from django.db import connection

    customer = factories.CustomerFactory(email="f@example.com")
    message = messaging.message_send(
        customer=customer, template="customer_welcome", context={"first_name": "F"}, key="k8"
    )
    monkeypatch.undo()
    entry = OutboxEntry.objects.get(key=f"message:{message.pk}")
    assert entry.state == "pending" and mail.outbox == []
    start, errors = threading.Barrier(20), []

    def deliver(i):
        try:
            start.wait()
            if i % 2:
                outbox.run(entry.pk)  # the outbox task delivered twice
            else:
                messaging.message_deliver(message_id=message.pk)  # the target run again
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert OutboundMessage.objects.count() == 1
