"""Training: the skill framework, role requirements, levels with their history,
courses with quizzes, enrolments, certifications and the operations they gate.

Language-neutral records (a course's skills, pass mark, attempts) sit apart from
what is written per language (`CourseText` with its modules and quiz), so a
course exists once and reads in English or in Chinese.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    FileExtensionValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from retail.models import Role, Store

LEVEL_MIN, LEVEL_MAX = 0, 4


class Level(models.IntegerChoices):
    """How well a person does a skill: the program's five levels."""

    NONE = 0, _("None")
    AWARE = 1, _("Aware")
    PRACTITIONER = 2, _("Practitioner")
    EXPERT = 3, _("Expert")
    COACH = 4, _("Coach")


def level_validators(minimum: int = LEVEL_MIN) -> list:
    return [
        MinValueValidator(minimum, _("A level is a whole number from 0 to 4.")),
        MaxValueValidator(LEVEL_MAX, _("A level is a whole number from 0 to 4.")),
    ]


def level_check(field: str, name: str, minimum: int = LEVEL_MIN) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": minimum, f"{field}__lte": LEVEL_MAX}), name=name
    )


#: The roles that have training requirements (HQ and kiosks have none).
TRAINED_ROLES = [
    (Role.ASSOCIATE.value, Role.ASSOCIATE.label),
    (Role.STORE_MANAGER.value, Role.STORE_MANAGER.label),
]

#: Course texts exist in the languages the interface speaks.
LANGUAGE_CHOICES = [(code, name) for code, name in settings.LANGUAGES]


def _chinese() -> bool:
    return (translation.get_language() or "").lower().startswith("zh")


class Localised:
    """`obj.tr("name")`: the Chinese field (`name_zh`) when the interface speaks
    Chinese and it is filled in, else the English one."""

    def tr(self, field: str) -> str:
        if _chinese():
            value = getattr(self, f"{field}_zh", "")
            if value:
                return value
        return getattr(self, field)


# --- The skill framework ------------------------------------------------------


class SkillArea(Localised, models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("skill area")
        verbose_name_plural = _("skill areas")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return self.tr("name")


class Skill(Localised, models.Model):
    area = models.ForeignKey(
        SkillArea, on_delete=models.PROTECT, related_name="skills", verbose_name=_("area")
    )
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["area__position", "position", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return self.tr("name")


class LevelDescriptor(Localised, models.Model):
    """What a person at this level of this skill can do, in plain words."""

    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="descriptors", verbose_name=_("skill")
    )
    level = models.PositiveSmallIntegerField(
        _("level"), choices=Level.choices, validators=level_validators()
    )
    text = models.TextField(_("what a person at this level can do"))
    text_zh = models.TextField(_("the same, in Chinese"), blank=True)

    class Meta:
        verbose_name = _("level description")
        verbose_name_plural = _("level descriptions")
        ordering = ["skill", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["skill", "level"], name="leveldescriptor_one_per_level"
            ),
            level_check("level", "leveldescriptor_level_range"),
        ]

    def __str__(self) -> str:
        return f"{self.skill} {self.level}"


class Requirement(models.Model):
    """The level a role needs in a skill: network-wide, or overridden for one store."""

    role = models.CharField(_("role"), max_length=20, choices=TRAINED_ROLES)
    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="requirements", verbose_name=_("skill")
    )
    store = models.ForeignKey(
        Store,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
        help_text=_("Leave empty for the whole network; a store's own row overrides it."),
    )
    level = models.PositiveSmallIntegerField(
        _("required level"), choices=Level.choices, validators=level_validators()
    )

    class Meta:
        verbose_name = _("role requirement")
        verbose_name_plural = _("role requirements")
        ordering = ["role", "skill__area__position", "skill__position", "store__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["role", "skill"],
                condition=Q(store__isnull=True),
                name="requirement_one_network_row",
            ),
            models.UniqueConstraint(
                fields=["store", "role", "skill"],
                condition=Q(store__isnull=False),
                name="requirement_one_store_row",
            ),
            level_check("level", "requirement_level_range"),
        ]

    def __str__(self) -> str:
        where = self.store.code if self.store_id else _("network")
        return f"{self.get_role_display()} · {self.skill} ≥ {self.level} ({where})"


