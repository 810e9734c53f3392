"""Import jobs: a file HQ uploaded, checked (a dry run) and applied by a Celery task.

    job = import_job_create(kind="stock", upload=request.FILES["file"], by=request.user)
    import_job_check(job=job)     # the task validates and tries it: state checked/refused
    import_job_apply(job=job, by=request.user)   # the task applies it: applied/refused

Both queue `retail.tasks.import_job_run` through the outbox, on the imports queue
(`AISLE_IMPORT_QUEUE`). The task (`job_run`) is idempotent: a job already applied is
left alone, and a job another task is working on too (it took the job less than
`AISLE_IMPORT_TIME_LIMIT` ago; after that, that task was stopped and this one takes
over). Progress (`rows_done` of `rows_total`, and the `step`) is saved every ~1% with
a short UPDATE outside the apply's transaction: between batches, or, while a file
applied in one transaction is under way on PostgreSQL, through a second connection
(on SQLite it shows when the transaction ends). Every error is written to the job's
error report (CSV: row, column, message); the job keeps the first 1,000.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import tempfile

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from retail import outbox
from retail.csv_export import safe_cell
from retail.import_models import ImportJob, ImportState, ImportStep
from retail.imports import base, formats, runner

logger = logging.getLogger(__name__)

TASK = "retail.tasks.import_job_run"
# States a task may take a job from at once.
IDLE = (ImportState.UPLOADED, ImportState.CHECKED, ImportState.REFUSED, ImportState.FAILED)


class ImportJobError(ValueError):
    """A job that cannot do what was asked (the message says why)."""


def import_job_create(
    *, kind: str, upload, by, file_name: str | None = None, fmt=None, language=None
):
    """Store an uploaded file as a job to check. Raises `formats.FileRefused` (a file
    too large or not CSV/XLSX: nothing stored) or ImportJobError (an unknown kind)."""
    from retail.services import audit_record

    if kind not in base.codes():
        raise ImportJobError(_("There is no import of %(kind)s.") % {"kind": kind})
    name = os.path.basename(file_name or getattr(upload, "name", "") or "import")
    fmt = formats.format_for(name, fmt)
    size = getattr(upload, "size", None)
    if size is not None and size > formats.max_bytes():
        formats.check_size(formats.Source(name=name, format=fmt, size=size, opener=None))
    job = ImportJob(
        kind=kind,
        file_name=name[:255],
        format=fmt,
        created_by=by,
        language=language or translation.get_language() or settings.LANGUAGE_CODE,
    )
    job.file.save(name, upload if isinstance(upload, File) else File(upload), save=False)
    job.save()
    audit_record(actor=by, action="import.upload", target=job, detail={"kind": kind})
    return job


def _enqueue(job: ImportJob, *, apply: bool) -> None:
    outbox.enqueue_task(
        TASK,
        kwargs={"job_id": job.pk, "apply": apply},
        queue=getattr(settings, "AISLE_IMPORT_QUEUE", "") or None,
    )


@transaction.atomic
def import_job_check(*, job: ImportJob) -> None:
    """Queue a dry run of the job (again, after a refusal or when the data moved)."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.state in (ImportState.APPLYING, ImportState.APPLIED):
        raise ImportJobError(_("This import is already applied or being applied."))
    _enqueue(job, apply=False)


@transaction.atomic
def import_job_apply(*, job: ImportJob, by) -> None:
    """Queue the job's apply (it validates the file again first)."""
    from retail.services import audit_record

    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.state == ImportState.APPLIED:
        return
    if job.state not in (ImportState.CHECKED, ImportState.FAILED, ImportState.APPLYING):
        raise ImportJobError(_("Check the file first; apply it once the check found no error."))
    ImportJob.objects.filter(pk=job.pk).update(applied_by=by)
    audit_record(actor=by, action="import.apply", target=job, detail={"kind": job.kind})
    _enqueue(job, apply=True)


# --- The task's work ------------------------------------------------------------------


def _time_limit() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "AISLE_IMPORT_TIME_LIMIT", 3600))


def _claim(job_id: int, *, apply: bool) -> ImportJob | None:
    """Take the job for this task, or None when there is nothing to do: applied, or
    being worked on by another task still within its time limit."""
    now = timezone.now()
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - _time_limit())
    # An apply may also take over a check or an apply whose worker died; a check only a
    # check. A job applied is never taken again.
    busy = (ImportState.APPLYING, ImportState.CHECKING) if apply else (ImportState.CHECKING,)
    takes = Q(state__in=IDLE) | (Q(state__in=busy) & free)
    state = ImportState.APPLYING if apply else ImportState.CHECKING
    taken = ImportJob.objects.filter(takes, pk=job_id).update(
        state=state, step=ImportStep.WAITING, claimed_at=now, rows_done=0, failure=""
    )
    return (
        ImportJob.objects.select_related("created_by", "applied_by").get(pk=job_id)
        if taken
        else None
    )


