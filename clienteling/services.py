"""Clienteling's service functions: identity stitching, consent and retention,
notes, follow-up tasks and outreach. Each writes its audit row; side effects go
through the outbox (messages with `retail.messaging.message_send`)."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clienteling import attribution, cart, gates, partitions
from clienteling.models import (
    BrowsingEvent,
    ClientelingSettings,
    FollowUpTask,
    Note,
    Outreach,
    ProductAffinity,
    TaskState,
    VisitorLink,
)
from retail import messaging
from retail.models import Customer, Store, User
from retail.services import audit_record

NOTE_MAX = 2000
PURGE_CHUNK = 50_000


class ClientelingError(Exception):
    """Refused; nothing changed. The message is for the user; `explanation` (a
    training gate's) says which certificate unlocks the operation."""

    def __init__(self, message: str = "", explanation=None) -> None:
        super().__init__(message)
        self.explanation = explanation


# --- Identity stitching -------------------------------------------------------------


@transaction.atomic
def visitor_identify(*, anonymous_id: str, customer: Customer) -> int:
    """The visitor is this customer: their events not yet joined to anyone join the
    customer, and later ones follow (the link). Without tracking consent nothing
    is joined and the visitor's anonymous events are deleted. Returns how many
    events were joined (a resend: 0)."""
    VisitorLink.objects.update_or_create(anonymous_id=anonymous_id, defaults={"customer": customer})
    loose = BrowsingEvent.objects.filter(anonymous_id=anonymous_id, customer__isnull=True)
    if not customer.tracking_consent:
        loose.delete()
        return 0
    return loose.update(customer=customer)


# --- Consent and retention ----------------------------------------------------------


def browsing_erase(*, customer_id: int) -> int:
    """Delete a customer's stored browsing (tracking consent withdrawn), in chunks."""
    deleted = 0
    while True:
        with transaction.atomic():
            customer = Customer.objects.filter(pk=customer_id).first()
            if customer is None or customer.tracking_consent:
                return deleted  # given again since: nothing to erase
            ids = list(
                BrowsingEvent.objects.filter(customer_id=customer_id).values_list("pk", flat=True)[
                    :PURGE_CHUNK
                ]
            )
            if not ids:
                return deleted
            deleted += BrowsingEvent.objects.filter(pk__in=ids).delete()[0]


def retention_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    months = ClientelingSettings.current().retention_months
    now = now or timezone.now()
    year, month = divmod(now.month - 1 - months, 12)
    year += now.year
    month += 1
    day = min(now.day, 28)
    return now.replace(year=year, month=month, day=day)


def browsing_purge(now: dt.datetime | None = None) -> int:
    """Delete every event older than the retention period; the number deleted.

    On PostgreSQL (partitioned by month received): whole months received before the
    cutoff are dropped, the rows received before it in the month that straddles it
    are deleted, and so are events that occurred before it (sent late); the event
    keys received before it are forgotten (`clienteling.partitions.retention_apply`).
    On SQLite: events that occurred before the cutoff are deleted in bulk chunks."""
    cutoff = retention_cutoff(now)
    if partitions.partitioned():
        return partitions.retention_apply(cutoff)["rows"]
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                BrowsingEvent.objects.filter(occurred_at__lt=cutoff).values_list("pk", flat=True)[
                    :PURGE_CHUNK
                ]
            )
            if not ids:
                return deleted
            deleted += BrowsingEvent.objects.filter(pk__in=ids).delete()[0]


# --- Customer data (merge) ----------------------------------------------------------


def _tracking_after_merge(survivor: Customer, duplicate: Customer) -> bool:
    """The merge keeps each consent's most recent decision (`retail.services.customer_merge`)."""
    theirs, ours = duplicate.tracking_consent_at, survivor.tracking_consent_at
    if theirs and (ours is None or theirs > ours):
        return duplicate.tracking_consent
    return survivor.tracking_consent


def merge_customer(*, survivor: Customer, duplicate: Customer) -> None:
    """Registered with `retail.customer_data`: browsing, links, notes, tasks and outreach
    move to the survivor; browsing is deleted when the merged profile will not have
    tracking consent."""
    if _tracking_after_merge(survivor, duplicate):
        BrowsingEvent.objects.filter(customer=duplicate).update(customer=survivor)
    else:
        BrowsingEvent.objects.filter(customer__in=[survivor, duplicate]).delete()
    VisitorLink.objects.filter(customer=duplicate).update(customer=survivor)
    Note.objects.filter(customer=duplicate).update(customer=survivor)
    FollowUpTask.objects.filter(customer=duplicate).update(customer=survivor)
    Outreach.objects.filter(customer=duplicate).update(customer=survivor)
    cart.merge_customer(survivor=survivor, duplicate=duplicate)
    attribution.merge_customer(survivor=survivor, duplicate=duplicate)


def count_customer(customer: Customer) -> int:
    return (
        BrowsingEvent.objects.filter(customer=customer).count()
        + Note.objects.filter(customer=customer).count()
        + FollowUpTask.objects.filter(customer=customer).count()
    )


