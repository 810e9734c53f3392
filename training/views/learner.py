"""The learner's pages on the tablet: my path, the courses, taking one and its
quiz, my certificates, self-assessment, "close my gaps", and the home panel."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from retail.access import Area, area_required
from training import services
from training.forms import LevelsForm, RateForm
from training.models import (
    Attempt,
    Certification,
    CertificationStatus,
    Enrolment,
    EnrolmentStatus,
    LevelRecord,
    Module,
    SkillArea,
    Track,
)
from training.services.errors import NotAllowed, NotFound, TrainingError
from training.services.learning import RENEWAL_WINDOW, attempts_used, courses_with_texts
from training.services.levels import active_skills, current_levels
from training.views.common import current_store_or_choose, gaps_csv_response, refuse

CATALOG_PAGE = 12
CERTIFICATES_PAGE = 20
HISTORY_SHOWN = 12
EXPIRY_WARNING_DAYS = 30


def _course(code: str):
    return get_object_or_404(courses_with_texts(), code=code)


def _progress(enrolment: Enrolment) -> tuple[int, int]:
    text = enrolment.course.text_for()
    total = getattr(text, "module_total", 0) or 0
    return min(enrolment.modules_done, total), total


def _active_enrolments(user, limit: int = 20) -> list[Enrolment]:
    """The person's courses under way, soonest due first, with their progress."""
    enrolments = list(
        Enrolment.objects.active()
        .filter(user=user)
        .select_related("assigned_by")
        .order_by(F("due_date").asc(nulls_last=True), "enrolled_at", "pk")[:limit]
    )
    courses = {
        c.pk: c for c in courses_with_texts().filter(pk__in=[e.course_id for e in enrolments])
    }
    for enrolment in enrolments:
        enrolment.course = courses[enrolment.course_id]
        enrolment.done, enrolment.total = _progress(enrolment)
        enrolment.percent = round(100 * enrolment.done / enrolment.total) if enrolment.total else 0
    return enrolments


def _expiring(user, days: int = EXPIRY_WARNING_DAYS) -> list[Certification]:
    now = timezone.now()
    return list(
        Certification.objects.valid(now)
        .filter(user=user, expires_at__lte=now + dt.timedelta(days=days))
        .select_related("course")
        .prefetch_related("course__texts")
        .order_by("expires_at")[:5]
    )


@area_required(Area.STORE)
@require_GET
def my_path(request: HttpRequest) -> HttpResponse:
    store, choose = current_store_or_choose(request)
    if choose:
        return choose
    rows = services.person_gaps(user=request.user)
    enrolments = _active_enrolments(request.user)
    history = list(
        LevelRecord.objects.filter(user=request.user, track=Track.OFFICIAL)
        .select_related("skill", "assessed_by")
        .order_by("-valid_from", "-pk")[:HISTORY_SHOWN]
    )
    context = {
        "store": store,
        "nav": "training",
        "tab": "path",
        "rows": rows,
        "gaps": [r for r in rows if r.gap],
        "enrolments": enrolments,
        "next": enrolments[0] if enrolments else None,
        "expiring": _expiring(request.user),
        "history": history,
        "today": store.local_now().date(),
    }
    return render(request, "training/path.html", context)


@area_required(Area.STORE)
@require_GET
def panel(request: HttpRequest) -> HttpResponse:
    """The home screen's panel (an htmx fragment): what is due."""
    store, choose = current_store_or_choose(request)
    if choose:
        return choose
    enrolments = _active_enrolments(request.user, limit=5)
    rows = services.person_gaps(user=request.user)
    context = {
        "enrolments": enrolments,
        "expiring": _expiring(request.user),
        "gap_count": sum(1 for r in rows if r.gap),
        "today": store.local_now().date(),
    }
    return render(request, "training/panel.html", context)