class ProgressWriter:
    """Saves a job's progress about every 1%, outside the apply's transaction."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.last = -1
        self.step_name = ""
        self._other = None

    def step(self, name: str) -> None:
        self.step_name = name
        self.last = -1

    def progress(self, done: int, total: int) -> None:
        if self.last >= 0 and done < total and done - self.last < max(1, total // 100):
            return
        self.last = done
        self.write(rows_done=done, rows_total=total, step=self.step_name)

    def write(self, **fields) -> None:
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).update(**fields)
        elif connection.vendor == "postgresql":
            # Inside a file's one transaction: a second connection, in autocommit, so the
            # page sees progress now; it touches only the job row, which the import
            # never locks.
            if self._other is None:
                self._other = connection.copy()
            table = self._other.ops.quote_name(ImportJob._meta.db_table)
            names = list(fields)
            sets = ", ".join(f"{self._other.ops.quote_name(n)} = %s" for n in names)
            with self._other.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET {sets} WHERE id = %s",  # noqa: S608 - names from the model
                    [*(fields[n] for n in names), self.job_id],
                )
        # SQLite in a transaction: a second writer would wait for this one; the
        # progress shows when the job ends.

    def close(self) -> None:
        if self._other is not None:
            self._other.close()
            self._other = None


class ErrorReport:
    """Every error of a run as CSV (row, column, message), in a temporary file."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.text = io.TextIOWrapper(self.file, encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.text)
        self.writer.writerow([_("row"), _("column"), _("message")])
        self.count = 0

    def add(self, row: int, column: str, message: str) -> None:
        self.count += 1
        self.writer.writerow([row, safe_cell(column), safe_cell(message)])

    def save_to(self, job: ImportJob) -> None:
        self.text.flush()
        self.file.seek(0)
        stem = os.path.splitext(job.file_name)[0] or "import"
        job.error_report.save(f"{stem}-errors.csv", File(self.file), save=False)

    def close(self) -> None:
        self.text.close()


def job_run(*, job_id: int, apply: bool) -> None:
    """Check (a dry run) or apply one job; see the module's docstring."""
    job = _claim(job_id, apply=apply)
    if job is None:
        return
    with translation.override(job.language or settings.LANGUAGE_CODE):
        _run(job, apply=apply)


def _run(job: ImportJob, *, apply: bool) -> None:
    writer = ProgressWriter(job.pk)
    report_file = ErrorReport()
    try:
        source = formats.source_from_storage(
            job.file.storage, job.file.name, job.file_name, job.format
        )
        try:
            report = runner.run(
                job.kind,
                source,
                by=(job.applied_by or job.created_by) if apply else job.created_by,
                dry_run=not apply,
                progress=writer.progress,
                on_step=writer.step,
                error_sink=report_file.add,
            )
        except formats.FileRefused as exc:
            report = runner.Report(kind=job.kind, file_name=job.file_name, dry_run=not apply)
            report.state = runner.REFUSED
            report.errors = {0: {"": [str(exc)]}}
            report.error_count = 1
            report_file.add(0, "", str(exc))
    except Exception as exc:
        logger.exception("import job %s (%s) failed", job.pk, job.kind)
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportState.FAILED,
            failure=f"{type(exc).__name__}: {exc}"[:4000],
            finished_at=timezone.now(),
            claimed_at=None,
        )
        return
    finally:
        writer.close()
    try:
        _record(job, report, report_file, apply=apply)
    finally:
        report_file.close()


def _record(
    job: ImportJob, report: runner.Report, report_file: ErrorReport, *, apply: bool
) -> None:
    now = timezone.now()
    if report.refused:
        state = ImportState.REFUSED
    else:
        state = ImportState.APPLIED if apply else ImportState.CHECKED
    job.state = state
    job.step = ImportStep.DONE
    job.rows_total = report.rows
    job.rows_done = report.rows if not report.refused else job.rows_done
    job.summary = report.summary()
    job.changes = [c.as_json() for c in report.changes]
    job.errors = {str(row): columns for row, columns in report.errors.items()}
    job.error_count = report.error_count
    job.file_digest = report.file_digest or job.file_digest
    job.applied_rows = report.applied_rows if apply else job.applied_rows
    job.claimed_at = None
    if apply:
        job.finished_at = now
    else:
        job.checked_at = now
    if report_file.count:
        report_file.save_to(job)
    elif job.error_report:
        job.error_report = ""
    job.save()
