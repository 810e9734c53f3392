"""Import jobs: checked and applied by a task queued through the outbox, with
progress, an error report, and one apply however often it is asked for."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from retail.imports import formats, jobs
from retail.models import Category, ImportJob, ImportState, OutboxEntry
from retail.tasks import import_job_run
from tests import factories

pytestmark = pytest.mark.django_db

GOOD = "code,name,name_zh,tax_rate\r\nknit,Knitwear,针织,20\r\nhome,Home,,10\r\n"
BAD = "code,name,tax_rate\r\nknit,Knitwear,20\r\nhome,Home,10.123\r\nbad code,X,5\r\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def upload(text: str, name="categories.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"))


def new_job(hq_user, text=GOOD, kind="categories", name="categories.csv"):
    return jobs.import_job_create(kind=kind, upload=upload(text, name), by=hq_user)


def test_a_check_is_a_dry_run_queued_on_the_imports_queue(
    hq_user, django_capture_on_commit_callbacks
):
    job = new_job(hq_user)
    assert (job.state, job.format, job.file_name) == ("uploaded", "csv", "categories.csv")
    with django_capture_on_commit_callbacks(execute=True):
        jobs.import_job_check(job=job)
    entry = OutboxEntry.objects.get(name="retail.tasks.import_job_run")
    assert (entry.queue, entry.payload) == ("imports", {"job_id": job.pk, "apply": False})
    job.refresh_from_db()
    assert job.state == ImportState.CHECKED
    assert job.summary == {"created": 2, "updated": 0, "unchanged": 0}
    assert [c["label"] for c in job.changes] == ["knit", "home"]
    assert (job.rows_total, job.rows_done, job.error_count) == (2, 2, 0)
    assert not Category.objects.exists()


def test_apply_after_the_check(hq_user, django_capture_on_commit_callbacks):
    job = new_job(hq_user)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.import_job_check(job=job)
    job.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        jobs.import_job_apply(job=job, by=hq_user)
    job.refresh_from_db()
    assert job.state == ImportState.APPLIED
    assert (job.applied_by, job.applied_rows) == (hq_user, 2)
    assert Category.objects.get(code="knit").tax_rate == Decimal("20.00")


def test_applying_twice_is_one_apply(hq_user, django_capture_on_commit_callbacks):
    job = new_job(hq_user)
    import_job_run(job.pk, apply=False)
    import_job_run(job.pk, apply=True)
    Category.objects.filter(code="knit").update(name="Renamed since")
    import_job_run(job.pk, apply=True)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.import_job_apply(job=job, by=hq_user)
    assert Category.objects.get(code="knit").name == "Renamed since"
    job.refresh_from_db()
    assert job.state == ImportState.APPLIED


def test_a_job_another_worker_holds_is_left_until_its_time_limit(hq_user):
    job = new_job(hq_user)
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportState.APPLYING, claimed_at=timezone.now()
    )
    import_job_run(job.pk, apply=True)
    assert not Category.objects.exists()
    ImportJob.objects.filter(pk=job.pk).update(claimed_at=timezone.now() - dt.timedelta(hours=2))
    import_job_run(job.pk, apply=True)  # the first worker died: this one takes over
    assert Category.objects.count() == 2


def test_a_refused_file_leaves_the_database_unchanged_with_an_error_report(hq_user):
    factories.CategoryFactory(code="knit", name="Old knitwear")
    job = new_job(hq_user, BAD)
    import_job_run(job.pk, apply=True)
    job.refresh_from_db()
    assert job.state == ImportState.REFUSED
    assert job.error_count == 2
    assert job.errors == {
        "3": {"tax_rate": ["“10.123” has more than 2 decimals."]},
        "4": {"code": [job.errors["4"]["code"][0]]},
    }
    assert Category.objects.get().name == "Old knitwear"
    with job.error_report.open("rb") as f:
        lines = list(csv.reader(io.StringIO(f.read().decode("utf-8-sig"))))
    assert lines[0] == ["row", "column", "message"]
    assert lines[1] == ["3", "tax_rate", "“10.123” has more than 2 decimals."]
    assert len(lines) == 3


def test_progress_is_saved_as_the_rows_go(hq_user, monkeypatch):
    from retail.imports.categories import CategoriesKind

    monkeypatch.setattr(CategoriesKind, "batch_size", 1)
    monkeypatch.setattr(CategoriesKind, "check_batch_size", 1)
    seen = []
    write = jobs.ProgressWriter.write
    monkeypatch.setattr(
        jobs.ProgressWriter, "write", lambda self, **f: (seen.append(f), write(self, **f))
    )
    rows = "".join(f"c{n},Category {n},,20\r\n" for n in range(150))
    job = new_job(hq_user, "code,name,name_zh,tax_rate\r\n" + rows)
    import_job_run(job.pk, apply=True)
    validating = [f["rows_done"] for f in seen if f["step"] == "validating"]
    applying = [f["rows_done"] for f in seen if f["step"] == "applying"]
    assert validating[-1] == applying[-1] == 150
    assert 100 <= len(applying) <= 151  # about every 1%
    assert applying == sorted(applying)
    job.refresh_from_db()
    assert (job.state, job.rows_done, job.rows_total, job.percent) == ("applied", 150, 150, 100)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_shows_outside_a_whole_file_transaction(monkeypatch):
    """While a file applied in one transaction is under way, another connection (the
    page's) sees its progress."""
    from retail.imports.categories import CategoriesKind

    monkeypatch.setattr(CategoriesKind, "batch_size", 10)
    outside = connection.copy()
    seen = []
    write = jobs.ProgressWriter.write

    def spy(self, **fields):
        write(self, **fields)
        if fields["step"] == "applying" and connection.in_atomic_block:
            with outside.cursor() as cursor:
                cursor.execute(
                    "SELECT rows_done FROM retail_importjob WHERE id = %s", [self.job_id]
                )
                seen.append(cursor.fetchone()[0])

    monkeypatch.setattr(jobs.ProgressWriter, "write", spy)
    rows = "".join(f"c{n},Category {n},,20\r\n" for n in range(50))
    job = jobs.import_job_create(
        kind="categories", upload=upload("code,name,name_zh,tax_rate\r\n" + rows), by=None
    )
    try:
        import_job_run(job.pk, apply=True)
    finally:
        outside.close()
    assert seen[:3] == [10, 20, 30]
    assert Category.objects.count() == 50


def test_a_file_over_the_limit_is_not_even_stored(hq_user, settings):
    settings.AISLE_IMPORT_MAX_BYTES = 10
    with pytest.raises(formats.FileRefused):
        new_job(hq_user)
    assert not ImportJob.objects.exists()


def test_a_file_refused_as_a_whole_is_reported_as_row_0(hq_user, settings):
    job = new_job(hq_user, "garbage", name="categories.xlsx")
    import_job_run(job.pk, apply=False)
    job.refresh_from_db()
    assert job.state == ImportState.REFUSED
    assert list(job.errors) == ["0"] and "not an XLSX" in job.errors["0"][""][0]


def test_apply_is_refused_before_a_check(hq_user):
    job = new_job(hq_user)
    with pytest.raises(jobs.ImportJobError):
        jobs.import_job_apply(job=job, by=hq_user)


def test_a_job_reports_its_errors_in_its_uploaders_language(hq_user):
    header = "code,name,address_line1,city,postcode,country,latitude,longitude\r\n"
    job = jobs.import_job_create(
        kind="stores",
        upload=upload(header + "S!,Lyon,1 Rue,Lyon,69003,France,45.7,4.8\r\n", "stores.csv"),
        by=hq_user,
        language="zh-hans",
    )
    import_job_run(job.pk, apply=False)
    job.refresh_from_db()
    assert job.state == ImportState.REFUSED
    assert job.errors["2"]["code"] == [
        "门店代码由 2 到 16 个大写字母、数字或连字符组成，例如 S01。"
    ]
    assert job.errors["2"]["country"][0].startswith("请使用两位 ISO 国家代码")


def test_import_files_are_served_to_hq_only(hq_client, hq_user, client, associate, settings):
    settings.AISLE_MEDIA_STORAGE = "local"
    job = new_job(hq_user, BAD)
    import_job_run(job.pk, apply=False)
    job.refresh_from_db()
    for url in (job.file.url, job.error_report.url):
        assert hq_client.get(url).status_code == 200
    client.force_login(associate)
    assert client.get(job.error_report.url).status_code == 403
