"""Gap analysis: for a person (required − current per skill, and the courses that
close each gap), for a store (a heatmap of staff × skills) and for the network
(stores × skill areas, with quarterly snapshots for the trend).

The store and network views run in a fixed number of queries whatever the
number of staff: levels are counted in the database, grouped by store, role,
skill and level, and the shares are worked out from those counts.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from retail.models import Role, StaffProfile, Store, User
from training.models import (
    CertifiedSkill,
    Course,
    CourseText,
    Enrolment,
    EnrolmentSource,
    LevelRecord,
    Skill,
    SkillArea,
    SkillSnapshot,
    Track,
)
from training.services.levels import (
    RequirementTable,
    active_skills,
    current_levels,
    profile_of,
    requirement_table,
)

TRAINED = (Role.ASSOCIATE, Role.STORE_MANAGER)
HEATMAP_PAGE = 25
NETWORK_PAGE = 50
QUARTERS_SHOWN = 4
#: Above this many candidate courses the planner stops searching exhaustively.
EXACT_SEARCH_LIMIT = 16


# --- One person ---------------------------------------------------------------------


@dataclass
class SkillRow:
    skill: Skill
    required: int
    current: int
    self_level: int | None
    certified_until: dt.datetime | None = None
    courses: list[Course] = field(default_factory=list)

    @property
    def gap(self) -> int:
        return max(0, self.required - self.current)

    @property
    def required_percent(self) -> int:
        return self.required * 25

    @property
    def current_percent(self) -> int:
        return self.current * 25


def person_gaps(*, user: User) -> list[SkillRow]:
    """Every active skill with what this person's role needs, their assessed level,
    their own view, and the courses that would close the gap."""
    from training.services.learning import courses_with_texts

    skills = active_skills()
    profile = profile_of(user)
    role = profile.role if profile and profile.role in TRAINED else None
    store_id = profile.home_store_id if profile else None
    table = requirement_table(store_ids=[store_id] if store_id else [])
    official = current_levels(user_ids=[user.pk])
    own = current_levels(user_ids=[user.pk], track=Track.SELF)
    courses = list(
        courses_with_texts().filter(is_active=True).order_by("estimated_minutes", "code")
    )
    certified: dict[int, dt.datetime] = {}
    for skill_id, expires in CertifiedSkill.objects.filter(
        certification__user=user,
        certification__status="active",
        certification__expires_at__gt=timezone.now(),
    ).values_list("skill_id", "certification__expires_at"):
        certified[skill_id] = max(expires, certified.get(skill_id, expires))
    rows = []
    for skill in skills:
        required = table.required(role, store_id, skill.pk)
        row = SkillRow(
            skill=skill,
            required=required,
            current=official.get((user.pk, skill.pk), 0),
            self_level=own.get((user.pk, skill.pk)),
            certified_until=certified.get(skill.pk),
        )
        if row.gap:
            row.courses = [
                c
                for c in courses
                if any(g.skill_id == skill.pk and g.level >= required for g in c.grants.all())
            ]
        rows.append(row)
    return rows


@dataclass
class PlannedCourse:
    course: Course
    covers: list[SkillRow]
    enrolment: Enrolment | None = None

    @property
    def title(self) -> str:
        text = self.course.text_for()
        return text.title if text else self.course.code


@dataclass
class GapPlan:
    """The smallest set of courses that closes a person's gaps, and why."""

    gaps: list[SkillRow]
    courses: list[PlannedCourse]
    already: list[PlannedCourse]
    uncovered: list[SkillRow]

    @property
    def minutes(self) -> int:
        return sum(p.course.estimated_minutes for p in self.courses)

    @property
    def reason(self) -> str:
        if not self.gaps:
            return _("You meet every requirement of your role. Well done.")
        if not self.courses and not self.uncovered:
            return _("The courses you are already taking close all your gaps.")
        if not self.courses:
            return _("No course closes your remaining gaps: your manager's assessment will.")
        closing = sum(len(p.covers) for p in self.courses)
        return _(
            "These %(courses)s courses close %(gaps)s of your gaps: no smaller set of courses "
            "covers them all, and of the sets that small this one takes the least time "
            "(about %(minutes)s minutes). A course that closes several gaps at once is "
            "preferred to one course per gap."
        ) % {"courses": len(self.courses), "gaps": closing, "minutes": self.minutes}


def _covers(course: Course, gap: SkillRow) -> bool:
    return any(g.skill_id == gap.skill.pk and g.level >= gap.required for g in course.grants.all())