@area_required(Area.STORE)
@require_GET
def catalog(request: HttpRequest) -> HttpResponse:
    store, choose = current_store_or_choose(request)
    if choose:
        return choose
    areas = list(SkillArea.objects.all())
    area = request.GET.get("area", "")
    courses = courses_with_texts().filter(is_active=True).order_by("area__position", "code")
    if area:
        courses = courses.filter(area__code=area)
    page = Paginator(courses, CATALOG_PAGE).get_page(request.GET.get("page"))
    ids = [c.pk for c in page.object_list]
    enrolled = set(
        Enrolment.objects.active()
        .filter(user=request.user, course_id__in=ids)
        .values_list("course_id", flat=True)
    )
    certified = dict(
        Certification.objects.valid()
        .filter(user=request.user, course_id__in=ids)
        .values_list("course_id", "expires_at")
    )
    for course in page.object_list:
        course.enrolled = course.pk in enrolled
        course.certified_until = certified.get(course.pk)
    context = {
        "store": store,
        "nav": "training",
        "tab": "catalog",
        "page": page,
        "areas": areas,
        "area": area,
    }
    return render(request, "training/catalog.html", context)


def _latest_enrolment(user, course) -> Enrolment | None:
    active = Enrolment.objects.active().filter(user=user, course=course).first()
    return (
        active
        or Enrolment.objects.filter(user=user, course=course)
        .order_by("-enrolled_at", "-pk")
        .first()
    )


@area_required(Area.STORE)
@require_GET
def course_detail(request: HttpRequest, code: str) -> HttpResponse:
    store, choose = current_store_or_choose(request)
    if choose:
        return choose
    course = _course(code)
    text = course.text_for()
    modules = list(Module.objects.filter(text=text).only("pk", "position", "title")) if text else []
    enrolment = _latest_enrolment(request.user, course)
    used = attempts_used([enrolment.pk]).get(enrolment.pk, 0) if enrolment else 0
    open_attempt = (
        enrolment.attempts.filter(submitted_at__isnull=True).first() if enrolment else None
    )
    last_attempt = enrolment.attempts.order_by("-number").first() if enrolment else None
    certificate = (
        Certification.objects.valid()
        .filter(user=request.user, course=course)
        .order_by("-expires_at")
        .first()
    )
    context = {
        "store": store,
        "nav": "training",
        "tab": "catalog",
        "course": course,
        "text": text,
        "modules": modules,
        "enrolment": enrolment,
        "active": enrolment is not None and enrolment.status == EnrolmentStatus.ACTIVE,
        "failed": enrolment is not None and enrolment.status == EnrolmentStatus.FAILED,
        "renewable": certificate is not None
        and certificate.expires_at - timezone.now() <= RENEWAL_WINDOW,
        "attempts_used": used,
        "attempts_left": max(0, course.max_attempts - used),
        "open_attempt": open_attempt,
        "last_attempt": last_attempt,
        "certificate": certificate,
        "rate_form": RateForm(
            initial={"rating": enrolment.rating, "feedback": enrolment.feedback}
            if enrolment
            else None
        ),
    }
    return render(request, "training/course.html", context)


@area_required(Area.STORE)
@require_POST
def enrol(request: HttpRequest, code: str) -> HttpResponse:
    _store, choose = current_store_or_choose(request)
    if choose:
        return choose
    course = _course(code)
    try:
        enrolment = services.course_enrol(user=request.user, course=course)
    except TrainingError as error:
        return refuse(request, error, back=reverse("training:course", args=[code]))
    next_position = enrolment.modules_done + 1
    return redirect("training:module", code=code, position=next_position)


def _own_enrolment(user, course) -> Enrolment:
    enrolment = _latest_enrolment(user, course)
    if enrolment is None:
        raise NotAllowed(_("You are not enrolled in this course. Enrol first."))
    return enrolment


@area_required(Area.STORE)
@require_http_methods(["GET", "POST"])
def module(request: HttpRequest, code: str, position: int) -> HttpResponse:
    store, choose = current_store_or_choose(request)
    if choose:
        return choose
    course = _course(code)
    back = reverse("training:course", args=[code])
    try:
        enrolment = _own_enrolment(request.user, course)
    except TrainingError as error:
        return refuse(request, error, back=back)
    text = course.text_for()
    modules = list(Module.objects.filter(text=text)) if text else []
    current = next((m for m in modules if m.position == position), None)
    if current is None:
        raise Http404(_("This course has no such module."))
    if request.method == "POST":
        try:
            enrolment = services.module_complete(
                enrolment=enrolment, user=request.user, position=position
            )
        except TrainingError as error:
            return refuse(request, error, back=back)
        following = next((m for m in modules if m.position > position), None)
        if following is not None:
            return redirect("training:module", code=code, position=following.position)
        return redirect("training:course", code=code)
    if position > enrolment.modules_done + 1 and enrolment.status == EnrolmentStatus.ACTIVE:
        return redirect("training:module", code=code, position=enrolment.modules_done + 1)
    context = {
        "store": store,
        "nav": "training",
        "tab": "catalog",
        "course": course,
        "text": text,
        "module": current,
        "modules": modules,
        "enrolment": enrolment,
        "done": position <= enrolment.modules_done,
        "is_last": current is modules[-1],
        "active": enrolment.status == EnrolmentStatus.ACTIVE,
    }
    return render(request, "training/module.html", context)


