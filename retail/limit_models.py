"""The rows of the security limits (`retail.limits`): one row per counted attempt.

Kept in the database, not the cache, so that a cache outage or flush cannot lift a
limit against guessing (wrong pickup codes, one-time codes, kiosk reservations).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LimitHit(models.Model):
    """One counted attempt of `scope` by `key` (a device, an order, a kiosk)."""

    scope = models.CharField(_("limit"), max_length=40)
    key = models.CharField(_("counted for"), max_length=80)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("limit hit")
        verbose_name_plural = _("limit hits")
        indexes = [models.Index(fields=["scope", "key", "at"], name="limithit_scope_key_at")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} {self.at:%Y-%m-%d %H:%M:%S}"
