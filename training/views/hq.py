"""HQ's training pages (`/hq/training/`): the network's stores × skill areas with
the trend, one store's heatmap, and the courses with learners' ratings and
feedback."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Avg, Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from retail import access
from retail.access import Area, area_required
from retail.db_router import replica_reads
from training import services
from training.models import Enrolment, EnrolmentStatus
from training.services.gaps import network_figures
from training.services.learning import courses_with_texts
from training.services.pagecache import cached_pieces
from training.views.common import csv_response
from training.views.team import heatmap_csv

FEEDBACK_PAGE = 20


@area_required(Area.HQ)
@require_GET
@replica_reads
def network(request: HttpRequest) -> HttpResponse:
    page = request.GET.get("page") or "1"
    page = page if page.isdigit() and len(page) < 6 else "1"
    figures = network_figures()  # counted at most once a minute

    def render_pieces() -> dict[str, str]:
        view = services.network_view(page_number=page)
        return {"body": render_to_string("training/_network.html", {"view": view})}

    # Rendered once per minute's figures and change of the data behind them.
    parts = ("network", page, translation.get_language(), figures.at.isoformat())
    pieces = cached_pieces((*parts, timezone.get_current_timezone_name()), render_pieces)
    context = {"title": _("Skills across the network"), "pieces": pieces, "tab": "network"}
    return render(request, "training/hq_network.html", context)


@area_required(Area.HQ)
@require_GET
@replica_reads
def network_csv(request: HttpRequest) -> HttpResponse:
    first = services.network_view(page_number=1, per_page=500)
    views = [first] + [
        services.network_view(page_number=n, per_page=500)
        for n in first.page.paginator.page_range[1:]
    ]
    header = [_("Store"), _("Name"), _("Staff")]
    for area in first.areas:
        header += [
            _("%(area)s: requirements met") % {"area": area.label},
            _("%(area)s: requirements") % {"area": area.label},
            _("%(area)s: %% now") % {"area": area.label},
            _("%(area)s: %% last quarter") % {"area": area.label},
        ]
    rows = (
        [row.store.code, row.store.name, row.staff]
        + [
            value
            for cell in row.cells
            for value in (
                cell.met,
                cell.required,
                "" if cell.percent is None else cell.percent,
                "" if cell.previous is None else cell.previous,
            )
        ]
        for view in views
        for row in view.rows
    )
    return csv_response("skills-network.csv", header, rows)


@area_required(Area.HQ)
@require_GET
@replica_reads
def store(request: HttpRequest, code: str) -> HttpResponse:
    shop = get_object_or_404(access.stores_for(request.user), code=code)
    heatmap = services.store_heatmap(store=shop, page_number=request.GET.get("page"))
    context = {
        "title": _("Skills in %(store)s") % {"store": shop},
        "shop": shop,
        "heatmap": heatmap,
        "page_url": reverse("training_hq:store", args=[shop.code]),
        "csv_url": reverse("training_hq:store_csv", args=[shop.code]),
        "tab": "network",
    }
    return render(request, "training/hq_store.html", context)


@area_required(Area.HQ)
@require_GET
@replica_reads
def store_csv(request: HttpRequest, code: str) -> HttpResponse:
    shop = get_object_or_404(access.stores_for(request.user), code=code)
    return heatmap_csv(shop)


@area_required(Area.HQ)
@require_GET
@replica_reads
def courses(request: HttpRequest) -> HttpResponse:
    """Every course with its enrolments, pass rate and rating; learners' feedback."""
    rows = list(
        courses_with_texts()
        .annotate(
            enrolled=Count("enrolments"),
            passed=Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.PASSED)),
            ratings=Count("enrolments", filter=Q(enrolments__rating__isnull=False)),
            rating=Avg("enrolments__rating"),
        )
        .order_by("area__position", "code")[:200]
    )
    feedback = Paginator(
        Enrolment.objects.exclude(feedback="")
        .select_related("user__staff_profile__home_store", "course")
        .order_by("-rated_at", "-pk"),
        FEEDBACK_PAGE,
    ).get_page(request.GET.get("page"))
    titles = {c.pk: (c.text_for().title if c.text_for() else c.code) for c in rows}
    context = {
        "title": _("Courses and feedback"),
        "rows": rows,
        "feedback": feedback,
        "titles": titles,
        "tab": "courses",
    }
    return render(request, "training/hq_courses.html", context)
