"""The record of tablet actions applied once (`retail.once`): the device's id for an
action, who sent it from which store to which page, and the answer it got, so a retry or
a replay of a queued action is answered as the first time and never applied twice."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppliedAction(models.Model):
    """One action a device sent, by the id the device gave it. Rows are kept for
    `AISLE_ACTION_KEEP_HOURS` (the answers may name a customer) and purged daily."""

    action_id = models.UUIDField(_("action id"), primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("sent by"),
    )
    store = models.ForeignKey(
        "retail.Store",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
    )
    path = models.CharField(_("page"), max_length=255)
    status = models.PositiveSmallIntegerField(_("answer status"))
    headers = models.JSONField(_("answer headers"), default=dict, blank=True)
    body = models.BinaryField(_("answer sent"), blank=True, default=b"")
    applied_at = models.DateTimeField(_("applied"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("applied action")
        verbose_name_plural = _("applied actions")

    def __str__(self) -> str:
        return f"{self.action_id} {self.path} {self.status}"
