"""Outbound messages to customers: rendered in their language, sent once per key.

    message_send(customer=c, template="pickup_ready", context={...}, key="pickup_ready:12")

records an `OutboundMessage` and a delivery task in the outbox, inside the
caller's transaction. The task renders `templates/messages/<template>_subject.txt`
and `<template>.txt` (and `<template>.html` when present) in the customer's
language and sends through the message's channel: a `MessageBackend` registered by
name (`register_backend`; "email", Django's e-mail backend, is the default and the
only one today; an SMS backend plugs in the same way, `channel="sms"`). Text
templates are rendered without HTML escaping. The same key never sends
twice: a second call returns the first message, and a second run of the task
(a retry, a duplicate delivery) finds it sent. A failed attempt is noted on the
message (its error); when the outbox gives up, the message is `failed`.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template import Context, TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation

from retail import outbox
from retail.models import Customer, MessageState, OutboundMessage

logger = logging.getLogger(__name__)


class MessageError(ValueError):
    """A message that cannot be queued (raised before anything is written)."""


KEY_MAX = OutboundMessage._meta.get_field("key").max_length

# Templates that are marketing (apps register theirs): sent only while the customer
# agrees to marketing, checked again when the message is sent, and each carries a
# one-click unsubscribe link (`unsubscribe_url` in its context, List-Unsubscribe).
MARKETING_TEMPLATES: set[str] = set()
NO_MARKETING_CONSENT = "The customer does not agree to marketing messages (any more)."


def register_marketing(template: str) -> None:
    MARKETING_TEMPLATES.add(template)


# --- Channels: how a message travels ------------------------------------------------------


class MessageBackend:
    """One way to reach a customer. A backend says where a customer is reached (None:
    not by this channel) and sends one rendered message; it raises on failure (the
    outbox retries). Register another (an SMS gateway) with `register_backend`."""

    channel = ""

    def address(self, customer: Customer) -> str | None:
        raise NotImplementedError

    def send(
        self,
        message: OutboundMessage,
        subject: str,
        text: str,
        html: str | None,
        headers: dict | None = None,
    ) -> None:
        raise NotImplementedError


class EmailBackend(MessageBackend):
    """E-mail through Django's e-mail backend (`EMAIL_BACKEND`, `EMAIL_TIMEOUT`)."""

    channel = "email"

    def address(self, customer: Customer) -> str | None:
        return customer.email or None

    def send(self, message, subject, text, html, headers=None) -> None:
        mail = EmailMultiAlternatives(
            subject, text, settings.DEFAULT_FROM_EMAIL, [message.to_address], headers=headers
        )
        if html:
            mail.attach_alternative(html, "text/html")
        for attachment in [*message.attachments, *message.context.get("_attachments", [])]:
            mail.attach(
                attachment["name"], base64.b64decode(attachment["content"]), attachment["mimetype"]
            )
        mail.send()


BACKENDS: dict[str, MessageBackend] = {}


def register_backend(backend: MessageBackend) -> None:
    BACKENDS[backend.channel] = backend


register_backend(EmailBackend())


def backend_for(channel: str) -> MessageBackend:
    try:
        return BACKENDS[channel]
    except KeyError:
        raise MessageError(f"There is no message channel {channel!r}.") from None


def reachable(customer: Customer, channel: str = "email") -> bool:
    """Can `customer` be reached through `channel` (a backend exists, with an address)?"""
    backend = BACKENDS.get(channel)
    return backend is not None and bool(backend.address(customer))


#: What `message_send` takes as files: at most this many, this large altogether.
ATTACHMENTS_MAX = 5
ATTACHMENTS_MAX_BYTES = 2 * 1024 * 1024


def _attachments(attachments: Sequence[tuple[str, bytes | str, str]]) -> list[dict]:
    """`(filename, content, mimetype)` tuples as stored on the message (content in
    base64; text content is encoded as UTF-8), checked before anything is written."""
    stored, size = [], 0
    if len(attachments) > ATTACHMENTS_MAX:
        raise MessageError(f"A message carries at most {ATTACHMENTS_MAX} attachments.")
    for item in attachments:
        try:
            name, content, mimetype = item
        except (TypeError, ValueError):
            raise MessageError("An attachment is (filename, content, mimetype).") from None
        name, mimetype = str(name or "").strip(), str(mimetype or "").strip()
        if not name or "/" in name or "\\" in name or len(name) > 100:
            raise MessageError("An attachment needs a plain file name of 1 to 100 characters.")
        if "/" not in mimetype:
            raise MessageError(f"An attachment's type is like 'text/calendar', not {mimetype!r}.")
        if isinstance(content, str):
            content = content.encode()
        if not isinstance(content, bytes):
            raise MessageError("An attachment's content is bytes or text.")
        size += len(content)
        stored.append(
            {"name": name, "mimetype": mimetype, "content": base64.b64encode(content).decode()}
        )
    if size > ATTACHMENTS_MAX_BYTES:
        raise MessageError("A message's attachments are too large.")
    return stored