def gap_plan(*, user: User) -> GapPlan:
    """Work out which courses would close this person's gaps: courses already under
    way count first; the rest is the smallest set of courses covering every gap a
    course can close (ties go to the shortest in minutes)."""
    from training.services.learning import courses_with_texts

    rows = person_gaps(user=user)
    gaps = [r for r in rows if r.gap]
    active = list(
        Enrolment.objects.active()
        .filter(user=user)
        .select_related("course")
        .prefetch_related("course__grants", "course__texts")
    )
    already = []
    remaining = list(gaps)
    for enrolment in active:
        covered = [g for g in remaining if _covers(enrolment.course, g)]
        if covered:
            already.append(PlannedCourse(enrolment.course, covered, enrolment))
            remaining = [g for g in remaining if g not in covered]
    enrolled_ids = {e.course_id for e in active}
    # A course whose attempts were all used waits for the manager to assign it again.
    latest = dict(
        Enrolment.objects.filter(user=user)
        .order_by("enrolled_at", "pk")
        .values_list("course_id", "status")
    )
    enrolled_ids |= {course_id for course_id, status in latest.items() if status == "failed"}
    candidates = [
        c
        for c in courses_with_texts().filter(is_active=True).order_by("estimated_minutes", "code")
        if c.pk not in enrolled_ids and any(_covers(c, g) for g in remaining)
    ]
    coverable = [g for g in remaining if any(_covers(c, g) for c in candidates)]
    uncovered = [g for g in remaining if g not in coverable]
    chosen = _smallest_cover(candidates, coverable)
    planned = [PlannedCourse(c, [g for g in coverable if _covers(c, g)]) for c in chosen]
    return GapPlan(gaps=gaps, courses=planned, already=already, uncovered=uncovered)


def _smallest_cover(candidates: list[Course], gaps: list[SkillRow]) -> list[Course]:
    if not gaps:
        return []
    wanted = {g.skill.pk for g in gaps}
    covers = {c.pk: {g.skill.pk for g in gaps if _covers(c, g)} for c in candidates}
    if len(candidates) <= EXACT_SEARCH_LIMIT:
        for size in range(1, len(candidates) + 1):
            best = None
            for combo in itertools.combinations(candidates, size):
                if set().union(*(covers[c.pk] for c in combo)) >= wanted:
                    minutes = sum(c.estimated_minutes for c in combo)
                    if best is None or minutes < best[0]:
                        best = (minutes, combo)
            if best is not None:
                return list(best[1])
    # Greedy fallback: the course closing most open gaps per minute, until none is left.
    chosen, left = [], set(wanted)
    while left:
        course = max(
            candidates,
            key=lambda c: (len(covers[c.pk] & left) / c.estimated_minutes, -c.pk),
        )
        if not covers[course.pk] & left:
            break
        chosen.append(course)
        left -= covers[course.pk]
    return chosen


@transaction.atomic
def close_my_gaps(*, user: User) -> GapPlan:
    """Enrol the person in the planned courses (the courses already under way stay)."""
    from training.services.learning import course_enrol

    plan = gap_plan(user=user)
    for planned in plan.courses:
        planned.enrolment = course_enrol(
            user=user, course=planned.course, source=EnrolmentSource.GAPS
        )
    return plan


# --- Counting levels in the database -------------------------------------------------------


@dataclass
class LevelCounts:
    """How many people of each (store, role) hold each level of each skill."""

    staff: dict[tuple[int, str], int]
    levels: dict[tuple[int, str, int], dict[int, int]]

    def met(self, store_id: int, role: str, skill_id: int, required: int) -> int:
        if required <= 0:
            return self.staff.get((store_id, role), 0)
        counts = self.levels.get((store_id, role, skill_id), {})
        return sum(n for level, n in counts.items() if level >= required)


