"""Stock across the network: locations, stock levels and the append-only ledger.

The figures on a `StockLevel` change only through `inventory.services`, each
change together with a `StockMovement` row in the same transaction, so the
ledger always explains the figures (`manage.py stock_reconcile` checks it).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from retail.models import Store, Variant, zone_named
from retail.validators import validate_country_served, validate_time_zone


class LocationKind(models.TextChoices):
    STORE = "store", _("Store")
    DC = "dc", _("Distribution centre")
    SUPPLIER = "supplier", _("Supplier")
    # Returned units that cannot sell (damaged, for the vendor, to donate): held at a
    # store but never part of the network's stock (`inventory.network` leaves it out).
    HOLD = "hold", _("Returns hold (not sellable)")


class StockLocation(models.Model):
    """Somewhere stock is held: a store, a distribution centre or a supplier."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=LocationKind.choices)
    store = models.OneToOneField(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_location",
        verbose_name=_("store"),
    )
    sellable_online = models.BooleanField(
        _("sellable online"), default=True, help_text=_("Its stock may be promised to web orders.")
    )
    ships_to_customers = models.BooleanField(_("ships to customers"), default=False)
    receives_transfers = models.BooleanField(_("receives transfers"), default=False)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
    )
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    country = models.CharField(
        _("country"), max_length=2, blank=True, validators=[validate_country_served]
    )
    lead_time_days = models.PositiveSmallIntegerField(
        _("handling (working days)"),
        default=0,
        validators=[MaxValueValidator(60)],
        help_text=_(
            "Working days this location needs before a parcel can leave (a supplier's "
            "lead time); the carrier's cut-off and transit days come on top."
        ),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("Where its carrier cut-offs are read. A store location uses its store's."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")
        ordering = ["kind", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="store", store__isnull=False) | ~Q(kind="store"),
                name="stocklocation_store_kind_has_store",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        if self.store_id:
            return self.store.tz
        return zone_named(self.time_zone or settings.TIME_ZONE)

    @property
    def offers_pickup(self) -> bool:
        return bool(self.store_id and self.store.pickup_enabled and self.store.is_open)


class StockLevel(models.Model):
    """On hand, reserved and safety stock of one SKU at one location."""

    location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="levels", verbose_name=_("location")
    )
    variant = models.ForeignKey(
        Variant, on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("SKU")
    )
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    safety_stock = models.IntegerField(_("safety stock"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["location", "variant"]
        constraints = [
            models.UniqueConstraint(fields=["location", "variant"], name="stocklevel_unique"),
            # An oversell cannot be committed: 0 ≤ reserved ≤ on hand.
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stocklevel_reserved_gte_0"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stocklevel_reserved_lte_on_hand"
            ),
            models.CheckConstraint(
                condition=Q(safety_stock__gte=0), name="stocklevel_safety_gte_0"
            ),
        ]
        indexes = [models.Index(fields=["variant", "location"], name="stocklevel_variant_idx")]

    def __str__(self) -> str:
        return f"{self.location.code} {self.variant.sku}: {self.on_hand}/{self.reserved}"

    @property
    def available(self) -> int:
        """What an order can take: on hand − reserved − safety stock, never below 0."""
        return max(0, self.on_hand - self.reserved - self.safety_stock)


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    SALE = "sale", _("Sale")
    RESERVATION = "reservation", _("Reservation")
    RELEASE = "release", _("Release")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    COUNT = "count", _("Count")
    RETURN = "return", _("Return")
    ADJUSTMENT = "adjustment", _("Adjustment")


class MovementQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The stock ledger is append-only.")

    def delete(self):
        raise PermissionError("The stock ledger is append-only.")


class StockMovement(models.Model):
    """One row of the append-only stock ledger.

    `on_hand_delta` and `reserved_delta` are what this movement did to the
    location's figures; summing them per (location, SKU) gives the figures.
    The source is named by reference (`order_line:42`, `transfer:7`, `count:3`).
    """

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=MovementKind.choices)
    location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    variant = models.ForeignKey(
        Variant, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU")
    )
    quantity = models.IntegerField(_("quantity"))
    on_hand_delta = models.IntegerField(_("on-hand change"), default=0)
    reserved_delta = models.IntegerField(_("reserved change"), default=0)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    reason = models.CharField(_("why"), max_length=200, blank=True)
    source = models.CharField(_("source record"), max_length=64, blank=True, db_index=True)

    objects = MovementQuerySet.as_manager()

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock ledger")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["location", "variant", "at"], name="movement_loc_variant_idx")
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.quantity}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The stock ledger is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The stock ledger is append-only.")


class StockFeedKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    ADJUSTMENT = "adjustment", _("Adjustment")
    COUNT = "count", _("Count")


class StockFeed(models.Model):
    """One stock movement sent by the retailer's systems (the API's
    `POST /api/v1/stock/movements/`, or a batch of a stock import): its reference makes
    a resend harmless, its body's hash tells a resend from a conflict. Its lines are in
    the ledger (`StockMovement.source` = `feed:<movement_ref>`)."""

    movement_ref = models.CharField(_("movement reference"), max_length=64, unique=True)
    location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("location")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=StockFeedKind.choices)
    body_hash = models.CharField(_("body hash"), max_length=64)
    lines = models.PositiveIntegerField(_("lines"))
    changed = models.PositiveIntegerField(_("lines that changed stock"))
    reason = models.CharField(_("why"), max_length=200, blank=True)
    api_client = models.ForeignKey(
        "retail.ApiClient",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API client"),
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    created_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("stock feed movement")
        verbose_name_plural = _("stock feed movements")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.movement_ref


class TransferState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    IN_TRANSIT = "in_transit", _("In transit")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


class Transfer(models.Model):
    """Stock sent from one location to another (replenishment between locations).

    Units are reserved at the source when requested, leave it when shipped and
    arrive when received; each step is a ledger row at its location.
    """

    from_location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("from")
    )
    to_location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("to")
    )
    state = models.CharField(
        _("state"), max_length=12, choices=TransferState.choices, default=TransferState.REQUESTED
    )
    reason = models.CharField(_("why"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_location=F("to_location")), name="transfer_between_two_locations"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.from_location.code} → {self.to_location.code}"

    @property
    def ref(self) -> str:
        return f"transfer:{self.pk}"


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(
        Variant, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU")
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        constraints = [
            models.UniqueConstraint(fields=["transfer", "variant"], name="transferline_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transferline_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.variant.sku}"


class CarrierService(models.Model):
    """How parcels leave one country: the cut-off in the sender's local time, and the
    working days (Monday to Friday) they travel. Home deliveries and transfers to a
    store each have their own service."""

    class Service(models.TextChoices):
        HOME = "home", _("Home delivery")
        TRANSFER = "transfer", _("Transfer to a store")

    name = models.CharField(_("carrier"), max_length=80)
    country = models.CharField(
        _("sending country"),
        max_length=2,
        help_text=_("Two-letter ISO code of the country its parcels leave from."),
    )
    service = models.CharField(_("service"), max_length=10, choices=Service.choices)
    cutoff = models.TimeField(
        _("cut-off"),
        default=dt.time(16, 0),
        help_text=_(
            "Parcels ready after this time (sender's local time) leave the next working day."
        ),
    )
    transit_days = models.PositiveSmallIntegerField(
        _("transit (working days)"),
        default=2,
        validators=[MinValueValidator(0), MaxValueValidator(30)],
        help_text=_("Within the sending country."),
    )
    cross_border_days = models.PositiveSmallIntegerField(
        _("extra days across a border"),
        default=2,
        validators=[MaxValueValidator(30)],
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("carrier service")
        verbose_name_plural = _("carrier services")
        ordering = ["country", "service"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "service"],
                condition=Q(active=True),
                name="carrierservice_one_active_per_country",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country}, {self.get_service_display()})"


class SourcingSettings(models.Model):
    """HQ's sourcing settings (one row)."""

    nearby_km = models.PositiveSmallIntegerField(
        _("nearby within (km)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_(
            "Stores within this distance of a store are shown to its associates as nearby."
        ),
    )

    class Meta:
        verbose_name = _("sourcing settings")
        verbose_name_plural = _("sourcing settings")

    def __str__(self) -> str:
        return str(_("Sourcing settings"))

    @classmethod
    def current(cls) -> SourcingSettings:
        return cls.objects.order_by("pk").first() or cls()
