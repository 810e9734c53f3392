"""An import HQ uploaded: its file, where it stands, what a dry run found (imported by
`retail.models` so Django finds it; the work is in `retail.imports`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportState(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    REFUSED = "refused", _("Refused")
    APPLYING = "applying", _("Applying")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed")


class ImportStep(models.TextChoices):
    WAITING = "", _("Waiting")
    VALIDATING = "validating", _("Validating every row")
    APPLYING = "applying", _("Applying")
    DONE = "done", _("Done")


class ImportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class ImportJob(models.Model):
    """One file to import: uploaded → checking → checked (or refused) → applying →
    applied (or failed). A check is a dry run: every row validated and applied inside a
    transaction that is rolled back, so `summary` and `changes` show what applying
    would do. The work runs in `retail.tasks.import_job_run`."""

    kind = models.CharField(_("kind"), max_length=20, db_index=True)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    file_name = models.CharField(_("file name"), max_length=255)
    format = models.CharField(_("format"), max_length=4, choices=ImportFormat.choices)
    file_digest = models.CharField(_("SHA-256"), max_length=64, blank=True)
    language = models.CharField(
        _("language"), max_length=10, default="en", help_text=_("Errors are written in it.")
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ImportState.choices, default=ImportState.UPLOADED
    )
    step = models.CharField(
        _("step"), max_length=10, choices=ImportStep.choices, default="", blank=True
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    summary = models.JSONField(
        _("rows by outcome"),
        default=dict,
        blank=True,
        help_text=_("Rows created, updated and unchanged (by the dry run, then the apply)."),
    )
    changes = models.JSONField(_("changes"), default=list, blank=True)
    errors = models.JSONField(_("errors"), default=dict, blank=True)
    error_count = models.PositiveIntegerField(_("errors found"), default=0)
    error_report = models.FileField(
        _("error report"), upload_to="imports/errors/%Y/%m/", blank=True
    )
    applied_rows = models.PositiveIntegerField(
        _("rows applied"),
        default=0,
        help_text=_("Rows committed (a stock file refused at a later batch keeps these)."),
    )
    failure = models.TextField(_("failure"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("applied by"),
    )
    # When a task last took the job: another task takes it over only once the first
    # would have been stopped by its time limit (a worker that died).
    claimed_at = models.DateTimeField(_("taken by a worker"), null=True, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True, db_index=True)
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.file_name} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 100 if self.state in (ImportState.APPLIED, ImportState.CHECKED) else 0
        return min(100, round(100 * self.rows_done / self.rows_total))

    def error_lines(self):
        """(row, column, message) of the errors kept on the job, by row."""
        for row in sorted(self.errors, key=int):
            for column, messages in self.errors[row].items():
                for message in messages:
                    yield int(row), column, message