# --- Levels and their history ----------------------------------------------------


class Track(models.TextChoices):
    """Two separate records per skill: what counts (manager, courses) and what the
    person thinks of themselves."""

    OFFICIAL = "official", _("Assessed")
    SELF = "self", _("Self-assessed")


class LevelSource(models.TextChoices):
    SELF = "self", _("Self-assessment")
    MANAGER = "manager", _("Manager assessment")
    COURSE = "course", _("Course passed")
    LAPSE = "lapse", _("Certificate lapsed")
    INITIAL = "initial", _("Initial record")


class LevelRecordQuerySet(models.QuerySet):
    def current(self) -> LevelRecordQuerySet:
        return self.filter(valid_to__isnull=True)

    def official(self) -> LevelRecordQuerySet:
        return self.filter(track=Track.OFFICIAL)

    def at(self, moment) -> LevelRecordQuerySet:
        """The records in force at `moment`."""
        return self.filter(valid_from__lte=moment).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=moment)
        )


class LevelRecord(models.Model):
    """One level of one person in one skill, from `valid_from` until `valid_to`.

    A level is never overwritten: a new assessment closes the open record and
    opens a new one, so progress over time can be shown.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="skill_levels",
        verbose_name=_("person"),
    )
    skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="levels", verbose_name=_("skill")
    )
    track = models.CharField(_("track"), max_length=10, choices=Track.choices)
    level = models.PositiveSmallIntegerField(
        _("level"), choices=Level.choices, validators=level_validators()
    )
    source = models.CharField(_("source"), max_length=10, choices=LevelSource.choices)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assessed by"),
    )
    certification = models.ForeignKey(
        "Certification",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="level_records",
        verbose_name=_("certificate"),
    )
    previous_level = models.PositiveSmallIntegerField(
        _("level before"), null=True, blank=True, validators=level_validators()
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    valid_from = models.DateTimeField(_("from"), default=timezone.now)
    valid_to = models.DateTimeField(_("until"), null=True, blank=True)

    objects = LevelRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("skill level record")
        verbose_name_plural = _("skill level history")
        ordering = ["user", "skill", "-valid_from", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "skill", "track"],
                condition=Q(valid_to__isnull=True),
                name="levelrecord_one_open_per_track",
            ),
            level_check("level", "levelrecord_level_range"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="levelrecord_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["track", "valid_to", "skill"], name="levelrecord_track_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.skill}: {self.level} ({self.get_track_display()})"


# --- Courses ---------------------------------------------------------------------


class Course(models.Model):
    """A short course: its content is written per language in `CourseText`."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    area = models.ForeignKey(
        SkillArea, on_delete=models.PROTECT, related_name="courses", verbose_name=_("area")
    )
    estimated_minutes = models.PositiveSmallIntegerField(
        _("estimated time (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"), default=80, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    max_attempts = models.PositiveSmallIntegerField(
        _("quiz attempts allowed"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    valid_months = models.PositiveSmallIntegerField(
        _("certificate valid for (months)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    onboarding_position = models.PositiveSmallIntegerField(
        _("onboarding step"),
        null=True,
        blank=True,
        help_text=_("Set to put the course on every new starter's path, in this order."),
    )
    onboarding_due_days = models.PositiveSmallIntegerField(
        _("onboarding due after (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    is_active = models.BooleanField(_("offered"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["area__position", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(pass_mark__gte=1, pass_mark__lte=100), name="course_pass_mark_range"
            ),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="course_attempts_min"),
        ]

    def __str__(self) -> str:
        return self.code

    def text_for(self, language: str | None = None) -> CourseText | None:
        """The course's text in `language` (default: the active one), else in English,
        else any. Uses prefetched `texts` when present."""
        language = (language or translation.get_language() or "en").lower()
        texts = list(self.texts.all())
        for wanted in (language, language.split("-")[0], settings.LANGUAGE_CODE):
            for text in texts:
                if text.language == wanted or text.language.split("-")[0] == wanted:
                    return text
        return texts[0] if texts else None


class CourseGrant(models.Model):
    """Passing the course raises this skill to (at least) this level."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="grants", verbose_name=_("course")
    )
    skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="granted_by", verbose_name=_("skill")
    )
    level = models.PositiveSmallIntegerField(
        _("level on passing"), choices=Level.choices[1:], validators=level_validators(1)
    )

    class Meta:
        verbose_name = _("skill the course grants")
        verbose_name_plural = _("skills the course grants")
        ordering = ["course", "skill__position"]
        constraints = [
            models.UniqueConstraint(fields=["course", "skill"], name="coursegrant_one_per_skill"),
            level_check("level", "coursegrant_level_range", minimum=1),
        ]

    def __str__(self) -> str:
        return f"{self.skill} → {self.level}"


class CourseText(models.Model):
    """A course written in one language: its title, summary, modules and quiz."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="texts", verbose_name=_("course")
    )
    language = models.CharField(_("language"), max_length=10, choices=LANGUAGE_CHOICES)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"))

    class Meta:
        verbose_name = _("course text")
        verbose_name_plural = _("course texts")
        ordering = ["course", "language"]
        constraints = [
            models.UniqueConstraint(fields=["course", "language"], name="coursetext_one_per_lang")
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})"


ILLUSTRATIONS = [
    ("journey", _("A customer's journey across channels")),
    ("brand", _("One brand, many touchpoints")),
    ("tablet", _("The associate's tablet")),
    ("dashboard", _("A dashboard of figures")),
    ("coaching", _("Two people in a coaching talk")),
    ("privacy", _("A padlock over a customer profile")),
    ("aisle", _("Shelves that reach beyond the store")),
    ("pickup", _("A pickup parcel and its code")),
    ("returns", _("A parcel coming back")),
]


class Module(models.Model):
    """One short part of a course: text, an illustration or image, an optional video."""

    text = models.ForeignKey(
        CourseText, on_delete=models.CASCADE, related_name="modules", verbose_name=_("course text")
    )
    position = models.PositiveSmallIntegerField(_("position"), validators=[MinValueValidator(1)])
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(
        _("text"), help_text=_("Plain text; an empty line starts a new paragraph.")
    )
    illustration = models.CharField(
        _("illustration"), max_length=20, choices=ILLUSTRATIONS, blank=True
    )
    image = models.FileField(
        _("image"),
        upload_to="training/modules/",
        blank=True,
        validators=[FileExtensionValidator(["png", "jpg", "jpeg", "webp", "svg"])],
        help_text=_("Shown instead of the illustration when given."),
    )
    image_alt = models.CharField(_("image description"), max_length=200, blank=True)
    video_url = models.URLField(_("video link"), blank=True)

    class Meta:
        verbose_name = _("module")
        verbose_name_plural = _("modules")
        ordering = ["text", "position"]
        constraints = [
            models.UniqueConstraint(fields=["text", "position"], name="module_one_per_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="module_position_min"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"

    @property
    def illustration_path(self) -> str:
        return f"training/img/{self.illustration}.svg" if self.illustration else ""


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("One answer")
    MULTIPLE = "multiple", _("Several answers")


class Question(models.Model):
    text = models.ForeignKey(
        CourseText,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("course text"),
    )
    position = models.PositiveSmallIntegerField(_("position"), validators=[MinValueValidator(1)])
    prompt = models.TextField(_("question"))
    kind = models.CharField(
        _("kind"), max_length=10, choices=QuestionKind.choices, default=QuestionKind.SINGLE
    )

    class Meta:
        verbose_name = _("quiz question")
        verbose_name_plural = _("quiz questions")
        ordering = ["text", "position"]
        constraints = [
            models.UniqueConstraint(fields=["text", "position"], name="question_one_per_position")
        ]

    def __str__(self) -> str:
        return self.prompt[:80]


class Choice(models.Model):
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="choices", verbose_name=_("question")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    text = models.CharField(_("answer"), max_length=300)
    is_correct = models.BooleanField(_("correct"), default=False)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["question", "position", "pk"]

    def __str__(self) -> str:
        return self.text


# --- Enrolments and quiz attempts -------------------------------------------------


class EnrolmentSource(models.TextChoices):
    SELF = "self", _("Enrolled themselves")
    ASSIGNED = "assigned", _("Assigned by a manager")
    ONBOARDING = "onboarding", _("Onboarding path")
    GAPS = "gaps", _("Close my gaps")


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", _("In progress")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Attempts used up")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class EnrolmentQuerySet(models.QuerySet):
    def active(self) -> EnrolmentQuerySet:
        return self.filter(status=EnrolmentStatus.ACTIVE)

    def overdue(self, today) -> EnrolmentQuerySet:
        return self.active().filter(due_date__lt=today)


class Enrolment(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="enrolments",
        verbose_name=_("learner"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("course")
    )
    source = models.CharField(_("how"), max_length=12, choices=EnrolmentSource.choices)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=EnrolmentStatus.choices,
        default=EnrolmentStatus.ACTIVE,
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    due_date = models.DateField(_("due"), null=True, blank=True)
    modules_done = models.PositiveSmallIntegerField(_("modules done"), default=0)
    enrolled_at = models.DateTimeField(_("enrolled"), default=timezone.now)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    feedback = models.TextField(_("feedback"), blank=True)
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["-enrolled_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course"],
                condition=Q(status="active"),
                name="enrolment_one_active_per_course",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="enrolment_rating_range",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="enrolment_due_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.course} ({self.status})"

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return bool(
            self.status == EnrolmentStatus.ACTIVE and self.due_date and self.due_date < today
        )


class Attempt(models.Model):
    """One go at a course's quiz. The order of its questions and answers is drawn
    when it starts and kept here, so the page and the marking agree."""

    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("enrolment")
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    language = models.CharField(_("language"), max_length=10)
    order = models.JSONField(_("order shown"), default=list)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    score = models.PositiveSmallIntegerField(_("score (%)"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)

    class Meta:
        verbose_name = _("quiz attempt")
        verbose_name_plural = _("quiz attempts")
        ordering = ["enrolment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "number"], name="attempt_number_unique"),
            models.UniqueConstraint(
                fields=["enrolment"],
                condition=Q(submitted_at__isnull=True),
                name="attempt_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment} #{self.number}"


# --- Certifications ----------------------------------------------------------------


class CertificationStatus(models.TextChoices):
    ACTIVE = "active", _("Valid")
    SUPERSEDED = "superseded", _("Renewed")
    LAPSED = "lapsed", _("Lapsed")


class CertificationQuerySet(models.QuerySet):
    def valid(self, now=None) -> CertificationQuerySet:
        return self.filter(status=CertificationStatus.ACTIVE, expires_at__gt=now or timezone.now())


class Certification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="certifications",
        verbose_name=_("holder"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="certifications", verbose_name=_("course")
    )
    enrolment = models.OneToOneField(
        Enrolment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="certification",
        verbose_name=_("enrolment"),
    )
    number = models.CharField(_("certificate number"), max_length=32, unique=True)
    language = models.CharField(_("language"), max_length=10, default="en")
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), db_index=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=CertificationStatus.choices,
        default=CertificationStatus.ACTIVE,
    )
    lapsed_at = models.DateTimeField(_("lapsed"), null=True, blank=True)

    objects = CertificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("issued_at")),
                name="certification_expires_later",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.course} · {self.user}"


class CertifiedSkill(models.Model):
    """A skill level a certificate vouches for while it is valid (copied from the
    course's grants when it was issued, so later edits do not change it)."""

    certification = models.ForeignKey(
        Certification,
        on_delete=models.CASCADE,
        related_name="skills",
        verbose_name=_("certificate"),
    )
    skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="+", verbose_name=_("skill")
    )
    level = models.PositiveSmallIntegerField(
        _("level"), choices=Level.choices[1:], validators=level_validators(1)
    )

    class Meta:
        verbose_name = _("certified skill")
        verbose_name_plural = _("certified skills")
        constraints = [
            models.UniqueConstraint(fields=["certification", "skill"], name="certifiedskill_unique")
        ]

    def __str__(self) -> str:
        return f"{self.skill} {self.level}"


class ReminderState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class CertificationReminder(models.Model):
    """A reminder e-mail to a holder or their manager, logged once per key."""

    certification = models.ForeignKey(
        Certification,
        on_delete=models.CASCADE,
        related_name="reminders",
        verbose_name=_("certificate"),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=20, default="expiring")
    key = models.CharField(_("key"), max_length=120, unique=True)
    state = models.CharField(
        _("state"), max_length=10, choices=ReminderState.choices, default=ReminderState.QUEUED
    )
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("certificate reminder")
        verbose_name_plural = _("certificate reminders")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.key


# --- Gated operations ------------------------------------------------------------


operation_code_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{1,63}$",
    _("An operation name is lower-case letters, digits and underscores, e.g. outreach_send."),
)