def level_counts(
    *, store_ids: list[int] | None = None, at: dt.datetime | None = None
) -> LevelCounts:
    """Two grouped queries: staff per (store, role), and official levels per (store,
    role, skill, level), now or as they stood at `at`."""
    people = StaffProfile.objects.filter(
        role__in=TRAINED, user__is_active=True, home_store__isnull=False
    )
    records = LevelRecord.objects.filter(
        track=Track.OFFICIAL,
        user__is_active=True,
        user__staff_profile__role__in=TRAINED,
        user__staff_profile__home_store__isnull=False,
    )
    records = records.filter(valid_to__isnull=True) if at is None else records.at(at)
    if store_ids is not None:
        people = people.filter(home_store_id__in=store_ids)
        records = records.filter(user__staff_profile__home_store_id__in=store_ids)
    if at is None:
        # Now: everyone on the staff counts; no record means level 0.
        grouped = people.values("home_store_id", "role").annotate(n=Count("pk"))
        keys = ("home_store_id", "role", "n")
    else:
        # In the past: the people who had been assessed by then.
        grouped = records.values(
            "user__staff_profile__home_store_id", "user__staff_profile__role"
        ).annotate(n=Count("user_id", distinct=True))
        keys = ("user__staff_profile__home_store_id", "user__staff_profile__role", "n")
    staff = {(store_id, role): n for store_id, role, n in grouped.values_list(*keys)}
    levels: dict[tuple[int, str, int], dict[int, int]] = defaultdict(dict)
    for store_id, role, skill_id, level, n in (
        records.values(
            "user__staff_profile__home_store_id", "user__staff_profile__role", "skill_id", "level"
        )
        .annotate(n=Count("pk"))
        .values_list(
            "user__staff_profile__home_store_id",
            "user__staff_profile__role",
            "skill_id",
            "level",
            "n",
        )
    ):
        levels[(store_id, role, skill_id)][level] = n
    return LevelCounts(staff=staff, levels=dict(levels))


# --- A store: the heatmap ----------------------------------------------------------------------


@dataclass
class Cell:
    level: int
    required: int

    @property
    def state(self) -> str:
        if self.required == 0:
            return "none"
        if self.level >= self.required:
            return "met"
        return "near" if self.required - self.level == 1 else "far"


@dataclass
class HeatRow:
    user: User
    role: str
    cells: list[Cell]
    overdue: int
    active: int
    url: str = ""

    @property
    def gaps(self) -> int:
        return sum(1 for c in self.cells if c.state in ("near", "far"))


@dataclass
class Share:
    skill: Skill
    required_of: int
    met: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.met / self.required_of) if self.required_of else None


@dataclass
class Heatmap:
    store: Store
    skills: list[Skill]
    rows: list[HeatRow]
    shares: list[Share]
    page: Page
    overdue_total: int
    staff: list[StaffProfile] = field(default_factory=list)


def store_staff(store: Store) -> list[StaffProfile]:
    """The store's trained staff with their names (one query; a store's staff is a
    bounded list, so the heatmap counts its shares from it)."""
    return list(
        StaffProfile.objects.filter(home_store=store, role__in=TRAINED, user__is_active=True)
        .select_related("user")
        .only(
            "role",
            "user_id",
            "home_store_id",
            "user__first_name",
            "user__last_name",
            "user__email",
        )
        .order_by("role", "user__last_name", "user__first_name", "pk")
    )


def store_heatmap(*, store: Store, page_number=1, per_page: int = HEATMAP_PAGE) -> Heatmap:
    """The store's staff × skills (one page of staff), each cell coloured against the
    person's requirement, with the share of staff meeting each requirement (all
    staff) and who is overdue. Five single-table queries, whatever the number of
    staff: skills, requirements, staff, their levels, their enrolment counts."""
    skills = active_skills()
    table = requirement_table(store_ids=[store.pk])
    staff = store_staff(store)
    user_ids = [p.user_id for p in staff]
    levels = current_levels(user_ids=user_ids)
    today = store.local_now().date()
    courses: dict[int, tuple[int, int]] = {
        user_id: (active, overdue)
        for user_id, active, overdue in Enrolment.objects.active()
        .filter(user_id__in=user_ids)
        .values("user_id")
        .annotate(active=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today)))
        .values_list("user_id", "active", "overdue")
    }
    shares = []
    for skill in skills:
        required_of = met = 0
        for person in staff:
            required = table.required(person.role, store.pk, skill.pk)
            if required > 0:
                required_of += 1
                met += levels.get((person.user_id, skill.pk), 0) >= required
        shares.append(Share(skill, required_of, met))
    page = Paginator(staff, per_page).get_page(page_number)
    rows = [
        HeatRow(
            user=p.user,
            role=p.role,
            cells=[
                Cell(levels.get((p.user_id, s.pk), 0), table.required(p.role, store.pk, s.pk))
                for s in skills
            ],
            overdue=courses.get(p.user_id, (0, 0))[1],
            active=courses.get(p.user_id, (0, 0))[0],
        )
        for p in page.object_list
    ]
    return Heatmap(
        store=store,
        skills=skills,
        rows=rows,
        shares=shares,
        page=page,
        overdue_total=sum(overdue for _active, overdue in courses.values()),
        staff=staff,
    )


