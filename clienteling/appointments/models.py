"""Appointment models: what can be booked (topics offered per store), when associates
work, and the bookings with their history and the items set aside for them.

Times of bookings are stored in UTC; working hours and exceptions are wall-clock
times in the store's time zone (`store.tz`), as `retail.OpeningHours` are.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import StockLocation
from retail.models import ApiClient, Customer, Store, Variant, Weekday
from training.models import Level, Localised, Skill, level_validators


class Topic(Localised, models.Model):
    """What a customer can book (a fitting, a styling session, a product demo): HQ
    edits it in admin, in English and Chinese (`tr("name")`, as training's skills)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    minutes = models.PositiveSmallIntegerField(
        _("minutes"), validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        _("buffer (minutes)"),
        default=0,
        validators=[MaxValueValidator(120)],
        help_text=_("Time the associate needs after each appointment before the next one."),
    )
    skill = models.ForeignKey(
        Skill,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("skill needed"),
        help_text=_("Empty: any associate of the store may take it."),
    )
    level = models.PositiveSmallIntegerField(
        _("level needed"),
        choices=Level.choices,
        default=Level.PRACTITIONER,
        validators=level_validators(),
    )
    certified = models.BooleanField(
        _("certificate needed"),
        default=False,
        help_text=_(
            "The associate needs a valid certificate for the skill at this level, not only "
            "an assessed level."
        ),
    )
    set_aside = models.BooleanField(
        _("items can be set aside"),
        default=False,
        help_text=_("The customer may choose items that the store reserves for the visit."),
    )
    active = models.BooleanField(_("active"), default=True)
    stores = models.ManyToManyField(
        Store,
        through="TopicOffering",
        related_name="+",
        verbose_name=_("stores"),
        blank=True,
    )

    class Meta:
        verbose_name = _("appointment topic")
        verbose_name_plural = _("appointment topics")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return self.tr("name")


class TopicOffering(models.Model):
    """A store offers a topic."""

    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, related_name="offerings", verbose_name=_("topic")
    )
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("store")
    )
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("topic offered")
        verbose_name_plural = _("topics offered")
        constraints = [
            models.UniqueConstraint(fields=["topic", "store"], name="topicoffering_once")
        ]

    def __str__(self) -> str:
        return f"{self.topic} @ {self.store}"


class WorkingHours(models.Model):
    """When an associate works at a store on one weekday (store time), with an
    optional break. A weekday without a row is a day off."""

    associate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="working_hours",
        verbose_name=_("associate"),
    )
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("store")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"))
    break_starts = models.TimeField(_("break starts"), null=True, blank=True)
    break_ends = models.TimeField(_("break ends"), null=True, blank=True)

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["store", "associate", "weekday"]
        constraints = [
            models.UniqueConstraint(
                fields=["associate", "weekday"], name="workinghours_one_per_day"
            ),
            models.CheckConstraint(
                condition=Q(starts__lt=models.F("ends")), name="workinghours_starts_before_ends"
            ),
            models.CheckConstraint(
                condition=(Q(break_starts__isnull=True) & Q(break_ends__isnull=True))
                | (
                    Q(break_starts__gte=models.F("starts"))
                    & Q(break_starts__lt=models.F("break_ends"))
                    & Q(break_ends__lte=models.F("ends"))
                ),
                name="workinghours_break_inside",
            ),
        ]

    def __str__(self) -> str:
        hours = f"{self.starts:%H:%M}–{self.ends:%H:%M}"
        return f"{self.associate} {self.get_weekday_display()} {hours}"

    def clean(self) -> None:
        if self.starts and self.ends and self.starts >= self.ends:
            raise ValidationError({"ends": _("The working day must end after it starts.")})
        if (self.break_starts is None) != (self.break_ends is None):
            raise ValidationError({"break_ends": _("A break needs a start and an end.")})
        complete = self.break_starts and self.break_ends and self.starts and self.ends
        if complete and not (self.starts <= self.break_starts < self.break_ends <= self.ends):
            raise ValidationError(
                {"break_starts": _("The break must lie inside the working hours.")}
            )


class ExceptionKind(models.TextChoices):
    LEAVE = "leave", _("Leave")
    TRAINING = "training", _("Training day")
    OTHER = "other", _("Other")


