"""Demo data for training: the program (framework, requirements, rules, courses in
English and Chinese), new starters on their onboarding path, and for every other
store staff member a varied history: levels assessed over the last 15 months,
a self-assessment, courses passed (some certificates expiring soon), courses
under way (some assigned, some overdue), a few used up, ratings and feedback;
then the last four quarters' snapshots for the network trend.

Everything is keyed by person: someone who already has training records is left
alone, so running it twice duplicates nothing. `associate.s01@demo.aisle` is
kept with a gap in pickup (BOPIS) and no pickup or returns course, for the
browser test and for trying the gates by hand (they hold the outreach and endless-aisle
certificates the customer page and the cart ask for). Every store manager holds a valid
returns certificate, so the demo managers may approve returns (`return_approve`).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db.models import Prefetch
from django.utils import timezone

from retail.demo import DEMO_DOMAIN, DEMO_PASSWORD, DemoContext, person_name, staff_email
from retail.models import Role, StaffProfile, Store, User
from training import services
from training.models import (
    Attempt,
    Certification,
    CertifiedSkill,
    Choice,
    Course,
    CourseText,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    LevelRecord,
    LevelSource,
    Onboarding,
    Question,
    Skill,
    Track,
)
from training.services.certificates import add_months
from training.services.gaps import last_quarter_ends
from training.services.levels import requirement_table
from training.services.pagecache import data_changed as pages_changed

TRAINED = (Role.ASSOCIATE, Role.STORE_MANAGER)
#: New starters per store (they get the onboarding path and no history).
STARTERS = {"small": 1, "large": 2}
SHOWCASE = staff_email("associate", "S01")
SHOWCASE_SKIPS = {"pickup-done-right", "returns-any-store"}
#: The courses the showcase associate has passed, for the gates the demo walks through
#: (`outreach_send`, `aisle_delivery_order`).
SHOWCASE_CERTIFIED = {"clienteling-with-consent", "endless-aisle"}
#: The course every demo store manager has passed: it certifies `return_approve`.
MANAGER_COURSE = "returns-any-store"
HISTORY_DAYS = 450
FEEDBACK = [
    ("Short and to the point; I could do it between customers.", 5),
    ("The quiz made me go back and reread the module, which was useful.", 4),
    ("More real examples from our stores, please.", 3),
    ("Clear pictures, clear steps. The part about the pickup code was new to me.", 5),
    ("课程很实用，平板上学习也很方便。", 5),
    ("希望多一些真实门店的案例。", 4),
    ("Good, but the second module felt long on the tablet.", 3),
]


def seed(ctx: DemoContext) -> None:
    ctx.step("Training: skill framework, requirements, operation rules and courses (en, zh)")
    created = services.content_sync()
    ctx.write(f"    installed {created}")
    stores = list(Store.objects.order_by("code"))
    starters = _seed_starters(ctx, stores)
    people = list(
        StaffProfile.objects.filter(
            role__in=TRAINED,
            home_store__isnull=False,
            user__email__endswith=f"@{DEMO_DOMAIN}",
        )
        .exclude(user__in=starters)
        .select_related("user")
        .order_by("pk")
    )
    with_records = set(
        LevelRecord.objects.filter(user__in=[p.user for p in people])
        .values_list("user_id", flat=True)
        .distinct()
    )
    todo = [p for p in people if p.user_id not in with_records]
    ctx.step(f"Training: history for {len(todo)} staff ({len(people) - len(todo)} already had it)")
    History(ctx).build(todo)
    Onboarding.objects.bulk_create(
        [Onboarding(user_id=p.user_id, started_at=p.user.date_joined) for p in people],
        ignore_conflicts=True,
    )
    for user in starters:
        services.onboarding_start(user=user)
    quarters = last_quarter_ends(timezone.localdate())
    for quarter in quarters:
        services.snapshot_take(quarter=quarter)
    ctx.write(
        f"    onboarding for {len(starters)} new starters; snapshots for {len(quarters)} quarters"
    )
    pages_changed()  # the history was written in bulk, without signals


def _seed_starters(ctx: DemoContext, stores: list[Store]) -> list[User]:
    """New associates who joined a few days ago (`starter.s01@demo.aisle`, …)."""
    emails = {
        staff_email("starter", store.code, n): store
        for store in stores
        for n in range(1, STARTERS[ctx.scale] + 1)
    }
    existing = {u.email: u for u in User.objects.filter(email__in=list(emails))}
    password = make_password(DEMO_PASSWORD) if len(existing) < len(emails) else None
    for email, store in emails.items():
        if email in existing:
            continue
        first, last = person_name(random.Random(f"aisle-demo:{email}"), store.country)
        user = _create_starter(email, store, first, last)
        User.objects.filter(pk=user.pk).update(
            password=password, date_joined=timezone.now() - dt.timedelta(days=3)
        )
        existing[email] = user
    return [existing[e] for e in emails]


def _create_starter(email: str, store: Store, first: str, last: str) -> User:
    from retail.services import staff_create

    return staff_create(
        email=email,
        password=None,
        role=Role.ASSOCIATE,
        home_store=store,
        first_name=first,
        last_name=last,
    )


@dataclass
class Plan:
    """One person's demo history before it is written."""

    profile: StaffProfile
    events: list[tuple] = field(default_factory=list)  # (at, skill, level, source, by, cert)
    enrolments: list[Enrolment] = field(default_factory=list)
    passed: list[tuple[Enrolment, Course, dt.datetime, int]] = field(default_factory=list)
    self_level: dict[int, tuple[dt.datetime, int]] = field(default_factory=dict)