def overdue_enrolments(
    *, store: Store, staff: list[StaffProfile] | None = None, limit: int = 50
) -> list[Enrolment]:
    """Who is overdue in this store, most overdue first (bounded), each with the course
    title in the active language (one query, and one more for the titles when anyone
    is overdue; given the store's staff)."""
    staff = {p.user_id: p.user for p in (store_staff(store) if staff is None else staff)}
    today = store.local_now().date()
    overdue = list(
        Enrolment.objects.overdue(today)
        .filter(user_id__in=list(staff))
        .order_by("due_date", "pk")[:limit]
    )
    if overdue:
        language = (translation.get_language() or "en").lower()
        titles: dict[int, dict[str, str]] = defaultdict(dict)
        for course_id, lang, title in CourseText.objects.filter(
            course_id__in={e.course_id for e in overdue}
        ).values_list("course_id", "language", "title"):
            titles[course_id][lang] = title
        for enrolment in overdue:
            enrolment.user = staff[enrolment.user_id]
            texts = titles[enrolment.course_id]
            enrolment.title = texts.get(language) or texts.get("en") or ""
    return overdue


def heatmap_rows_all(*, store: Store):
    """Every staff member's row (for the CSV): streamed in pages of the heatmap."""
    first = store_heatmap(store=store, page_number=1, per_page=200)
    yield first
    for number in first.page.paginator.page_range[1:]:
        yield store_heatmap(store=store, page_number=number, per_page=200)


# --- The network --------------------------------------------------------------------------------