@area_required(Area.STORE)
@require_POST
def quiz_start(request: HttpRequest, code: str) -> HttpResponse:
    _store, choose = current_store_or_choose(request)
    if choose:
        return choose
    course = _course(code)
    back = reverse("training:course", args=[code])
    try:
        enrolment = _own_enrolment(request.user, course)
        attempt = services.attempt_start(enrolment=enrolment, user=request.user)
    except TrainingError as error:
        return refuse(request, error, back=back)
    return redirect("training:attempt", pk=attempt.pk)


def _attempt_for(user, pk: int) -> Attempt:
    attempt = Attempt.objects.select_related("enrolment__course").filter(pk=pk).first()
    if attempt is None:
        raise NotFound(_("There is no such quiz attempt."))
    if attempt.enrolment.user_id != user.pk:
        raise NotAllowed(_("This quiz attempt is not yours: you are not enrolled in this course."))
    return attempt


def _answers_from(post) -> dict[str, list[str]]:
    return {key[2:]: post.getlist(key) for key in post if key.startswith("q-")}


@area_required(Area.STORE)
@require_http_methods(["GET", "POST"])
def attempt(request: HttpRequest, pk: int) -> HttpResponse:
    store, choose = current_store_or_choose(request)
    if choose:
        return choose
    try:
        attempt = _attempt_for(request.user, pk)
    except TrainingError as error:
        return refuse(request, error, back=reverse("training:path"))
    course = courses_with_texts().get(pk=attempt.enrolment.course_id)
    back = reverse("training:course", args=[course.code])
    error = None
    chosen: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        chosen = _answers_from(request.POST)
        try:
            services.attempt_submit(attempt_id=attempt.pk, user=request.user, answers=chosen)
        except TrainingError as exc:
            if exc.status != 400 or attempt.submitted_at is not None:
                return refuse(request, exc, back=back)
            error, status = exc.message, exc.status
        else:
            return redirect("training:attempt", pk=attempt.pk)
        attempt.refresh_from_db()
    context = {
        "store": store,
        "nav": "training",
        "tab": "catalog",
        "course": course,
        "text": course.text_for(attempt.language),
        "attempt": attempt,
        "enrolment": attempt.enrolment,
        "error": error,
    }
    if attempt.submitted_at is None:
        questions = services.attempt_questions(attempt)
        for question in questions:
            picked = set(chosen.get(str(question["id"]), []))
            for choice in question["choices"]:
                choice["checked"] = str(choice["id"]) in picked
        context["questions"] = questions
        template = "training/attempt.html"
    else:
        used = attempts_used([attempt.enrolment_id]).get(attempt.enrolment_id, 0)
        context.update(
            review=services.attempt_review(attempt),
            attempts_left=max(0, course.max_attempts - used),
            certificate=Certification.objects.filter(enrolment=attempt.enrolment).first(),
        )
        if attempt.passed:
            levels = current_levels(user_ids=[request.user.pk])
            context["levels_now"] = [
                (g.skill, levels.get((request.user.pk, g.skill_id), 0)) for g in course.grants.all()
            ]
        template = "training/result.html"
    return render(request, template, context, status=status)


@area_required(Area.STORE)
@require_POST
def rate(request: HttpRequest, code: str) -> HttpResponse:
    _store, choose = current_store_or_choose(request)
    if choose:
        return choose
    course = _course(code)
    back = reverse("training:course", args=[code])
    form = RateForm(request.POST)
    if not form.is_valid():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        return refuse(request, TrainingError(message), back=back)
    try:
        enrolment = _own_enrolment(request.user, course)
        services.course_rate(
            enrolment=enrolment,
            user=request.user,
            rating=form.cleaned_data["rating"],
            feedback=form.cleaned_data["feedback"],
        )
    except TrainingError as error:
        return refuse(request, error, back=back)
    messages.success(request, _("Thank you: HQ reads every rating and comment."))
    return redirect("training:course", code=code)


