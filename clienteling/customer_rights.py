"""What clienteling keeps about a customer, for the data rights (`retail.data_rights`):
browsing (and the anonymous visitor ids linked to them), notes, follow-up tasks,
outreach, carts and assisted-selling sessions."""

from __future__ import annotations

from clienteling.models import (
    BrowsingEvent,
    Cart,
    FollowUpTask,
    Note,
    Outreach,
    SellingSession,
    VisitorLink,
)
from retail.models import Customer


def export(customer: Customer) -> dict:
    links = list(VisitorLink.objects.filter(customer=customer).order_by("linked_at"))
    return {
        "browsing": [
            {
                "occurred_at": e.occurred_at,
                "kind": e.kind,
                "channel": e.channel,
                "sku": e.sku,
                "query": e.query,
                "url": e.url,
            }
            for e in BrowsingEvent.objects.filter(customer=customer).order_by("occurred_at", "pk")
        ],
        "visitor_ids": [{"anonymous_id": v.anonymous_id, "linked_at": v.linked_at} for v in links],
        "notes": [
            {"at": n.created_at, "text": n.text, "store": n.store.code if n.store_id else None}
            for n in Note.objects.filter(customer=customer).select_related("store")
        ],
        "tasks": [
            {"title": t.title, "due_on": t.due_on, "state": t.state, "created_at": t.created_at}
            for t in FollowUpTask.objects.filter(customer=customer)
        ],
        "outreach": [
            {"at": o.created_at, "subject": o.subject, "body": o.body}
            for o in Outreach.objects.filter(customer=customer)
        ],
        "carts": [
            {
                "store": c.store.code,
                "state": c.state,
                "delivery_address": c.address,
                "order_ref": c.order_ref,
                "created_at": c.created_at,
            }
            for c in Cart.objects.filter(customer=customer).select_related("store")
        ],
        "served": [
            {
                "store": s.store.code,
                "opened_at": s.opened_at,
                "last_action_at": s.last_action_at,
                "actions": s.actions,
            }
            for s in SellingSession.objects.filter(customer=customer).select_related("store")
        ],
    }


def erase(customer: Customer) -> None:
    """Browsing goes, the visitor ids' anonymous browsing too (it could be joined to
    them again otherwise); notes, tasks, outreach and selling sessions are deleted (the
    influenced-sales credits already made stay, without the person); carts lose the
    customer and their address."""
    anonymous_ids = list(
        VisitorLink.objects.filter(customer=customer).values_list("anonymous_id", flat=True)
    )
    BrowsingEvent.objects.filter(customer=customer).delete()
    if anonymous_ids:
        BrowsingEvent.objects.filter(anonymous_id__in=anonymous_ids).delete()
    VisitorLink.objects.filter(customer=customer).delete()
    Note.objects.filter(customer=customer).delete()
    FollowUpTask.objects.filter(customer=customer).delete()
    Outreach.objects.filter(customer=customer).delete()
    SellingSession.objects.filter(customer=customer).delete()
    Cart.objects.filter(customer=customer).update(customer=None, address={})


# --- Retention (`retail.retention`) ---------------------------------------------------


def anonymous_browsing(cutoff):
    """Browsing of visitors never identified as a customer, older than the cutoff."""
    return BrowsingEvent.objects.filter(customer__isnull=True, occurred_at__lt=cutoff)


def anonymous_purge(cutoff) -> int:
    from clienteling.services import PURGE_CHUNK

    deleted = 0
    while True:
        ids = list(anonymous_browsing(cutoff).values_list("pk", flat=True)[:PURGE_CHUNK])
        if not ids:
            return deleted
        deleted += BrowsingEvent.objects.filter(pk__in=ids).delete()[0]


def anonymous_pending(cutoff) -> int:
    return anonymous_browsing(cutoff).count()


def browsed_since(since):
    """Customers who browsed (with consent) since then."""
    return (
        BrowsingEvent.objects.filter(occurred_at__gte=since, customer__isnull=False)
        .order_by()
        .values("customer_id")
    )


def served_since(since):
    """Customers served in a store since then."""
    return SellingSession.objects.filter(last_action_at__gte=since).order_by().values("customer_id")