class WorkingException(models.Model):
    """An associate does not take appointments: leave, a training day. From `starts_on`
    to `ends_on` (both included), the whole day, or between two times (store time)
    on each of those days."""

    associate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="working_exceptions",
        verbose_name=_("associate"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ExceptionKind.choices)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    starts = models.TimeField(_("from time"), null=True, blank=True)
    ends = models.TimeField(_("until time"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("working exception")
        verbose_name_plural = _("working exceptions")
        ordering = ["-starts_on", "associate"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=models.F("ends_on")), name="workingexception_dates"
            ),
            models.CheckConstraint(
                condition=(Q(starts__isnull=True) & Q(ends__isnull=True))
                | Q(starts__lt=models.F("ends")),
                name="workingexception_times",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.associate} {self.get_kind_display()} {self.starts_on}–{self.ends_on}"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.starts_on > self.ends_on:
            raise ValidationError({"ends_on": _("The exception must end on or after its start.")})
        if (self.starts is None) != (self.ends is None):
            raise ValidationError({"ends": _("Give both times, or neither for whole days.")})
        if self.starts and self.ends and self.starts >= self.ends:
            raise ValidationError({"ends": _("The exception must end after it starts.")})


class AppointmentState(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")


#: The customer's rating of a visit.
RATING_MIN, RATING_MAX = 1, 5

#: States in which an appointment holds its associate's time.
HOLDING_STATES = (AppointmentState.BOOKED, AppointmentState.CHECKED_IN)


class AppointmentSource(models.TextChoices):
    API = "api", _("Online channel")
    KIOSK = "kiosk", _("Kiosk")
    TABLET = "tablet", _("Tablet")


class AppointmentQuerySet(models.QuerySet):
    def holding(self) -> AppointmentQuerySet:
        """Appointments that take their associate's time (booked or checked in)."""
        return self.filter(state__in=HOLDING_STATES)

    def overlapping(self, start, end) -> AppointmentQuerySet:
        """Appointments whose busy time (start to end plus buffer) meets [start, end)."""
        return self.filter(start__lt=end, busy_until__gt=start)


class Appointment(models.Model):
    """A customer's booking with an associate at a store."""

    appointment_ref = models.CharField(_("reference"), max_length=64, unique=True)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("customer"),
        help_text=_("Empty once the customer's data was erased."),
    )
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("topic")
    )
    associate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="appointments",
        verbose_name=_("associate"),
    )
    start = models.DateTimeField(_("starts"))
    end = models.DateTimeField(_("ends"))
    busy_until = models.DateTimeField(
        _("associate busy until"), help_text=_("The end plus the topic's buffer.")
    )
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=AppointmentState.choices,
        default=AppointmentState.BOOKED,
    )
    code = models.CharField(_("check-in code"), max_length=8)
    note = models.CharField(_("note"), max_length=500, blank=True)
    source = models.CharField(_("booked through"), max_length=10, choices=AppointmentSource.choices)
    api_client = models.ForeignKey(
        ApiClient,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API client"),
    )
    fingerprint = models.CharField(_("request fingerprint"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(RATING_MIN), MaxValueValidator(RATING_MAX)],
        help_text=_("The customer's rating of the visit, 1 to 5, from the thank-you e-mail."),
    )
    rating_comment = models.TextField(_("comment"), max_length=1000, blank=True)
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["-start", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")), name="appointment_starts_before_end"
            ),
            models.CheckConstraint(
                condition=Q(busy_until__gte=models.F("end")), name="appointment_busy_after_end"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True)
                | Q(rating__gte=RATING_MIN, rating__lte=RATING_MAX),
                name="appointment_rating_range",
            ),
            # A kiosk finds an open appointment by its code: one per store at a time.
            models.UniqueConstraint(
                fields=["store", "code"],
                condition=Q(state__in=HOLDING_STATES),
                name="appointment_open_code_once",
            ),
        ]
        indexes = [
            models.Index(fields=["associate", "start"], name="appointment_associate_idx"),
            models.Index(fields=["store", "start"], name="appointment_store_idx"),
            models.Index(fields=["state", "end"], name="appointment_state_end_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_ref} ({self.get_state_display()})"


class AppointmentEvent(models.Model):
    """The appointment's history: who, when, from → to, why."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="events", verbose_name=_("appointment")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    kind = models.CharField(_("event"), max_length=40)
    from_state = models.CharField(_("from"), max_length=12, blank=True)
    to_state = models.CharField(_("to"), max_length=12, blank=True)
    reason = models.CharField(_("why"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("appointment event")
        verbose_name_plural = _("appointment events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.from_state}→{self.to_state}"


class SetAsideState(models.TextChoices):
    HELD = "held", _("Held")
    RELEASED = "released", _("Released")
    TAKEN = "taken", _("Taken")


class SetAside(models.Model):
    """Units of a SKU the store reserves (through the stock ledger) for an appointment."""

    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.CASCADE,
        related_name="set_asides",
        verbose_name=_("appointment"),
    )
    variant = models.ForeignKey(
        Variant, on_delete=models.PROTECT, related_name="+", verbose_name=_("variant")
    )
    quantity = models.PositiveSmallIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    state = models.CharField(
        _("state"), max_length=10, choices=SetAsideState.choices, default=SetAsideState.HELD
    )
    location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("held at")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("item set aside")
        verbose_name_plural = _("items set aside")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="setaside_quantity_positive")
        ]
        indexes = [models.Index(fields=["location", "variant", "state"], name="setaside_level_idx")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.variant_id} ({self.get_state_display()})"

    @property
    def source(self) -> str:
        """The ledger rows' source: which set-aside reserved or released the units."""
        return f"appointment:{self.appointment_id}:{self.pk}"