@transaction.atomic
def message_send(
    *,
    customer: Customer,
    template: str,
    context: dict,
    key: str,
    channel: str = "email",
    attachments: Sequence[tuple[str, bytes | str, str]] = (),
) -> OutboundMessage:
    """Queue a message to a customer through `channel` (a registered backend; e-mail
    by default); the same `key` is sent and logged once. `attachments` are
    `(filename, content, mimetype)` tuples, kept with the message and sent with it
    (an `.ics` invitation, a QR image)."""
    backend = backend_for(channel)
    files = _attachments(attachments)
    if not key or len(key) > KEY_MAX:
        raise MessageError(f"A message key is 1 to {KEY_MAX} characters.")
    if customer.pk is None:
        raise MessageError("A message goes to a saved customer.")
    if not isinstance(context, dict):
        raise MessageError("A message's context is a dict.")
    for name in (f"messages/{template}_subject.txt", f"messages/{template}.txt"):
        try:
            get_template(name)
        except TemplateDoesNotExist as exc:
            raise MessageError(f"There is no message template {name}.") from exc
    message, created = OutboundMessage.objects.get_or_create(
        key=key,
        defaults={
            "customer": customer,
            "template": template,
            "context": context,
            "attachments": files,
            "language": customer.language or settings.LANGUAGE_CODE,
            "channel": channel,
            "to_address": backend.address(customer) or "",
        },
    )
    if created:
        outbox.enqueue_task(
            "retail.messaging.message_deliver",
            kwargs={"message_id": message.pk},
            key=f"message:{message.pk}",
        )
    return message


def render_text(name: str, context: dict) -> str:
    """A plain-text template rendered without HTML escaping: a name like `O'Brien` or
    `Marks & Spencer` reads as typed in a text e-mail, not as `O&#x27;Brien`."""
    return get_template(name).template.render(Context(context, autoescape=False))


def render_message(template: str, context: dict, language: str) -> tuple[str, str, str | None]:
    """(subject, text body, html body or None) in the given language. The subject
    and the text body are plain text (not escaped); the HTML body is escaped."""
    with translation.override(language):
        subject = render_text(f"messages/{template}_subject.txt", context).strip()
        text = render_text(f"messages/{template}.txt", context)
        try:
            html = render_to_string(f"messages/{template}.html", context)
        except TemplateDoesNotExist:
            html = None
    return " ".join(subject.split()), text, html


# A worker that took a message and then died gives it up after this long.
SENDING_LEASE = dt.timedelta(minutes=2)


def message_deliver(*, message_id: int) -> None:
    """The outbox task: render and send one message, once.

    No transaction is open and no row is locked while the mail server is talked to
    (with `EMAIL_TIMEOUT`): the message is first taken in one short update
    (`queued` → `sending`, which only one caller wins), sent, then marked `sent` in
    another. A send that fails puts it back to `queued` and raises, for the outbox to
    retry; a worker lost mid-send leaves it `sending` until `SENDING_LEASE` ends."""
    now = timezone.now()
    message = OutboundMessage.objects.filter(pk=message_id).first()
    if message is None or message.state == MessageState.SENT:
        return
    backend = BACKENDS.get(message.channel)
    if backend is None or not message.to_address:
        OutboundMessage.objects.filter(pk=message_id).exclude(state=MessageState.SENT).update(
            state=MessageState.FAILED,
            error="The customer has no e-mail address."
            if backend is not None
            else f"No backend for the channel {message.channel!r}.",
        )
        return
    taken = OutboundMessage.objects.filter(
        # A failed message is taken again when HQ retries its outbox entry.
        Q(state__in=(MessageState.QUEUED, MessageState.FAILED))
        | Q(state=MessageState.SENDING, claimed_at__lt=now - SENDING_LEASE),
        pk=message_id,
    ).update(state=MessageState.SENDING, claimed_at=now)
    if not taken:
        return  # sent, or being sent by another worker right now
    context, headers = message.context, {}
    if message.template in MARKETING_TEMPLATES:
        from retail import unsubscribe

        customer = Customer.objects.filter(pk=message.customer_id).first()
        if customer is None or not customer.marketing_consent or customer.erased_at:
            # Consent withdrawn since it was queued: refused at send time.
            OutboundMessage.objects.filter(pk=message_id, state=MessageState.SENDING).update(
                state=MessageState.FAILED, claimed_at=None, error=NO_MARKETING_CONSENT
            )
            logger.info(
                "message %s (%s) refused: no marketing consent", message.pk, message.template
            )
            return
        link = unsubscribe.url_for(message)
        context = {**context, "unsubscribe_url": link}
        headers = {
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    try:
        subject, text, html = render_message(message.template, context, message.language)
        backend.send(message, subject, text, html, headers=headers)
    except Exception:
        OutboundMessage.objects.filter(pk=message_id, state=MessageState.SENDING).update(
            state=MessageState.QUEUED, claimed_at=None
        )
        raise
    OutboundMessage.objects.filter(pk=message_id, state=MessageState.SENDING).update(
        subject=subject[:250], body=text, state=MessageState.SENT, sent_at=timezone.now(), error=""
    )
    logger.info("message %s (%s) sent", message.pk, message.template)


def _delivery_failed(*, message_id: int, error: str, final: bool) -> None:
    """The outbox's report of a failed attempt: noted on the log; `failed` once it gives up."""
    changes = {"error": error}
    if final:
        changes["state"] = MessageState.FAILED
    OutboundMessage.objects.filter(pk=message_id).exclude(state=MessageState.SENT).update(**changes)


message_deliver.outbox_failed = _delivery_failed
