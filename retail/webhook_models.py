"""The rows of the webhook core (`retail.webhooks`): deliveries and each client's breaker.

Kept apart from `retail.models` (which imports them, so Django finds them) because
they belong to one module; nothing here imports another app.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WebhookState(models.TextChoices):
    PENDING = "pending", _("Waiting to be delivered")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed (no retry left)")
    DROPPED = "dropped", _("Dropped")


# The states that hold a chain back: the deliveries after them wait.
UNDELIVERED = (WebhookState.PENDING, WebhookState.FAILED)


class WebhookDelivery(models.Model):
    """One change POSTed to one API client's webhook URL.

    The body is serialised once, by the app that records the change, and resent
    unchanged, so its signature and content never differ between attempts. A
    delivery's *subject* (`subject_type`, `subject_id`: an order for orders, its order
    for a return) orders its chain: the deliveries of one subject to one client are
    sent strictly in `pk` order. `leased_until` is set while a worker sends it.
    """

    client = models.ForeignKey(
        "retail.ApiClient",
        on_delete=models.CASCADE,
        related_name="webhook_deliveries",
        verbose_name=_("API client"),
    )
    subject_type = models.CharField(_("subject type"), max_length=30)
    subject_id = models.BigIntegerField(_("subject id"))
    subject_ref = models.CharField(_("subject reference"), max_length=100, blank=True)
    # What recorded it (e.g. "order_event:42"): one delivery per client and change.
    change_key = models.CharField(_("change"), max_length=100, blank=True)
    event = models.CharField(_("event"), max_length=40)
    body = models.TextField(_("body (JSON, as signed)"))
    state = models.CharField(
        _("state"), max_length=10, choices=WebhookState.choices, default=WebhookState.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    leased_until = models.DateTimeField(_("being sent until"), null=True, blank=True)
    lease_token = models.CharField(_("lease"), max_length=32, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "change_key"],
                condition=~Q(change_key=""),
                name="webhook_once_per_change",
            )
        ]
        indexes = [
            models.Index(
                fields=["client", "subject_type", "subject_id", "state"],
                name="webhookdelivery_chain_idx",
            ),
            models.Index(fields=["state", "next_attempt_at"], name="webhookdelivery_due_idx"),
            models.Index(
                fields=["client", "leased_until"],
                condition=Q(leased_until__isnull=False),
                name="webhookdelivery_lease_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event} → {self.client_id}"


class WebhookCircuit(models.Model):
    """One client's circuit breaker: consecutive failed attempts and, once they reach
    the threshold, the time until which its deliveries wait (then one probe)."""

    client = models.OneToOneField(
        "retail.ApiClient",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="webhook_circuit",
        verbose_name=_("API client"),
    )
    failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    open_until = models.DateTimeField(_("paused until"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("webhook circuit")
        verbose_name_plural = _("webhook circuits")

    def __str__(self) -> str:
        return f"{self.client_id}: {self.failures}"
