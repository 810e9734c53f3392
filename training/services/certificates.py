"""Certificates: issued when a quiz is passed, reminded 30 days before they
expire (to the holder and their manager, once), lapsed when they expire, which
lowers the levels they alone were holding up."""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone, translation

from retail import outbox
from retail.models import Role, StaffProfile
from retail.services import audit_record
from training.models import (
    Certification,
    CertificationReminder,
    CertificationStatus,
    CertifiedSkill,
    CourseGrant,
    Enrolment,
    LevelRecord,
    LevelSource,
    ReminderState,
    Track,
)
from training.services.levels import current_levels, level_record, lock_person

logger = logging.getLogger(__name__)

#: Holders and their managers hear about an expiring certificate this long before.
REMIND_BEFORE = dt.timedelta(days=30)
REMINDER_TASK = "training.tasks.reminder_deliver"
#: Course levels that only a certificate holds up (a manager's assessment stands on its own).
CERTIFIED_SOURCES = (LevelSource.COURSE, LevelSource.LAPSE)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _certificate_number(at: dt.datetime) -> str:
    return f"AC-{at:%Y}-{secrets.token_hex(4).upper()}"


@transaction.atomic
def certification_issue(
    *, enrolment: Enrolment, language: str = "en", at: dt.datetime | None = None
) -> Certification:
    """Issue the certificate of a passed course: it vouches for the course's skill
    levels until it expires, and raises each level the person does not yet have.
    A certificate for the same course still valid is renewed (superseded)."""
    at = at or timezone.now()
    user, course = enrolment.user, enrolment.course
    lock_person(user)
    Certification.objects.filter(
        user=user, course=course, status=CertificationStatus.ACTIVE
    ).update(status=CertificationStatus.SUPERSEDED)
    for _try in range(5):
        try:
            with transaction.atomic():
                certification = Certification.objects.create(
                    user=user,
                    course=course,
                    enrolment=enrolment,
                    number=_certificate_number(at),
                    language=language,
                    issued_at=at,
                    expires_at=add_months(at, course.valid_months),
                )
            break
        except IntegrityError:  # a number drawn twice: draw again
            continue
    else:  # pragma: no cover - five clashes in 16^8 numbers
        raise RuntimeError("could not draw a free certificate number")
    grants = list(CourseGrant.objects.filter(course=course).select_related("skill"))
    CertifiedSkill.objects.bulk_create(
        [CertifiedSkill(certification=certification, skill=g.skill, level=g.level) for g in grants]
    )
    levels = current_levels(user_ids=[user.pk])
    open_records = {
        r.skill_id: r
        for r in LevelRecord.objects.current().filter(
            user=user, track=Track.OFFICIAL, skill__in=[g.skill for g in grants]
        )
    }
    raised = {}
    for grant in grants:
        current = levels.get((user.pk, grant.skill_id), 0)
        if grant.level <= current:
            continue
        record = open_records.get(grant.skill_id)
        # The level a person holds without any certificate: what they had before a
        # course first raised it.
        base = (
            record.previous_level
            if record is not None and record.source in CERTIFIED_SOURCES
            else current
        )
        level_record(
            user=user,
            skill=grant.skill,
            level=grant.level,
            track=Track.OFFICIAL,
            source=LevelSource.COURSE,
            by=None,
            certification=certification,
            previous_level=base or 0,
            at=at,
        )
        raised[grant.skill.code] = grant.level
    audit_record(
        actor=user,
        action="training.certify",
        target=certification,
        store=getattr(getattr(user, "staff_profile", None), "home_store", None),
        detail={"course": course.code, "raised": raised},
    )
    return certification


@transaction.atomic
def certification_lapse(*, certification: Certification, now: dt.datetime | None = None) -> int:
    """Lapse an expired certificate. Every level that only this certificate held up
    drops to what other valid certificates still vouch for, or to the level held
    before courses raised it; the old record is closed and kept. Returns how many
    levels dropped."""
    now = now or timezone.now()
    certification = Certification.objects.select_for_update().filter(pk=certification.pk).first()
    if (
        certification is None
        or certification.status != CertificationStatus.ACTIVE
        or certification.expires_at > now
    ):
        return 0
    user = certification.user
    lock_person(user)
    certification.status = CertificationStatus.LAPSED
    certification.lapsed_at = now
    certification.save(update_fields=["status", "lapsed_at"])
    skills = list(
        CertifiedSkill.objects.filter(certification=certification).select_related("skill")
    )
    backed = dict(
        CertifiedSkill.objects.filter(
            certification__user=user,
            certification__status=CertificationStatus.ACTIVE,
            certification__expires_at__gt=now,
            skill__in=[s.skill for s in skills],
        )
        .values("skill_id")
        .annotate(top=Max("level"))
        .values_list("skill_id", "top")
    )
    open_records = {
        r.skill_id: r
        for r in LevelRecord.objects.current().filter(
            user=user, track=Track.OFFICIAL, skill__in=[s.skill for s in skills]
        )
    }
    dropped = {}
    for certified in skills:
        record = open_records.get(certified.skill_id)
        if record is None or record.source not in CERTIFIED_SOURCES:
            continue
        base = record.previous_level or 0
        floor = max(backed.get(certified.skill_id, 0), base)
        if record.level <= floor:
            continue
        level_record(
            user=user,
            skill=certified.skill,
            level=floor,
            track=Track.OFFICIAL,
            source=LevelSource.LAPSE,
            by=None,
            certification=certification,
            previous_level=base,
            note=f"certificate {certification.number} lapsed",
            at=now,
        )
        dropped[certified.skill.code] = floor
    audit_record(
        actor=None,
        action="training.lapse",
        target=certification,
        detail={"course_id": certification.course_id, "dropped": dropped},
    )
    return len(dropped)


