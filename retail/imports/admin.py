"""HQ's imports and exports in admin (*Imports*): upload a file, read the dry run row by
row, apply it, follow its progress, download its error report; export any kind in the
same columns, as CSV or XLSX.

Every view asks `retail.access` (the admin area) and the model's permissions; every
change is a POST with CSRF; the work itself is done by `retail.imports.jobs`' tasks.
"""

from __future__ import annotations

import tempfile

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from retail import access
from retail.admin import RecordAdmin
from retail.import_models import ImportJob, ImportState
from retail.imports import base, formats, jobs, runner

WORKING = (ImportState.UPLOADED, ImportState.CHECKING, ImportState.APPLYING)
CHANGES_PER_PAGE = 50
ERRORS_PER_PAGE = 100


def kind_choices() -> list[tuple[str, str]]:
    return [(kind.code, kind.verbose_name) for kind in base.kinds()]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=kind_choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8, with or without a byte-order mark) or XLSX."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


class ExportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to export"), choices=kind_choices)
    format = forms.ChoiceField(
        label=_("Format"), choices=(("csv", "CSV"), ("xlsx", "XLSX")), initial="csv"
    )


class ImportJobAdmin(RecordAdmin):
    """Imports HQ uploaded: the list, an upload page, each job's page (its dry run, its
    errors, the Apply button), and exports."""

    list_display = (
        "file_name",
        "kind_name",
        "state",
        "rows_total",
        "error_count",
        "created_by",
        "created_at",
    )
    list_filter = ("kind", "state")
    search_fields = ("file_name",)
    date_hierarchy = "created_at"
    list_select_related = ("created_by",)
    change_list_template = "admin/retail/importjob/change_list.html"

    @admin.display(description=_("kind"), ordering="kind")
    def kind_name(self, obj):
        try:
            return type(base.get(obj.kind)).verbose_name
        except base.UnknownKind:
            return obj.kind

    # --- Who may do what -------------------------------------------------------------

    def _may(self, request, action: str) -> bool:
        return access.can_open(request.user, access.Area.ADMIN) and request.user.has_perm(
            f"retail.{action}_importjob"
        )

    def has_add_permission(self, request):
        return self._may(request, "add")

    def _require(self, request, action: str) -> None:
        if not self._may(request, action):
            raise PermissionDenied

    # --- Pages -----------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("export/", wrap(self.export_view), name="retail_importjob_export"),
            path("<int:pk>/apply/", wrap(self.apply_view), name="retail_importjob_apply"),
            path("<int:pk>/check/", wrap(self.check_view), name="retail_importjob_check"),
            path("<int:pk>/progress/", wrap(self.progress_view), name="retail_importjob_progress"),
            path("<int:pk>/errors/", wrap(self.errors_view), name="retail_importjob_errors"),
            *super().get_urls(),
        ]

    def _context(self, request, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **extra,
        }

    def add_view(self, request, form_url="", extra_context=None):
        """The upload page: the file is stored as a job and its check queued at once."""
        self._require(request, "add")
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = jobs.import_job_create(
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["file"],
                    by=request.user,
                    language=translation.get_language(),
                )
                jobs.import_job_check(job=job)
            except (formats.FileRefused, jobs.ImportJobError) as exc:
                form.add_error("file", str(exc))
            else:
                return redirect(reverse("admin:retail_importjob_change", args=[job.pk]))
        context = self._context(
            request,
            gettext("Import a file"),
            form=form,
            kinds=[(kind, kind.columns) for kind in base.kinds()],
            limit_mb=formats.max_bytes() // (1024 * 1024),
        )
        status = 400 if form.errors else 200
        return TemplateResponse(
            request, "admin/retail/importjob/upload.html", context, status=status
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A job's page: where it stands, what the check found, the Apply button."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = self._job(request, object_id)
        changes = Paginator(job.changes or [], CHANGES_PER_PAGE).get_page(
            request.GET.get("changes")
        )
        errors = Paginator(list(job.error_lines()), ERRORS_PER_PAGE).get_page(
            request.GET.get("errors")
        )
        summary = job.summary or {}
        kind_name = self.kind_name(job)
        context = self._context(
            request,
            f"{kind_name}: {job.file_name}",
            job=job,
            kind_name=kind_name,
            working=job.state in WORKING,
            summary=summary,
            to_change=summary.get("created", 0) + summary.get("updated", 0),
            changes=changes,
            errors=errors,
            may_apply=job.state == ImportState.CHECKED and self._may(request, "add"),
            may_check=job.state in (ImportState.CHECKED, ImportState.REFUSED, ImportState.FAILED)
            and self._may(request, "add"),
            whole_file=getattr(type(_kind_or_none(job.kind)), "whole_file", True),
        )
        return TemplateResponse(request, "admin/retail/importjob/job.html", context)

    def progress_view(self, request, pk: int):
        """The progress bar, polled while the job runs; once it has finished, the page
        reloads to show the outcome."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = self._job(request, pk)
        response = TemplateResponse(
            request,
            "admin/retail/importjob/job.html#progress",
            {"job": job, "working": job.state in WORKING},
        )
        response["Cache-Control"] = "no-store"
        if job.state not in WORKING:
            response["HX-Refresh"] = "true"
        return response

    @staticmethod
    def _job(request, pk) -> ImportJob:
        return get_object_or_404(
            access.admin_queryset(request.user, ImportJob.objects.select_related("created_by")),
            pk=pk,
        )

    def apply_view(self, request, pk: int):
        return self._act(request, pk, apply=True)

    def check_view(self, request, pk: int):
        return self._act(request, pk, apply=False)

    @staticmethod
    def _post_only(request) -> None:
        if request.method != "POST":
            raise Http404

    def _act(self, request, pk: int, *, apply: bool):
        self._post_only(request)
        self._require(request, "add")
        job = self._job(request, pk)
        try:
            if apply:
                jobs.import_job_apply(job=job, by=request.user)
            else:
                jobs.import_job_check(job=job)
        except jobs.ImportJobError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                gettext("Applying the file: follow its progress below.")
                if apply
                else gettext("Checking the file again: follow its progress below."),
            )
        return redirect(reverse("admin:retail_importjob_change", args=[job.pk]))

    def errors_view(self, request, pk: int):
        """Every error of the job (row, column, message) as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = self._job(request, pk)
        if job.error_report:
            return FileResponse(
                job.error_report.open("rb"),
                as_attachment=True,
                filename=f"import-{job.pk}-errors.csv",
                content_type="text/csv; charset=utf-8",
            )
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        formats.write_csv(
            response,
            [gettext("row"), gettext("column"), gettext("message")],
            ([str(row), column, message] for row, column, message in job.error_lines()),
        )
        return response

    def export_view(self, request):
        """Export a kind in its import columns (round trip: edit the file, import it back)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ExportForm(request.POST or None)
        if request.method == "POST":
            self._require(request, "view")
            if form.is_valid():
                return self._export(request, form.cleaned_data["kind"], form.cleaned_data["format"])
        context = self._context(request, gettext("Export"), form=form)
        return TemplateResponse(request, "admin/retail/importjob/export.html", context)

    def _export(self, request, code: str, fmt: str) -> FileResponse:
        from retail.services import audit_record

        spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
        rows = runner.export(code, spool, fmt)
        spool.seek(0)
        audit_record(
            actor=request.user,
            action="import.export",
            target=request.user,
            detail={"kind": code, "format": fmt, "rows": rows},
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        content_type = (
            "text/csv; charset=utf-8"
            if fmt == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        return FileResponse(
            spool, as_attachment=True, filename=f"{code}-{stamp}.{fmt}", content_type=content_type
        )


def _kind_or_none(code: str):
    try:
        return base.get(code)
    except base.UnknownKind:
        return None