class History:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.now = timezone.now()
        self.skills = list(Skill.objects.filter(active=True).order_by("pk"))
        self.courses = list(
            Course.objects.filter(is_active=True)
            .prefetch_related("grants", Prefetch("texts", queryset=CourseText.objects.all()))
            .order_by("code")
        )
        self.table = requirement_table()
        english = {
            c.pk: next((t for t in c.texts.all() if t.language == "en"), None) for c in self.courses
        }
        self.quiz = {}
        for course in self.courses:
            text = english[course.pk]
            questions = (
                list(
                    Question.objects.filter(text=text).prefetch_related(
                        Prefetch("choices", queryset=Choice.objects.order_by("pk"))
                    )
                )
                if text
                else []
            )
            self.quiz[course.pk] = [
                (q.pk, [(c.pk, c.is_correct) for c in q.choices.all()]) for q in questions
            ]
        self.modules = {c.pk: 3 for c in self.courses}
        for text in CourseText.objects.filter(language="en").prefetch_related("modules"):
            self.modules[text.course_id] = len(text.modules.all())
        self.managers: dict[int, int] = {}
        for store_id, user_id in StaffProfile.objects.filter(role=Role.STORE_MANAGER).values_list(
            "home_store_id", "user_id"
        ):
            self.managers.setdefault(store_id, user_id)

    def build(self, people: list[StaffProfile]) -> None:
        bar = self.ctx.progress("training history", len(people))
        plans = []
        for profile in people:
            plans.append(self._plan(profile))
            bar.advance()
        bar.finish()
        Enrolment.objects.bulk_create([e for p in plans for e in p.enrolments], batch_size=1000)
        certs = []
        for plan in plans:
            for enrolment, course, issued, _score in plan.passed:
                certs.append(
                    Certification(
                        user_id=plan.profile.user_id,
                        course=course,
                        enrolment=enrolment,
                        number=f"AC-D{plan.profile.user_id:07d}-{course.pk:03d}",
                        language="en",
                        issued_at=issued,
                        expires_at=add_months(issued, course.valid_months),
                    )
                )
        Certification.objects.bulk_create(certs, batch_size=1000)
        by_enrolment = {c.enrolment.pk: c for c in certs}
        CertifiedSkill.objects.bulk_create(
            [
                CertifiedSkill(certification=c, skill_id=g.skill_id, level=g.level)
                for c in certs
                for g in c.course.grants.all()
            ],
            batch_size=2000,
        )
        self._attempts(plans)
        records = []
        for plan in plans:
            records += self._records(plan, by_enrolment)
        self.ctx.bulk_insert(LevelRecord, iter(records), total=len(records), label="level records")

    # -- planning one person ---------------------------------------------------------

    def _plan(self, profile: StaffProfile) -> Plan:
        rng = random.Random(f"aisle-demo:training:{profile.user.email}")
        plan = Plan(profile)
        start = self.now - dt.timedelta(days=HISTORY_DAYS) + dt.timedelta(hours=rng.randint(0, 300))
        strength = rng.choice([-2, -1, -1, 0, 0, 0, 1])
        manager = self.managers.get(profile.home_store_id)
        showcase = profile.user.email == SHOWCASE
        levels = {}
        for skill in self.skills:
            required = self.table.required(profile.role, profile.home_store_id, skill.pk)
            level = max(0, min(4, required + strength + rng.choice([-1, -1, 0, 0, 1]) - 1))
            if showcase and skill.code == "bopis_fulfilment":
                level = 1
            levels[skill.pk] = level
            plan.events.append((start, skill, level, LevelSource.INITIAL, manager, None))
            if rng.random() < 0.45 and not (showcase and skill.code == "bopis_fulfilment"):
                at = start + dt.timedelta(days=rng.randint(60, HISTORY_DAYS - 20))
                raised = min(4, level + 1)
                if raised != level:
                    plan.events.append((at, skill, raised, LevelSource.MANAGER, manager, None))
                    levels[skill.pk] = raised
        self._courses(plan, rng, showcase)
        for skill in self.skills:
            own = max(0, min(4, levels[skill.pk] + rng.choice([-1, 0, 0, 1, 1])))
            plan.self_level[skill.pk] = (self.now - dt.timedelta(days=rng.randint(5, 120)), own)
        return plan

    def _courses(self, plan: Plan, rng: random.Random, showcase: bool) -> None:
        user_id = plan.profile.user_id
        pool = [c for c in self.courses if not (showcase and c.code in SHOWCASE_SKIPS)]
        rng.shuffle(pool)
        taken = pool[: rng.choice([0, 1, 1, 2, 2, 3])]
        if showcase and not any(c.code == "connected-store-tools" for c in taken):
            taken = [c for c in self.courses if c.code == "connected-store-tools"] + taken[:1]
        if showcase:  # certified for what the demo shows them doing: outreach, delivery
            taken = taken + [
                c for c in self.courses if c.code in SHOWCASE_CERTIFIED and c not in taken
            ]
        # Store managers approve returns (training's gate `return_approve`): each holds
        # a valid returns certificate, well away from expiry.
        manager = plan.profile.role == Role.STORE_MANAGER
        if manager and not any(c.code == MANAGER_COURSE for c in taken):
            taken = taken + [c for c in self.courses if c.code == MANAGER_COURSE]
        for course in taken:
            if showcase and course.code == "connected-store-tools":
                days_ago = 345  # expires in about three weeks
            elif manager and course.code == MANAGER_COURSE:
                days_ago = rng.randint(20, 200)
            elif rng.random() < 0.2:
                days_ago = rng.randint(336, 362)  # expires within the month
            else:
                days_ago = rng.randint(20, 330)
            issued = self.now - dt.timedelta(days=days_ago, hours=rng.randint(0, 8))
            rating = rng.random() < 0.6
            comment = rng.choice(FEEDBACK) if rating and rng.random() < 0.35 else None
            enrolment = Enrolment(
                user_id=user_id,
                course=course,
                source=rng.choice(
                    [EnrolmentSource.SELF, EnrolmentSource.ASSIGNED, EnrolmentSource.GAPS]
                ),
                status=EnrolmentStatus.PASSED,
                modules_done=self.modules[course.pk],
                enrolled_at=issued - dt.timedelta(days=rng.randint(2, 20)),
                last_activity_at=issued,
                completed_at=issued,
                rating=(comment[1] if comment else rng.randint(3, 5)) if rating else None,
                feedback=comment[0] if comment else "",
                rated_at=issued if rating else None,
            )
            plan.enrolments.append(enrolment)
            plan.passed.append((enrolment, course, issued, rng.choice([75, 100, 100])))
            for grant in course.grants.all():
                plan.events.append(
                    (issued, grant.skill_id, grant.level, LevelSource.COURSE, None, enrolment)
                )
        free = [c for c in pool if c not in taken]
        today = self.now.date()
        if free and rng.random() < 0.45:
            course = free.pop()
            assigned = rng.random() < 0.6
            plan.enrolments.append(
                Enrolment(
                    user_id=user_id,
                    course=course,
                    source=EnrolmentSource.ASSIGNED if assigned else EnrolmentSource.SELF,
                    assigned_by_id=self.managers.get(plan.profile.home_store_id)
                    if assigned
                    else None,
                    due_date=today + dt.timedelta(days=rng.randint(-12, 30)) if assigned else None,
                    modules_done=rng.randint(0, self.modules[course.pk] - 1),
                    enrolled_at=self.now - dt.timedelta(days=rng.randint(3, 40)),
                )
            )
        if free and rng.random() < 0.05:
            course = free.pop()
            plan.enrolments.append(
                Enrolment(
                    user_id=user_id,
                    course=course,
                    source=EnrolmentSource.SELF,
                    status=EnrolmentStatus.FAILED,
                    modules_done=self.modules[course.pk],
                    enrolled_at=self.now - dt.timedelta(days=rng.randint(30, 90)),
                    completed_at=self.now - dt.timedelta(days=rng.randint(5, 25)),
                )
            )

    def _attempts(self, plans: list[Plan]) -> None:
        attempts = []
        for plan in plans:
            passed = {id(e): score for e, _c, _at, score in plan.passed}
            for enrolment in plan.enrolments:
                questions = self.quiz.get(enrolment.course_id, [])
                if not questions or enrolment.status == EnrolmentStatus.ACTIVE:
                    continue
                order = [[q, [c for c, _ok in choices]] for q, choices in questions]
                right = {str(q): sorted(c for c, ok in choices if ok) for q, choices in questions}
                wrong = {str(q): [choices[-1][0]] for q, choices in questions}
                tries = (
                    enrolment.course.max_attempts
                    if enrolment.status == EnrolmentStatus.FAILED
                    else (2 if passed[id(enrolment)] == 75 else 1)
                )
                for number in range(1, tries + 1):
                    last = number == tries and enrolment.status == EnrolmentStatus.PASSED
                    attempts.append(
                        Attempt(
                            enrolment=enrolment,
                            number=number,
                            language="en",
                            order=order,
                            answers=right if last else wrong,
                            score=passed[id(enrolment)] if last else 25,
                            passed=last,
                            started_at=enrolment.completed_at
                            - dt.timedelta(minutes=20 * (tries - number + 1)),
                            submitted_at=enrolment.completed_at
                            - dt.timedelta(minutes=20 * (tries - number)),
                        )
                    )
        Attempt.objects.bulk_create(attempts, batch_size=2000)

    def _records(
        self, plan: Plan, certs_by_enrolment: dict[int, Certification]
    ) -> list[LevelRecord]:
        skills = {s.pk: s for s in self.skills}
        user_id = plan.profile.user_id
        timeline = defaultdict(list)
        for at, skill, level, source, by, ref in plan.events:
            skill_id = skill if isinstance(skill, int) else skill.pk
            timeline[skill_id].append((at, level, source, by, ref))
        records = []
        for skill_id, events in timeline.items():
            events.sort(key=lambda e: (e[0], e[2] != LevelSource.INITIAL))
            current = None
            base = 0
            for at, level, source, by, ref in events:
                if source == LevelSource.COURSE:
                    if current is not None and level <= current.level:
                        continue
                    previous = base
                elif source == LevelSource.MANAGER:
                    level = max(level, current.level if current is not None else 0)
                    if current is not None and level == current.level:
                        continue
                    base, previous = level, None
                else:
                    base = level
                    previous = None
                record = LevelRecord(
                    user_id=user_id,
                    skill_id=skill_id,
                    track=Track.OFFICIAL,
                    level=level,
                    source=source,
                    assessed_by_id=by if source == LevelSource.MANAGER else None,
                    certification=certs_by_enrolment.get(ref.pk) if ref is not None else None,
                    previous_level=previous,
                    valid_from=at,
                )
                if current is not None:
                    current.valid_to = max(at, current.valid_from)
                records.append(record)
                current = record
        for skill_id, (at, level) in plan.self_level.items():
            if skill_id in skills:
                records.append(
                    LevelRecord(
                        user_id=user_id,
                        skill_id=skill_id,
                        track=Track.SELF,
                        level=level,
                        source=LevelSource.SELF,
                        assessed_by_id=user_id,
                        valid_from=at,
                    )
                )
        return records
