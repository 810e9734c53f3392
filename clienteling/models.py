"""Clienteling: the customer's online journey, identity stitching, notes, follow-up
tasks, outreach and the item-to-item affinities behind recommendations.

`BrowsingEvent` is the table that grows fastest: it is written in bulk by
`clienteling.ingest` (COPY into a staging table, then one INSERT … ON CONFLICT on
PostgreSQL) and purged by retention (`ClientelingSettings.retention_months`). On
PostgreSQL it is partitioned by month of `received_at` (`clienteling.partitions`,
migration 0005) and `event_id` stays unique through `EventKey`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from retail.models import Customer, OutboundMessage, Product, Store, Variant


class EventKind(models.TextChoices):
    PRODUCT_VIEW = "product_view", _("Viewed")
    ADD_TO_CART = "add_to_cart", _("Added to cart")
    REMOVE_FROM_CART = "remove_from_cart", _("Removed from cart")
    WISHLIST_ADD = "wishlist_add", _("Added to wishlist")
    SEARCH = "search", _("Searched")


SKU_KINDS = frozenset(
    {
        EventKind.PRODUCT_VIEW,
        EventKind.ADD_TO_CART,
        EventKind.REMOVE_FROM_CART,
        EventKind.WISHLIST_ADD,
    }
)


class EventChannel(models.TextChoices):
    WEB = "web", _("Web")
    APP = "app", _("App")
    STORE = "store", _("Store")
    KIOSK = "kiosk", _("Kiosk")
    SOCIAL = "social", _("Social")


class BrowsingEvent(models.Model):
    """One thing a visitor did online. Stored only with tracking consent (or while
    the visitor is anonymous); an unknown SKU keeps its text and no variant.

    On PostgreSQL the table is partitioned by RANGE on the month of `received_at`
    (the time Aisle received the event; the client's `occurred_at` may lie in a month
    already dropped), so the database differs from this state in two ways that
    SQLite does not see:

    - the primary key is `(id, received_at)`. Django keeps `id` as the pk: ids come
      from one sequence, so `id` alone still names one row, and every query, `.delete()`,
      `update()` and the customer-data registry keep working unchanged (a
      `CompositePrimaryKey` would break `pk__in` lists of integers, admin, and every
      caller that passes an id);
    - `event_id` has no unique index (PostgreSQL wants the partition key in each
      one): `EventKey` holds each stored event's id, written in the same statement
      as the event. A later migration that alters `event_id` must say so on
      PostgreSQL with `SeparateDatabaseAndState`.
    """

    event_id = models.UUIDField(_("event id"), unique=True)
    occurred_at = models.DateTimeField(_("occurred"), db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=EventChannel.choices)
    anonymous_id = models.CharField(_("anonymous id"), max_length=128, blank=True, default="")
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="browsing_events",
        verbose_name=_("customer"),
    )
    sku = models.CharField(_("SKU as sent"), max_length=40, blank=True, default="")
    variant = models.ForeignKey(
        Variant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SKU"),
    )
    query = models.CharField(_("search"), max_length=256, blank=True, default="")
    url = models.CharField(_("URL"), max_length=2048, blank=True, default="")
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("browsing event")
        verbose_name_plural = _("browsing events")
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="browsing_customer_idx"),
            models.Index(fields=["anonymous_id", "occurred_at"], name="browsing_visitor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.kind}"


class EventKey(models.Model):
    """The `event_id` of each stored browsing event and when it was received: on
    PostgreSQL, the exact deduplication that the partitioned events table cannot hold
    (`clienteling.ingest` inserts here with ON CONFLICT DO NOTHING RETURNING and stores
    only the events whose key was new, in the same statement). Pruned with the
    partitions by retention. Unused on SQLite, where the events table keeps its own
    unique `event_id`."""

    event_id = models.UUIDField(_("event id"), primary_key=True)
    received_at = models.DateTimeField(_("received"))

    class Meta:
        verbose_name = _("event key")
        verbose_name_plural = _("event keys")

    def __str__(self) -> str:
        return str(self.event_id)


class VisitorLink(models.Model):
    """An anonymous visitor who identified as a customer: their later events follow."""

    anonymous_id = models.CharField(_("anonymous id"), max_length=128, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="visitor_links")
    linked_at = models.DateTimeField(_("linked"), default=timezone.now)

    class Meta:
        verbose_name = _("identified visitor")
        verbose_name_plural = _("identified visitors")

    def __str__(self) -> str:
        return f"visitor → customer #{self.customer_id}"


class ClientelingSettings(models.Model):
    """HQ's settings for clienteling (one row)."""

    retention_months = models.PositiveSmallIntegerField(
        _("keep browsing for (months)"),
        default=13,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("Browsing events older than this are deleted every night."),
    )
    attribution_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_(
            "An order in any channel within this many days after an associate served "
            "the customer is credited to them."
        ),
    )

    class Meta:
        verbose_name = _("clienteling settings")
        verbose_name_plural = _("clienteling settings")

    def __str__(self) -> str:
        return str(_("Clienteling settings"))

    @classmethod
    def current(cls) -> ClientelingSettings:
        return cls.objects.order_by("pk").first() or cls()