class OperationRule(models.Model):
    """HQ's rule: doing `operation` needs a valid certificate for this skill level.
    An operation without an active rule is allowed to everyone the screen lets in."""

    operation = models.CharField(
        _("operation"), max_length=64, unique=True, validators=[operation_code_validator]
    )
    skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, related_name="operation_rules", verbose_name=_("skill")
    )
    level = models.PositiveSmallIntegerField(
        _("certified level needed"), choices=Level.choices[1:], validators=level_validators(1)
    )
    description = models.CharField(
        _("description"),
        max_length=200,
        blank=True,
        help_text=_("What the operation is, for operations Aisle does not name itself."),
    )
    is_active = models.BooleanField(_("enforced"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("operation rule")
        verbose_name_plural = _("operation rules")
        ordering = ["operation"]
        constraints = [level_check("level", "operationrule_level_range", minimum=1)]

    def __str__(self) -> str:
        return f"{self.operation}: {self.skill} ≥ {self.level}"


class GateOverride(models.Model):
    """A manager lets one person do one gated operation once, with a reason."""

    operation = models.CharField(_("operation"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="gate_overrides",
        verbose_name=_("for"),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("granted by"),
    )
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("granted"), default=timezone.now)
    expires_at = models.DateTimeField(_("usable until"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    used_on = models.CharField(_("used on"), max_length=140, blank=True)

    class Meta:
        verbose_name = _("manager override")
        verbose_name_plural = _("manager overrides")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.operation} · {self.user}"


# --- Onboarding and network snapshots ------------------------------------------------


class Onboarding(models.Model):
    """Marks that a person's onboarding path was set up (it is set up once)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="training_onboarding",
        verbose_name=_("person"),
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)

    class Meta:
        verbose_name = _("onboarding")
        verbose_name_plural = _("onboardings")

    def __str__(self) -> str:
        return str(self.user)


class SkillSnapshot(models.Model):
    """How a store stood in a skill area at the end of a quarter: the pairs of
    (person, required skill) and how many of them met the requirement."""

    quarter_end = models.DateField(_("quarter ending"))
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("store")
    )
    area = models.ForeignKey(
        SkillArea, on_delete=models.CASCADE, related_name="+", verbose_name=_("area")
    )
    required = models.PositiveIntegerField(_("requirements"))
    met = models.PositiveIntegerField(_("requirements met"))
    taken_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        verbose_name = _("skills snapshot")
        verbose_name_plural = _("skills snapshots")
        ordering = ["-quarter_end", "store", "area"]
        constraints = [
            models.UniqueConstraint(
                fields=["quarter_end", "store", "area"], name="skillsnapshot_unique"
            ),
            models.CheckConstraint(condition=Q(met__lte=models.F("required")), name="snapshot_met"),
        ]

    def __str__(self) -> str:
        return f"{self.quarter_end} {self.store_id} {self.area_id}"


def validate_question_choices(kind: str, flags: list[bool]) -> None:
    """A question has at least two answers; one answer questions exactly one correct,
    several-answer questions at least one."""
    if len(flags) < 2:
        raise ValidationError(_("A question needs at least two answers."))
    correct = sum(1 for f in flags if f)
    if kind == QuestionKind.SINGLE and correct != 1:
        raise ValidationError(_("A one-answer question needs exactly one correct answer."))
    if kind == QuestionKind.MULTIPLE and correct < 1:
        raise ValidationError(_("Mark at least one answer as correct."))