def certifications_lapse_due(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Beat: lapse every certificate past its expiry. Safe to run twice."""
    now = now or timezone.now()
    due = Certification.objects.filter(
        status=CertificationStatus.ACTIVE, expires_at__lte=now
    ).order_by("expires_at", "pk")[:limit]
    return sum(1 for c in list(due) if certification_lapse(certification=c, now=now) >= 0)


def _managers_by_store(store_ids) -> dict[int, list[int]]:
    managers: dict[int, list[int]] = {}
    for store_id, user_id in StaffProfile.objects.filter(
        role=Role.STORE_MANAGER, home_store_id__in=list(store_ids), user__is_active=True
    ).values_list("home_store_id", "user_id"):
        managers.setdefault(store_id, []).append(user_id)
    return managers


def reminders_queue(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Beat: for every valid certificate expiring within 30 days, one reminder to the
    holder and one to each manager of their home store, each logged under its own
    key and queued through the outbox, so a second run queues nothing new."""
    now = now or timezone.now()
    expiring = list(
        Certification.objects.valid(now)
        .filter(expires_at__lte=now + REMIND_BEFORE)
        .select_related("user__staff_profile")
        .order_by("expires_at", "pk")[:limit]
    )
    store_ids = {
        c.user.staff_profile.home_store_id
        for c in expiring
        if hasattr(c.user, "staff_profile") and c.user.staff_profile.home_store_id
    }
    managers = _managers_by_store(store_ids)
    wanted = {}
    for cert in expiring:
        profile = getattr(cert.user, "staff_profile", None)
        recipients = [cert.user_id]
        if profile is not None and profile.home_store_id:
            recipients += [m for m in managers.get(profile.home_store_id, []) if m != cert.user_id]
        for recipient_id in recipients:
            wanted[f"cert-expiring:{cert.pk}:{recipient_id}"] = (cert.pk, recipient_id)
    known = set(
        CertificationReminder.objects.filter(key__in=list(wanted)).values_list("key", flat=True)
    )
    queued = 0
    for key, (cert_id, recipient_id) in wanted.items():
        if key in known:
            continue
        with transaction.atomic():
            reminder, created = CertificationReminder.objects.get_or_create(
                key=key,
                defaults={"certification_id": cert_id, "recipient_id": recipient_id},
            )
            if created:
                outbox.enqueue_task(
                    REMINDER_TASK,
                    kwargs={"reminder_id": reminder.pk},
                    key=f"training-reminder:{reminder.pk}",
                )
                queued += 1
    return queued


def reminder_deliver(*, reminder_id: int) -> None:
    """Send one reminder e-mail, once: a second run finds it sent."""
    with transaction.atomic():
        reminder = (
            CertificationReminder.objects.select_for_update()
            .select_related("certification__course", "certification__user", "recipient")
            .filter(pk=reminder_id)
            .first()
        )
        if reminder is None or reminder.state == ReminderState.SENT:
            return
        certification = reminder.certification
        if not reminder.recipient.email:
            reminder.state = ReminderState.FAILED
            reminder.error = "The recipient has no e-mail address."
            reminder.save(update_fields=["state", "error"])
            return
        language = certification.language or settings.LANGUAGE_CODE
        with translation.override(language):
            from django.db.models import Prefetch

            from training.models import Course, CourseText

            course = Course.objects.prefetch_related(
                Prefetch("texts", queryset=CourseText.objects.all())
            ).get(pk=certification.course_id)
            text = course.text_for(language)
            context = {
                "certification": certification,
                "holder": certification.user,
                "recipient": reminder.recipient,
                "is_holder": reminder.recipient_id == certification.user_id,
                "course_title": text.title if text else course.code,
                "expires": timezone.localtime(certification.expires_at),
            }
            subject = " ".join(
                render_to_string("training/email/reminder_subject.txt", context).split()
            )
            body = render_to_string("training/email/reminder.txt", context)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [reminder.recipient.email])
        reminder.state = ReminderState.SENT
        reminder.sent_at = timezone.now()
        reminder.error = ""
        reminder.save(update_fields=["state", "sent_at", "error"])
        logger.info("training reminder %s sent", reminder.pk)


def reminder_failed(*, reminder_id: int, error: str, final: bool) -> None:
    """The outbox's report of a failed delivery: noted on the reminder; `failed` once
    the outbox gives up (HQ sees it in admin and can retry the outbox entry)."""
    changes = {"error": error[:4000]}
    if final:
        changes["state"] = ReminderState.FAILED
    CertificationReminder.objects.filter(pk=reminder_id).exclude(state=ReminderState.SENT).update(
        **changes
    )