class ProductAffinity(models.Model):
    """How often two products were looked at in one session or bought by one customer:
    rebuilt by `clienteling.recommendations.rebuild` (never inside a request)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    sessions = models.PositiveIntegerField(_("sessions together"), default=0)
    baskets = models.PositiveIntegerField(_("bought by the same customers"), default=0)
    score = models.FloatField(_("score"), default=0)

    class Meta:
        verbose_name = _("product affinity")
        verbose_name_plural = _("product affinities")
        constraints = [models.UniqueConstraint(fields=["product", "other"], name="affinity_unique")]

    def __str__(self) -> str:
        return f"{self.product_id} ~ {self.other_id} ({self.score:.1f})"


class Note(models.Model):
    """A staff-only note about a customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="staff_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, null=True, related_name="+")
    text = models.TextField(_("note"), max_length=2000)
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    # The form's one-time key: the same form sent twice (a double tap) adds one note.
    key = models.CharField(max_length=200, unique=True, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"note #{self.pk}"


class TaskState(models.TextChoices):
    OPEN = "open", pgettext_lazy("state of a follow-up task", "Open")
    DONE = "done", _("Done")


class FollowUpTask(models.Model):
    """Something to do for a customer by a date, for one associate or the whole store."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="follow_ups")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("for"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    title = models.CharField(_("task"), max_length=200)
    due_on = models.DateField(_("due"))
    state = models.CharField(
        _("state"), max_length=8, choices=TaskState.choices, default=TaskState.OPEN
    )
    source = models.CharField(
        _("source"),
        max_length=100,
        blank=True,
        help_text=_("What created it automatically, e.g. stock_replenished:S01:SKU."),
    )
    key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["store", "state", "due_on"], name="followup_store_idx")]

    def __str__(self) -> str:
        return self.title


class Outreach(models.Model):
    """A message an associate sent to a customer (the platform's message log holds it)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="outreach")
    message = models.OneToOneField(OutboundMessage, on_delete=models.PROTECT, related_name="+")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, null=True, related_name="+")
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), max_length=2000)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("outreach")
        verbose_name_plural = _("outreach")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"outreach #{self.pk}"


# --- The endless aisle's cart ------------------------------------------------------------


class Delivery(models.TextChoices):
    PICKUP_HERE = "pickup_here", _("Pickup here")
    PICKUP_OTHER = "pickup_other", _("Pickup at another store")
    HOME = "home", _("Delivery to the customer's address")


class CartState(models.TextChoices):
    OPEN = "open", pgettext_lazy("state of a cart", "Open")
    PLACED = "placed", _("Placed")


class Cart(models.Model):
    """An associate's cart in one store, for one customer (kept on the server, so it
    survives a reload or a dropped connection); placing it makes one order."""

    store = models.ForeignKey(
        "retail.Store", on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    associate = models.ForeignKey(
        "retail.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("associate")
    )
    customer = models.ForeignKey(
        "retail.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    delivery = models.CharField(
        _("delivery"), max_length=16, choices=Delivery.choices, default=Delivery.PICKUP_HERE
    )
    pickup_store = models.ForeignKey(
        "retail.Store",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pickup store"),
    )
    address = models.JSONField(_("delivery address"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=8, choices=CartState.choices, default=CartState.OPEN
    )
    order_ref = models.CharField(_("order"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        constraints = [
            models.UniqueConstraint(
                fields=["associate", "store"],
                condition=models.Q(state="open"),
                name="cart_one_open_per_associate_and_store",
            )
        ]

    def __str__(self) -> str:
        return f"cart {self.pk}"


class CartLine(models.Model):
    cart = models.ForeignKey(
        Cart, on_delete=models.CASCADE, related_name="lines", verbose_name=_("cart")
    )
    variant = models.ForeignKey(
        "retail.Variant", on_delete=models.PROTECT, related_name="+", verbose_name=_("variant")
    )
    quantity = models.PositiveSmallIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cartline_one_per_variant"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="cartline_qty_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.variant_id}"


# --- Assisted selling and cross-channel attribution ------------------------------------


class ServingAction(models.TextChoices):
    SERVING = "serving", _("served in person")
    NOTE = "note", _("note")
    TASK = "task", _("follow-up")
    RECOMMENDATION = "recommendation", _("recommendation")
    CART = "cart", _("cart")
    OUTREACH = "outreach", _("message")


class SellingSession(models.Model):
    """An associate acting for a customer (serving, a note, a recommendation into the
    cart, a cart, a message): what they did and when. Viewing alone is not one."""

    associate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("associate"),
    )
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    last_action_at = models.DateTimeField(_("last action"), default=timezone.now)
    actions = models.JSONField(_("actions"), default=dict, blank=True)

    class Meta:
        verbose_name = _("assisted-selling session")
        verbose_name_plural = _("assisted-selling sessions")
        indexes = [models.Index(fields=["customer", "last_action_at"])]

    def __str__(self) -> str:
        return f"{self.associate_id} → {self.customer_id} ({self.opened_at:%Y-%m-%d})"


class SalesCredit(models.Model):
    """An associate's share of an order they influenced (or placed)."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="+", verbose_name=_("order")
    )
    associate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("associate"),
    )
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    channel = models.CharField(_("channel"), max_length=10)
    share = models.DecimalField(_("share (%)"), max_digits=5, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reversed_amount = models.DecimalField(_("reversed"), max_digits=12, decimal_places=2, default=0)
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("credited"), auto_now_add=True)

    class Meta:
        verbose_name = _("sales credit")
        verbose_name_plural = _("sales credits")
        constraints = [
            models.UniqueConstraint(fields=["order", "associate"], name="credit_once_per_order")
        ]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.associate_id}: {self.amount}"

    def get_channel_label(self) -> str:
        from orders.models import Channel

        return str(dict(Channel.choices).get(self.channel, self.channel))


# Appointments (issue #24) keep their models in their own package.
from clienteling.appointments.models import (  # noqa: E402, F401
    Appointment,
    AppointmentEvent,
    AppointmentSource,
    AppointmentState,
    ExceptionKind,
    SetAside,
    SetAsideState,
    Topic,
    TopicOffering,
    WorkingException,
    WorkingHours,
)
