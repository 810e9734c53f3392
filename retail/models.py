"""The shared core every Aisle app stands on: stores, catalog, customers, staff, audit."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from decimal import Decimal

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, router, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from retail.validators import validate_country_served, validate_ean13, validate_time_zone


class Role(models.TextChoices):
    """The staff roles of the design; each is also a Django group of the same name."""

    ASSOCIATE = "associate", _("Associate")
    STORE_MANAGER = "store_manager", _("Store manager")
    HQ_ADMIN = "hq_admin", _("HQ admin")
    KIOSK = "kiosk", _("Kiosk")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person (or kiosk device) who logs in; identified by e-mail, never by a username."""

    username = None
    email = models.EmailField(_("e-mail address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email


store_code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{1,15}$",
    _("A store code is 2 to 16 capital letters, digits or hyphens, e.g. S01."),
)


@functools.cache
def zone_named(key: str) -> zoneinfo.ZoneInfo:
    """The time zone `key`, kept: `ZoneInfo` keeps only the last few zones it was asked
    for, and a network of stores in many zones would read their files again and again."""
    return zoneinfo.ZoneInfo(key)


class Store(models.Model):
    code = models.CharField(
        _("code"), max_length=16, unique=True, validators=[store_code_validator]
    )
    name = models.CharField(_("name"), max_length=120)
    address_line1 = models.CharField(_("address"), max_length=200)
    address_line2 = models.CharField(_("address (line 2)"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100)
    postcode = models.CharField(_("postcode"), max_length=20)
    country = models.CharField(
        _("country"),
        max_length=2,
        validators=[
            RegexValidator(r"^[A-Z]{2}$", _("Use the two-letter ISO code, e.g. FR.")),
            validate_country_served,
        ],
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Paris", validators=[validate_time_zone]
    )
    pickup_enabled = models.BooleanField(_("offers pickup"), default=True)
    pickup_hold_days = models.PositiveSmallIntegerField(
        _("pickup hold (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("How long a ready pickup is held before it expires."),
    )
    is_open = models.BooleanField(
        _("open"), default=True, help_text=_("A closed store takes no orders and no pickups.")
    )

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zone_named(self.time_zone)

    def local_now(self) -> dt.datetime:
        return timezone.now().astimezone(self.tz)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningHours(models.Model):
    """A store's hours on one weekday, in its own time zone; a day without a row is closed."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["store", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["store", "weekday"], name="openinghours_one_per_day"),
            models.CheckConstraint(
                condition=Q(opens__lt=models.F("closes")), name="openinghours_opens_before_closes"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.opens and self.closes and self.opens >= self.closes:
            raise ValidationError({"closes": _("A store must close after it opens.")})


class StoreClosure(models.Model):
    """A day a store that would normally open stays closed (a public holiday, an
    inventory day): no pickup is promised for that day."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["store", "date"]
        constraints = [
            models.UniqueConstraint(fields=["store", "date"], name="storeclosure_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.reason}".strip()


class Category(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    tax_rate = models.DecimalField(
        _("tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text=_("Prices include this tax; every sold line knows its tax share."),
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0, tax_rate__lte=100), name="category_tax_rate_range"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ProductQuerySet(models.QuerySet):
    def active(self) -> ProductQuerySet:
        return self.filter(active=True)


class Product(models.Model):
    """A style: what the customer thinks of as one product, sold in variants."""

    style_code = models.CharField(_("style code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    brand = models.CharField(_("brand"), max_length=100, db_index=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    description = models.TextField(_("description"), blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    image = models.ImageField(_("image"), upload_to="products/", blank=True)
    final_sale = models.BooleanField(
        _("final sale"), default=False, help_text=_("Final-sale products cannot be returned.")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.brand} {self.name}"


class Variant(models.Model):
    """A sellable variant of a product: one SKU, one size and colour, one price."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="variants", verbose_name=_("product")
    )
    sku = models.CharField(
        _("SKU"),
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                _("A SKU is letters, digits, dots, hyphens and underscores."),
            )
        ],
    )
    size = models.CharField(_("size"), max_length=20, blank=True)
    colour = models.CharField(_("colour"), max_length=40, blank=True)
    barcode = models.CharField(
        _("barcode (EAN-13)"),
        max_length=13,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_ean13],
    )
    price = models.DecimalField(
        _("price (tax included)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="variant_price_positive")
        ]

    def __str__(self) -> str:
        details = " / ".join(x for x in (self.size, self.colour) if x)
        return f"{self.sku} {self.product.name}" + (f" ({details})" if details else "")

    # Price history: `save()` records a `PriceChange` when a variant is created or its
    # price differs from the price it was loaded with. `QuerySet.update()` and
    # `bulk_update()` bypass it, so nothing in Aisle changes prices that way; a bulk
    # `bulk_create()` of variants records their first prices with
    # `PriceChange.record_initial(...)` (as the demo seeding does).

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        adding = self._state.adding
        changed = adding or (
            (update_fields is None or "price" in update_fields)
            and "price" in self.__dict__
            and self.price != getattr(self, "_loaded_price", None)
        )
        if not changed:
            return super().save(*args, **kwargs)
        with transaction.atomic(using=kwargs.get("using") or router.db_for_write(Variant)):
            super().save(*args, **kwargs)
            PriceChange.objects.create(variant=self, price=self.price)
        self._loaded_price = self.price

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_price = instance.__dict__.get("price")
        return instance

    def refresh_from_db(self, *args, **kwargs) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._loaded_price = self.__dict__.get("price")


class PriceChange(models.Model):
    """A variant's price from `at` on (recorded from the day Aisle kept history):
    what `retail.prices.lowest_price` reads."""

    variant = models.ForeignKey(
        Variant, on_delete=models.CASCADE, related_name="price_changes", verbose_name=_("variant")
    )
    price = models.DecimalField(_("price (tax included)"), max_digits=10, decimal_places=2)
    at = models.DateTimeField(_("from"), default=timezone.now)

    class Meta:
        verbose_name = _("price change")
        verbose_name_plural = _("price changes")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["variant", "at"], name="pricechange_variant_at_idx")]

    def __str__(self) -> str:
        return f"{self.variant_id} {self.price} @ {self.at:%Y-%m-%d %H:%M}"

    @classmethod
    def record_initial(cls, variant_ids) -> int:
        """Record the current price of those variants that have no history yet (after a
        `bulk_create`); returns how many were recorded."""
        ids = set(variant_ids)
        known = set(
            cls.objects.filter(variant_id__in=ids).values_list("variant_id", flat=True).distinct()
        )
        rows = [
            cls(variant_id=pk, price=price)
            for pk, price in Variant.objects.filter(pk__in=ids - known).values_list("pk", "price")
        ]
        cls.objects.bulk_create(rows, batch_size=2000)
        return len(rows)


# --- The catalogue in other languages --------------------------------------------------
# English is the catalogue's own language (the fields above); each other language of
# `settings.LANGUAGES` may have a translation. Pages read them through
# `retail.catalogue`, which falls back to the English text.


def catalogue_languages() -> list[tuple[str, str]]:
    """The languages a translation can be in: every language Aisle speaks but English."""
    from django.conf import settings

    return [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def _no_blank(value: str, field: str) -> None:
    if not (value or "").strip():
        raise ValidationError({field: _("Give the translated name; it cannot be empty.")})


class ProductTranslation(models.Model):
    """A product's name and description in one language."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="translations", verbose_name=_("product")
    )
    language = models.CharField(_("language"), max_length=10, choices=catalogue_languages)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("product translation")
        verbose_name_plural = _("translations")
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "language"], name="producttranslation_one_per_language"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="producttranslation_name_given"),
        ]

    def __str__(self) -> str:
        return f"{self.language}: {self.name}"

    def clean(self) -> None:
        self.name = (self.name or "").strip()
        self.description = (self.description or "").strip()
        _no_blank(self.name, "name")


class CategoryTranslation(models.Model):
    """A category's name in one language."""

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="translations", verbose_name=_("category")
    )
    language = models.CharField(_("language"), max_length=10, choices=catalogue_languages)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("category translation")
        verbose_name_plural = _("translations")
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "language"], name="categorytranslation_one_per_language"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="categorytranslation_name_given"),
        ]

    def __str__(self) -> str:
        return f"{self.language}: {self.name}"

    def clean(self) -> None:
        self.name = (self.name or "").strip()
        _no_blank(self.name, "name")


class AttributeTranslation(models.Model):
    """One word of the catalogue in another language: an attribute's name ("material")
    or value ("Wool"), a colour ("Navy") or a size ("One Size"), as written in English."""

    source = models.CharField(
        _("English text"),
        max_length=100,
        help_text=_("As the catalogue writes it: an attribute name or value, a colour, a size."),
    )
    language = models.CharField(_("language"), max_length=10, choices=catalogue_languages)
    text = models.CharField(_("translation"), max_length=100)

    class Meta:
        verbose_name = _("attribute translation")
        verbose_name_plural = _("attribute translations")
        ordering = ["source", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "language"], name="attributetranslation_one_per_language"
            ),
            models.CheckConstraint(
                condition=~Q(source="") & ~Q(text=""), name="attributetranslation_given"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.language}: {self.text}"

    def clean(self) -> None:
        self.source = (self.source or "").strip()
        self.text = (self.text or "").strip()
        if not self.source:
            raise ValidationError({"source": _("Give the English text to translate.")})
        if not self.text:
            raise ValidationError({"text": _("Give the translation; it cannot be empty.")})


