"""The manager's pages: the team heatmap with who is overdue, one person's gaps
with assessment, course assignment and the one-time gate override."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from retail import access
from retail.access import Area, area_required
from retail.models import StaffProfile, User
from training import services
from training.forms import AssessForm, AssignForm, OverrideForm
from training.models import Certification, Enrolment, GateOverride, LevelRecord, Track
from training.services.errors import NotAllowed, TrainingError
from training.services.gaps import heatmap_rows_all, overdue_enrolments
from training.services.learning import courses_with_texts
from training.services.levels import active_skills, current_levels
from training.services.pagecache import cached_pieces
from training.views.common import csv_response, current_store_or_choose, gaps_csv_response, refuse

MEMBER_HISTORY = 30
MEMBER_ENROLMENTS = 20


def _lead(request: HttpRequest):
    """(store, None) for a manager leading the current store's team, else (None, answer)."""
    store, choose = current_store_or_choose(request)
    if choose:
        return None, choose
    if not access.may_lead_team(request.user, store):
        return None, refuse(
            request,
            NotAllowed(_("Only the store's managers see its team.")),
            back=reverse("training:path"),
        )
    return store, None


@area_required(Area.STORE)
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    store, answer = _lead(request)
    if answer:
        return answer
    today = store.local_now().date()
    page = request.GET.get("page") or "1"
    page = page if page.isdigit() and len(page) < 6 else "1"

    def render_pieces() -> dict[str, str]:
        heatmap = services.store_heatmap(store=store, page_number=page)
        member_url = reverse("training:member", args=[987654321]).replace("987654321", "{}")
        for row in heatmap.rows:
            row.url = member_url.format(row.user.pk)
        overdue = overdue_enrolments(store=store, staff=heatmap.staff, limit=20)
        context = {"heatmap": heatmap, "overdue": overdue, "page_url": reverse("training:team")}
        return {
            "heatmap": render_to_string("training/_heatmap.html", context),
            "overdue": render_to_string("training/_overdue.html", context),
        }

    # Rendered once per change of the data behind them (training.services.pagecache).
    parts = ("team", store.pk, page, translation.get_language(), today)
    pieces = cached_pieces(parts, render_pieces)
    if request.htmx and not request.htmx.boosted:
        return HttpResponse(pieces["heatmap"])
    context = {"store": store, "nav": "training", "tab": "team", "pieces": pieces}
    return render(request, "training/team.html", context)


@area_required(Area.STORE)
@require_GET
def team_csv(request: HttpRequest) -> HttpResponse:
    store, answer = _lead(request)
    if answer:
        return answer
    return heatmap_csv(store)


def heatmap_csv(store) -> HttpResponse:
    skills = active_skills()
    header = [_("Name"), _("E-mail"), _("Role")]
    for skill in skills:
        header += [
            _("%(skill)s: level") % {"skill": skill.label},
            _("%(skill)s: required") % {"skill": skill.label},
        ]
    header.append(_("Overdue courses"))

    def rows():
        for heatmap in heatmap_rows_all(store=store):
            for row in heatmap.rows:
                line = [row.user.get_full_name() or row.user.email, row.user.email, row.role]
                for cell in row.cells:
                    line += [cell.level, cell.required]
                line.append(row.overdue)
                yield line

    return csv_response(f"skills-heatmap-{store.code}.csv", header, rows())


def _member(request: HttpRequest, store, user_id: int) -> User:
    """The team member `user_id`, refused when they are not in this manager's store."""
    person = get_object_or_404(User.objects.filter(staff_profile__isnull=False), pk=user_id)
    if not access.may_assess(request.user, person, store):
        raise NotAllowed(_("You can only see and assess staff whose home store is your store."))
    return person


def _lead_member(request: HttpRequest, user_id: int):
    """(store, person, None) for a manager opening a member of their team, else
    (None, None, answer): the store to choose, or the refusal."""
    store, answer = _lead(request)
    if answer:
        return None, None, answer
    try:
        return store, _member(request, store, user_id), None
    except TrainingError as error:
        return None, None, refuse(request, error, back=reverse("training:team"))