# --- Notes ---------------------------------------------------------------------------


def _create_once(model, key: str | None, **fields):
    """(row, created): the row with `key` if there is one, else a new one. Two requests
    racing with the same key (a double tap) make one row: the database's unique key
    refuses the second, which then returns the first."""
    if key is not None:
        existing = model.objects.filter(key=key).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            return model.objects.create(key=key, **fields), True
    except IntegrityError:
        if key is None:
            raise
        return model.objects.get(key=key), False


@transaction.atomic
def note_add(
    *, customer: Customer, text: str, by: User, store: Store | None, key: str | None = None
) -> Note:
    """A staff-only note; with a `key` (the form's), sending it twice adds it once."""
    text = (text or "").strip()
    if not text:
        raise ClientelingError(_("Write the note first."))
    if len(text) > NOTE_MAX:
        raise ClientelingError(
            _("A note has at most %(n)s characters (this one has %(m)s).")
            % {"n": NOTE_MAX, "m": len(text)}
        )
    note, created = _create_once(Note, key, customer=customer, text=text, author=by, store=store)
    if not created:
        return note
    if store is not None:
        attribution.serving_record(associate=by, store=store, customer=customer, action="note")
    audit_record(
        actor=by,
        action="customer.note_add",
        target=customer,
        store=store,
        detail={"note_id": note.pk},
    )
    return note


# --- Follow-up tasks -----------------------------------------------------------------


@transaction.atomic
def task_create(
    *,
    customer: Customer,
    store: Store,
    title: str,
    due_on: dt.date,
    by: User | None,
    assigned_to: User | None = None,
    source: str = "",
    key: str | None = None,
) -> FollowUpTask:
    """A follow-up for a customer; with a `key`, creating it twice creates it once."""
    title = (title or "").strip()
    if not title:
        raise ClientelingError(_("Say what is to be done."))
    if len(title) > 200:
        raise ClientelingError(_("A task has at most 200 characters."))
    task, created = _create_once(
        FollowUpTask,
        key,
        customer=customer,
        store=store,
        title=title,
        due_on=due_on,
        created_by=by,
        assigned_to=assigned_to,
        source=source[:100],
    )
    if not created:
        return task
    audit_record(
        actor=by,
        action="customer.task_create",
        target=customer,
        store=store,
        detail={"task_id": task.pk, "source": source[:100]},
    )
    if by is not None:  # by hand (not from a domain event)
        attribution.serving_record(associate=by, store=store, customer=customer, action="task")
    return task


@transaction.atomic
def task_complete(*, task: FollowUpTask, by: User) -> FollowUpTask:
    task = FollowUpTask.objects.select_for_update().get(pk=task.pk)
    if task.state != TaskState.DONE:
        task.state = TaskState.DONE
        task.done_at = timezone.now()
        task.save(update_fields=["state", "done_at"])
        audit_record(
            actor=by,
            action="customer.task_done",
            target=task.customer,
            store=task.store,
            detail={"task_id": task.pk},
        )
    return task


# --- Outreach ------------------------------------------------------------------------

OUTREACH_TEMPLATE = "clienteling_outreach"


def outreach_refusal(customer: Customer) -> str | None:
    """Why no message may go to this customer now, or None."""
    if not customer.marketing_consent:
        return _("This customer has not agreed to marketing messages.")
    if not customer.email:
        return _("This customer has no e-mail address.")
    return None


@transaction.atomic
def outreach_send(
    *, customer: Customer, subject: str, body: str, by: User, store: Store | None, nonce: str
) -> Outreach:
    """Send a message through the platform's message log, once per form (`nonce`)."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    refusal = outreach_refusal(customer)
    if refusal:
        raise ClientelingError(refusal)
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject or not body:
        raise ClientelingError(_("Write a subject and a message."))
    if len(subject) > 200 or len(body) > NOTE_MAX:
        raise ClientelingError(
            _("A subject has at most 200 characters and a message at most %(n)s.") % {"n": NOTE_MAX}
        )
    key = f"outreach:{customer.pk}:{nonce}"[:200]
    if not Outreach.objects.filter(message__key=key).exists():  # a double tap is not a new send
        gates.authorise(
            user=by,
            operation="outreach_send",
            target=f"customer:{customer.pk}",
            error=ClientelingError,
        )
    message = messaging.message_send(
        customer=customer,
        template=OUTREACH_TEMPLATE,
        context={
            "subject": subject,
            "body": body,
            "store": store.name if store else "",
            "customer_name": customer.first_name,
        },
        key=key,
    )
    outreach = Outreach.objects.filter(message=message).first()
    if outreach is None:
        outreach = Outreach.objects.create(
            customer=customer,
            message=message,
            sent_by=by,
            store=store,
            subject=subject,
            body=body,
        )
        audit_record(
            actor=by,
            action="customer.outreach",
            target=customer,
            store=store,
            detail={"message_id": message.pk},
        )
        if store is not None:
            attribution.serving_record(
                associate=by, store=store, customer=customer, action="outreach"
            )
    return outreach


def affinity_count() -> int:
    return ProductAffinity.objects.count()