def quarter_end(day: dt.date) -> dt.date:
    """The last day of the quarter `day` falls in."""
    month = ((day.month - 1) // 3 + 1) * 3
    next_month = dt.date(day.year + (month == 12), month % 12 + 1, 1)
    return next_month - dt.timedelta(days=1)


def last_quarter_ends(today: dt.date, count: int = QUARTERS_SHOWN) -> list[dt.date]:
    """The ends of the last `count` completed quarters, oldest first."""
    ends = []
    end = quarter_end(today)
    for _i in range(count):
        start = dt.date(end.year, end.month - 2, 1)
        end = start - dt.timedelta(days=1)
        ends.append(end)
    return list(reversed(ends))


def _end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


@dataclass
class AreaCell:
    area: SkillArea
    required: int
    met: int
    previous: int | None = None  # percent at the last quarter's end

    @property
    def percent(self) -> int | None:
        return round(100 * self.met / self.required) if self.required else None

    @property
    def trend(self) -> int | None:
        if self.percent is None or self.previous is None:
            return None
        return self.percent - self.previous


@dataclass
class StoreRow:
    store: Store
    staff: int
    cells: list[AreaCell]


@dataclass
class NetworkView:
    areas: list[SkillArea]
    rows: list[StoreRow]
    page: Page
    quarters: list[dt.date]
    # area id → [percent per quarter, …, percent now]
    trend: dict[int, list[int | None]]
    network_now: dict[int, int | None]
    computed_at: dt.datetime | None = None

    @property
    def trend_rows(self) -> list[tuple[SkillArea, list[int | None]]]:
        return [(area, self.trend[area.pk]) for area in self.areas]


def _area_totals(
    store_ids, skills: list[Skill], table: RequirementTable, counts: LevelCounts
) -> dict[tuple[int, int], list[int]]:
    """(store id, area id) → [requirements, met]."""
    totals: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for store_id in store_ids:
        for skill in skills:
            for role in TRAINED:
                required = table.required(role, store_id, skill.pk)
                if required <= 0:
                    continue
                staff = counts.staff.get((store_id, role), 0)
                if not staff:
                    continue
                cell = totals[(store_id, skill.area_id)]
                cell[0] += staff
                cell[1] += counts.met(store_id, role, skill.pk, required)
    return totals


def _percent(met: int, required: int) -> int | None:
    return round(100 * met / required) if required else None


#: HQ's network figures are computed at most this often (they aggregate every
#: store's levels); the page says how old they are.
NETWORK_FIGURES_SECONDS = 60


@dataclass
class NetworkFigures:
    """Everything the network view counts, for every store: cached as one value."""

    areas: list[SkillArea]
    totals: dict[tuple[int, int], list[int]]  # (store, area) -> [requirements, met]
    staff: dict[int, int]  # store -> trained staff
    previous: dict[tuple[int, int], int | None]  # (store, area) -> % at the last quarter's end
    quarters: list[dt.date]
    trend: dict[int, list[int | None]]  # area -> % per quarter, then now
    at: dt.datetime


def network_figures(*, today: dt.date | None = None, fresh: bool = False) -> NetworkFigures:
    """The network's figures, from the cache when computed less than a minute ago.
    Computing them takes six queries whatever the number of stores and staff."""
    today = today or timezone.localdate()
    key = f"training:network-figures:{today.isoformat()}"
    figures = None if fresh else cache.get(key)
    # The age is checked on the figures themselves, whatever the cache backend keeps.
    if (
        figures is not None
        and (timezone.now() - figures.at).total_seconds() < NETWORK_FIGURES_SECONDS
    ):
        return figures
    skills = active_skills()
    areas = sorted({s.area for s in skills}, key=lambda a: (a.position, a.code))
    table = requirement_table()
    counts = level_counts()
    totals = dict(_area_totals({s for s, _role in counts.staff}, skills, table, counts))
    staff: dict[int, int] = defaultdict(int)
    for (store_id, _role), n in counts.staff.items():
        staff[store_id] += n
    quarters = last_quarter_ends(today)
    previous = {}
    history: dict[tuple[dt.date, int], list[int]] = defaultdict(lambda: [0, 0])
    for quarter, store_id, area_id, required, met in SkillSnapshot.objects.filter(
        quarter_end__in=quarters
    ).values_list("quarter_end", "store_id", "area_id", "required", "met"):
        history[(quarter, area_id)][0] += required
        history[(quarter, area_id)][1] += met
        if quarter == quarters[-1]:
            previous[(store_id, area_id)] = _percent(met, required)
    trend = {}
    for area in areas:
        required = sum(v[0] for (_s, a), v in totals.items() if a == area.pk)
        met = sum(v[1] for (_s, a), v in totals.items() if a == area.pk)
        past = [history.get((q, area.pk)) for q in quarters]
        trend[area.pk] = [_percent(p[1], p[0]) if p else None for p in past] + [
            _percent(met, required)
        ]
    figures = NetworkFigures(areas, totals, dict(staff), previous, quarters, trend, timezone.now())
    cache.set(key, figures, NETWORK_FIGURES_SECONDS)
    return figures


def network_view(
    *, page_number=1, today: dt.date | None = None, per_page: int = NETWORK_PAGE
) -> NetworkView:
    """Stores × skill areas: the share of requirements met now, its change since the
    last quarter's end, and the network's trend per area over the last quarters.
    One page of stores (two queries) over the network's figures (cached a minute)."""
    figures = network_figures(today=today)
    page = Paginator(Store.objects.order_by("code"), per_page).get_page(page_number)
    rows = []
    for store in page.object_list:
        cells = []
        for area in figures.areas:
            required, met = figures.totals.get((store.pk, area.pk), (0, 0))
            cells.append(AreaCell(area, required, met, figures.previous.get((store.pk, area.pk))))
        rows.append(StoreRow(store, figures.staff.get(store.pk, 0), cells))
    network_now = {area.pk: figures.trend[area.pk][-1] for area in figures.areas}
    return NetworkView(
        figures.areas, rows, page, figures.quarters, figures.trend, network_now, figures.at
    )


@transaction.atomic
def snapshot_take(*, quarter: dt.date) -> int:
    """Record how every store stood in every skill area at the end of `quarter`
    (a quarter's last day), from the level history. Running it again replaces the
    quarter's figures. Returns the number of rows."""
    moment = _end_of_day(quarter)
    skills = list(Skill.objects.filter(active=True))
    table = requirement_table()
    counts = level_counts(at=moment)
    store_ids = {s for s, _role in counts.staff}
    totals = _area_totals(store_ids, skills, table, counts)
    SkillSnapshot.objects.filter(quarter_end=quarter).delete()
    SkillSnapshot.objects.bulk_create(
        [
            SkillSnapshot(
                quarter_end=quarter, store_id=store_id, area_id=area_id, required=r, met=m
            )
            for (store_id, area_id), (r, m) in totals.items()
        ]
    )
    return len(totals)


def snapshot_due(*, today: dt.date | None = None) -> int:
    """Beat: take the last completed quarter's snapshot when it is missing."""
    today = today or timezone.localdate()
    quarter = last_quarter_ends(today, 1)[-1]
    if SkillSnapshot.objects.filter(quarter_end=quarter).exists():
        return 0
    return snapshot_take(quarter=quarter)