def _member_page(request, store, person, *, forms=None, status=200) -> HttpResponse:
    forms = forms or {}
    skills = active_skills(with_descriptions=True)
    official = current_levels(user_ids=[person.pk])
    today = store.local_now().date()
    enrolments = list(
        Enrolment.objects.filter(user=person)
        .select_related("assigned_by")
        .order_by("-enrolled_at", "-pk")[:MEMBER_ENROLMENTS]
    )
    courses = {
        c.pk: c for c in courses_with_texts().filter(pk__in=[e.course_id for e in enrolments])
    }
    for enrolment in enrolments:
        enrolment.course = courses[enrolment.course_id]
    context = {
        "store": store,
        "nav": "training",
        "tab": "team",
        "person": person,
        "profile": StaffProfile.objects.get(user=person),
        "rows": services.person_gaps(user=person),
        "history": LevelRecord.objects.filter(user=person)
        .select_related("skill", "assessed_by")
        .order_by("-valid_from", "-pk")[:MEMBER_HISTORY],
        "enrolments": enrolments,
        "certificates": Certification.objects.filter(user=person)
        .select_related("course")
        .prefetch_related("course__texts")
        .order_by("-issued_at")[:10],
        "overrides": GateOverride.objects.filter(user=person)
        .select_related("granted_by")
        .order_by("-created_at")[:10],
        "assess_form": forms.get("assess")
        or AssessForm(
            skills=skills, initial_levels={s.pk: official.get((person.pk, s.pk)) for s in skills}
        ),
        "assign_form": forms.get("assign") or AssignForm(today=today),
        "override_form": forms.get("override") or OverrideForm(),
        "today": today,
        "now": timezone.now(),
    }
    return render(request, "training/member.html", context, status=status)


@area_required(Area.STORE)
@require_GET
def member(request: HttpRequest, user_id: int) -> HttpResponse:
    store, person, answer = _lead_member(request, user_id)
    if answer:
        return answer
    return _member_page(request, store, person)


@area_required(Area.STORE)
@require_POST
def member_assess(request: HttpRequest, user_id: int) -> HttpResponse:
    store, person, answer = _lead_member(request, user_id)
    if answer:
        return answer
    skills = active_skills(with_descriptions=True)
    official = current_levels(user_ids=[person.pk], track=Track.OFFICIAL)
    form = AssessForm(
        request.POST,
        skills=skills,
        initial_levels={s.pk: official.get((person.pk, s.pk)) for s in skills},
    )
    if not form.is_valid():
        return _member_page(request, store, person, forms={"assess": form}, status=400)
    try:
        written = services.assessment_record(
            user=person,
            by=request.user,
            levels=form.levels(),
            store=store,
            note=form.cleaned_data["note"],
        )
    except TrainingError as error:
        return refuse(request, error, back=reverse("training:team"))
    messages.success(
        request,
        _("Assessment saved: %(n)s levels changed, the earlier ones kept in the history.")
        % {"n": len(written)},
    )
    return redirect("training:member", user_id=person.pk)


@area_required(Area.STORE)
@require_POST
def member_assign(request: HttpRequest, user_id: int) -> HttpResponse:
    store, person, answer = _lead_member(request, user_id)
    if answer:
        return answer
    form = AssignForm(request.POST, today=store.local_now().date())
    if not form.is_valid():
        return _member_page(request, store, person, forms={"assign": form}, status=400)
    try:
        services.course_assign(
            manager=request.user,
            user=person,
            course=form.cleaned_data["course"],
            due_date=form.cleaned_data["due_date"],
            store=store,
        )
    except TrainingError as error:
        form.add_error(None, error.message)
        return _member_page(request, store, person, forms={"assign": form}, status=error.status)
    messages.success(request, _("Course assigned. It appears on their home screen."))
    return redirect("training:member", user_id=person.pk)


@area_required(Area.STORE)
@require_POST
def member_override(request: HttpRequest, user_id: int) -> HttpResponse:
    store, person, answer = _lead_member(request, user_id)
    if answer:
        return answer
    form = OverrideForm(request.POST)
    if not form.is_valid():
        return _member_page(request, store, person, forms={"override": form}, status=400)
    try:
        services.override_grant(
            manager=request.user,
            user=person,
            operation=form.cleaned_data["operation"],
            reason=form.cleaned_data["reason"],
            store=store,
        )
    except TrainingError as error:
        form.add_error(None, error.message)
        return _member_page(request, store, person, forms={"override": form}, status=error.status)
    messages.success(
        request,
        _(
            "Override granted: %(name)s may do this once in the next 8 hours. "
            "It is in the audit log."
        )
        % {"name": person},
    )
    return redirect("training:member", user_id=person.pk)


@area_required(Area.STORE)
@require_GET
def member_csv(request: HttpRequest, user_id: int) -> HttpResponse:
    _store, person, answer = _lead_member(request, user_id)
    if answer:
        return answer
    return gaps_csv_response(f"skills-gaps-{person.pk}.csv", services.person_gaps(user=person))