@area_required(Area.STORE)
@require_http_methods(["GET", "POST"])
def close_gaps(request: HttpRequest) -> HttpResponse:
    store, choose = current_store_or_choose(request)
    if choose:
        return choose
    if request.method == "POST":
        try:
            plan = services.close_my_gaps(user=request.user)
        except TrainingError as error:
            return refuse(request, error, back=reverse("training:gaps"))
        if plan.courses:
            messages.success(
                request,
                _("You are enrolled in %(n)s courses that close your gaps.")
                % {"n": len(plan.courses)},
            )
        else:
            messages.info(request, plan.reason)
        return redirect("training:path")
    plan = services.gap_plan(user=request.user)
    context = {"store": store, "nav": "training", "tab": "path", "plan": plan}
    return render(request, "training/gaps.html", context)


@area_required(Area.STORE)
@require_http_methods(["GET", "POST"])
def self_assess(request: HttpRequest) -> HttpResponse:
    store, choose = current_store_or_choose(request)
    if choose:
        return choose
    skills = active_skills(with_descriptions=True)
    own = current_levels(user_ids=[request.user.pk], track=Track.SELF)
    form = LevelsForm(
        request.POST or None,
        skills=skills,
        initial_levels={s.pk: own.get((request.user.pk, s.pk)) for s in skills},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.assessment_record(
                    user=request.user, by=request.user, levels=form.levels(), store=store
                )
            except TrainingError as error:
                return refuse(request, error, back=reverse("training:assess"))
            messages.success(request, _("Your self-assessment is saved."))
            return redirect("training:path")
        status = 400
    context = {"store": store, "nav": "training", "tab": "path", "form": form}
    return render(request, "training/assess.html", context, status=status)


@area_required(Area.STORE)
@require_GET
def certificates(request: HttpRequest) -> HttpResponse:
    store, choose = current_store_or_choose(request)
    if choose:
        return choose
    page = Paginator(
        Certification.objects.filter(user=request.user)
        .select_related("course")
        .prefetch_related("course__texts")
        .order_by("-issued_at", "-pk"),
        CERTIFICATES_PAGE,
    ).get_page(request.GET.get("page"))
    context = {
        "store": store,
        "nav": "training",
        "tab": "certificates",
        "page": page,
        "now": timezone.now(),
        "soon": timezone.now() + dt.timedelta(days=EXPIRY_WARNING_DAYS),
        "active": CertificationStatus.ACTIVE,
    }
    return render(request, "training/certificates.html", context)


@area_required(Area.STORE)
@require_GET
def certificate(request: HttpRequest, pk: int) -> HttpResponse:
    store, choose = current_store_or_choose(request)
    if choose:
        return choose
    cert = get_object_or_404(
        Certification.objects.filter(user=request.user)
        .select_related("course", "user")
        .prefetch_related("skills__skill", "course__texts"),
        pk=pk,
    )
    context = {
        "store": store,
        "nav": "training",
        "tab": "certificates",
        "cert": cert,
        "text": cert.course.text_for(),
        "valid": cert.status == CertificationStatus.ACTIVE and cert.expires_at > timezone.now(),
    }
    return render(request, "training/certificate.html", context)


@area_required(Area.STORE)
@require_GET
def gate(request: HttpRequest, operation: str) -> HttpResponse:
    """Why an operation is not available to me, and the course that unlocks it
    (a page, or the reusable fragment for a gated screen's htmx request)."""
    store, choose = current_store_or_choose(request)
    if choose:
        return choose
    explanation = services.gate_explanation(user=request.user, operation=operation)
    context = {
        "store": store,
        "nav": "training",
        "tab": "path",
        "explanation": explanation,
        "operation": operation,
        "label": services.gates.operation_label(operation),
    }
    template = "training/gate.html"
    if request.htmx:
        template = "training/_gate_refusal.html"
    return render(request, template, context)


@area_required(Area.STORE)
@require_GET
def my_gaps_csv(request: HttpRequest) -> HttpResponse:
    return gaps_csv_response("my-skills-gaps.csv", services.person_gaps(user=request.user))