class CustomerQuerySet(models.QuerySet):
    def search(self, query: str, region: str | None = None) -> CustomerQuerySet:
        """Customers matching part of a name, or exactly a customer_ref, a whole e-mail
        or a whole phone number (see `retail.audit.parse_query`: fewer than three
        characters, or part of an e-mail or phone number, match nobody)."""
        from retail.audit import QueryKind, query_or_none

        parsed = query_or_none(query, region)
        if parsed is None:
            return self.none()
        if parsed.kind == QueryKind.EMAIL:
            condition = Q(email__iexact=parsed.value)
        elif parsed.kind == QueryKind.PHONE:
            condition = Q(phone=parsed.value) | Q(customer_ref__iexact=query.strip())
        else:
            condition = Q(name__icontains=parsed.value) | Q(customer_ref__iexact=parsed.value)
        return self.filter(condition, merged_into__isnull=True, erased_at__isnull=True)


class Customer(models.Model):
    """The one profile behind every channel: web, app, store, kiosk."""

    customer_ref = models.CharField(
        _("customer reference"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text=_("The online channel's id for this customer; empty for walk-ins."),
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    phone = models.CharField(_("phone (E.164)"), max_length=20, blank=True, db_index=True)
    preferred_store = models.ForeignKey(
        Store,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="preferred_customers",
        verbose_name=_("preferred store"),
    )
    language = models.CharField(
        _("language"), max_length=10, default="en", help_text=_("For messages to the customer.")
    )
    sizes = models.JSONField(
        _("sizes"), default=dict, blank=True, help_text=_('For example {"top": "M", "shoe": "42"}.')
    )
    preferences = models.TextField(_("preferences"), blank=True)
    tracking_consent = models.BooleanField(_("tracking consent"), default=False)
    tracking_consent_at = models.DateTimeField(
        _("tracking consent given or withdrawn"), null=True, blank=True
    )
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    marketing_consent_at = models.DateTimeField(
        _("marketing consent given or withdrawn"), null=True, blank=True
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
        verbose_name=_("merged into"),
        help_text=_("Set on a duplicate profile kept as a tombstone after a merge."),
    )
    merged_at = models.DateTimeField(_("merged"), null=True, blank=True)
    erased_at = models.DateTimeField(
        _("erased"),
        null=True,
        blank=True,
        help_text=_("Set when the customer's personal data was erased at their request."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def first_name(self) -> str:
        return self.name.split(" ", 1)[0] if self.name else ""


class StaffProfile(models.Model):
    """Who a staff member is at work: one role, a home store and any other stores."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="staff_profile", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    home_store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="home_staff",
        verbose_name=_("home store"),
    )
    other_stores = models.ManyToManyField(
        Store, blank=True, related_name="visiting_staff", verbose_name=_("other stores")
    )

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        ordering = ["user__email"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    def clean(self) -> None:
        if self.role in (Role.ASSOCIATE, Role.STORE_MANAGER, Role.KIOSK) and not self.home_store_id:
            raise ValidationError({"home_store": _("Store staff and kiosks need a home store.")})


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")


class AuditLog(models.Model):
    """Who did what to which record, when, in which store. Append-only.

    On PostgreSQL a trigger refuses UPDATE and DELETE as well (migration 0002).
    Details never hold personal data: a record is named by its type and id.
    """

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("record type"), max_length=64)
    target_id = models.CharField(_("record id"), max_length=64)
    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
    )
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="auditlog_target_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}#{self.target_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")


# --- Transactional outbox -------------------------------------------------------


class OutboxKind(models.TextChoices):
    TASK = "task", _("Task")
    EVENT = "event", _("Domain event")
    DELIVERY = "delivery", _("Event delivery to one receiver")


class OutboxState(models.TextChoices):
    PENDING = "pending", _("Pending")
    PUBLISHED = "published", _("Published")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class OutboxEntry(models.Model):
    """A side effect recorded in the same transaction as the change that caused it.

    After commit it is published to Celery; a beat task republishes what a broker
    outage (or a lost worker) left behind. Running an entry twice does nothing
    the second time: it is done once, or retried with backoff and finally left
    `failed` for HQ to see and retry.
    """

    kind = models.CharField(_("kind"), max_length=10, choices=OutboxKind.choices)
    name = models.CharField(_("task or event"), max_length=200, db_index=True)
    receiver = models.CharField(_("receiver"), max_length=200, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    key = models.CharField(_("idempotency key"), max_length=200, unique=True, null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=OutboxState.choices, default=OutboxState.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    available_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now, db_index=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    # The Celery queue it runs on ("" is the default queue).
    queue = models.CharField(_("queue"), max_length=50, blank=True)
    # While `running`: a worker holds it until then; after, the beat publishes it again.
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox entry")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "available_at"], name="outbox_due_idx")]

    def __str__(self) -> str:
        target = f"{self.name} → {self.receiver}" if self.receiver else self.name
        return f"#{self.pk} {target} ({self.state})"


class MessageState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboundMessage(models.Model):
    """An e-mail to a customer, logged once per key: the same key never sends twice."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="messages",
        verbose_name=_("customer"),
    )
    template = models.CharField(_("template"), max_length=100)
    key = models.CharField(_("key"), max_length=200, unique=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    # Files sent with it: [{"name", "mimetype", "content" (base64)}] (`message_send`).
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    # How it travels (`retail.messaging` backends: "email" today; an SMS backend can
    # register "sms" and its address, a phone number, lands in `to_address` too).
    channel = models.CharField(_("channel"), max_length=16, default="email")
    to_address = models.EmailField(_("to"), blank=True)
    subject = models.CharField(_("subject"), max_length=250, blank=True)
    body = models.TextField(_("body"), blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=MessageState.choices, default=MessageState.QUEUED
    )
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("queued"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # While `sending`: the one worker talking to the mail server took it then.
    claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.template} ({self.state})"


# --- API clients ------------------------------------------------------------------


class Scope(models.TextChoices):
    EVENTS_WRITE = "events:write", _("Write browsing events and identify visitors")
    CUSTOMERS_READ = "customers:read", _("Read customers")
    CUSTOMERS_WRITE = "customers:write", _("Create and update customers")
    ORDERS_READ = "orders:read", _("Read orders")
    ORDERS_WRITE = "orders:write", _("Create and cancel orders")
    AVAILABILITY_READ = "availability:read", _("Read availability")
    CATALOG_WRITE = "catalog:write", _("Create and update products, variants and prices")
    STOCK_WRITE = "stock:write", _("Record stock receipts, adjustments and counts")
    APPOINTMENTS_READ = "appointments:read", _("Read appointments and bookable slots")
    APPOINTMENTS_WRITE = "appointments:write", _("Book and cancel appointments")


rate_validator = RegexValidator(
    r"^[1-9][0-9]{0,6}/(s|m|h)$",
    _("Write a rate as a number of requests per second, minute or hour: 100/s, 60/m, 5000/h."),
)


def validate_scopes(value) -> None:
    if not isinstance(value, list) or any(s not in Scope.values for s in value):
        raise ValidationError(
            _("Scopes must be a list of: %(scopes)s") % {"scopes": ", ".join(Scope.values)}
        )


# The order channels an API client may be allowed (`orders.models.Channel`'s values).
API_ORDER_CHANNELS = ("web", "app", "store", "kiosk", "social")
API_DEFAULT_CHANNELS = ("web", "app", "social")


def default_api_channels() -> list[str]:
    return list(API_DEFAULT_CHANNELS)


def validate_api_channels(value) -> None:
    if not isinstance(value, list) or not all(c in API_ORDER_CHANNELS for c in value):
        raise ValidationError(
            _("Channels are a list of: %(names)s.") % {"names": ", ".join(API_ORDER_CHANNELS)}
        )


class ApiClient(models.Model):
    """A system calling the API (the web shop, the app, a till). Its key is shown once;
    Aisle keeps the key's prefix (to find it) and its SHA-256 hash (to check it)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    scopes = models.JSONField(_("scopes"), default=list, validators=[validate_scopes])
    key_prefix = models.CharField(_("key prefix"), max_length=16, unique=True)
    key_hash = models.CharField(_("key hash (SHA-256)"), max_length=64)
    is_active = models.BooleanField(_("active"), default=True)
    rate_limit = models.CharField(
        _("rate limit"), max_length=16, default="100/s", validators=[rate_validator]
    )
    webhook_url = models.URLField(_("webhook URL"), blank=True)
    webhook_secret = models.CharField(_("webhook secret"), max_length=100, blank=True)
    # The order channels this client may place orders in (the web shop: not `store`
    # or `kiosk` unless HQ allows it, e.g. for a till).
    channels = models.JSONField(
        _("order channels"),
        default=default_api_channels,
        blank=True,
        validators=[validate_api_channels],
        help_text=_("The channels this client may place orders in."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    rotated_at = models.DateTimeField(_("key rotated"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # Deactivation, new scopes or channels take effect at once: no request may
        # keep using the authentication cache's copy (`retail.api.authentication`).
        from retail.api_clients import forget

        forget(self.key_prefix)

    # DRF treats the authenticated client as the request's user.
    is_authenticated = True
    is_anonymous = False


# The webhook core's rows live in their own module; imported here so Django finds them.
# The security limits' rows (`retail.limits`), likewise.
from retail.action_models import AppliedAction  # noqa: E402, F401
from retail.import_models import ImportJob, ImportState  # noqa: E402, F401
from retail.limit_models import LimitHit  # noqa: E402, F401
from retail.webhook_models import (  # noqa: E402, F401
    WebhookCircuit,
    WebhookDelivery,
    WebhookState,
)
