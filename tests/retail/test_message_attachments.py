"""`message_send(attachments=...)`: files kept with the message and sent with it once;
bad files refused before anything is written; erasure takes them away."""

import pytest
from django.core import mail

from retail import data_rights, messaging
from retail.models import OutboundMessage, OutboxEntry
from tests import factories

pytestmark = pytest.mark.django_db

ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
PNG = b"\x89PNG\r\n\x1a\n\x00binary"


def test_attachments_are_kept_with_the_message_and_sent_with_it_once(
    django_capture_on_commit_callbacks,
):
    customer = factories.CustomerFactory(email="mei@example.com")
    files = [("visit.ics", ICS, "text/calendar"), ("code.png", PNG, "image/png")]
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):  # the same key twice: one message
            messaging.message_send(
                customer=customer,
                template="customer_welcome",
                context={"first_name": "Mei"},
                key="welcome:1",
                attachments=files,
            )

    assert len(mail.outbox) == 1
    sent = {name: (content, mimetype) for name, content, mimetype in mail.outbox[0].attachments}
    ics_content = sent["visit.ics"][0]
    ics_text = ics_content.decode() if isinstance(ics_content, bytes) else ics_content
    assert ics_text == ICS and sent["visit.ics"][1].startswith("text/calendar")
    assert sent["code.png"] == (PNG, "image/png")
    message = OutboundMessage.objects.get()
    assert [(a["name"], a["mimetype"]) for a in message.attachments] == [
        ("visit.ics", "text/calendar"),
        ("code.png", "image/png"),
    ]
    assert "_attachments" not in message.context


def test_a_message_without_attachments_is_sent_as_before(django_capture_on_commit_callbacks):
    customer = factories.CustomerFactory(email="a@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        messaging.message_send(
            customer=customer, template="customer_welcome", context={"first_name": "A"}, key="k"
        )
    assert mail.outbox[0].attachments == [] and OutboundMessage.objects.get().attachments == []


@pytest.mark.parametrize(
    "attachments",
    [
        [("", ICS, "text/calendar")],
        [("../visit.ics", ICS, "text/calendar")],
        [("visit.ics", ICS, "calendar")],
        [("visit.ics", 42, "text/calendar")],
        [("visit.ics", ICS)],
        [("f.txt", "x", "text/plain")] * (messaging.ATTACHMENTS_MAX + 1),
        [("big.bin", b"x" * (messaging.ATTACHMENTS_MAX_BYTES + 1), "application/octet-stream")],
    ],
)
def test_bad_attachments_are_refused_and_nothing_is_written(attachments):
    customer = factories.CustomerFactory(email="a@example.com")
    with pytest.raises(messaging.MessageError):
        messaging.message_send(
            customer=customer,
            template="customer_welcome",
            context={},
            key="bad",
            attachments=attachments,
        )
    assert not OutboundMessage.objects.exists() and not OutboxEntry.objects.exists()


def test_erasure_takes_the_attachments_away():
    customer = factories.CustomerFactory(email="a@example.com")
    messaging.message_send(
        customer=customer,
        template="customer_welcome",
        context={},
        key="k",
        attachments=[("visit.ics", ICS, "text/calendar")],
    )
    data_rights.messages_erase(customer)
    assert OutboundMessage.objects.get().attachments == []
