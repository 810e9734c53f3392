"""HQ's imports in admin: upload, read the dry run, apply, errors, progress, export."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from retail.models import AuditLog, Category, ImportJob, ImportState

pytestmark = pytest.mark.django_db

GOOD = "code,name,name_zh,tax_rate\r\nknit,Knitwear,针织,20\r\nhome,Home,,10\r\n"
BAD = "code,name,tax_rate\r\nknit,Knitwear,20\r\nhome,Home,10.123\r\n"
ADD = "/admin/retail/importjob/add/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def upload(client, text, name="categories.csv", kind="categories", capture=None):
    file = SimpleUploadedFile(name, text.encode("utf-8"))
    with capture(execute=True):
        return client.post(ADD, {"kind": kind, "file": file})


def test_hq_uploads_reads_the_dry_run_then_applies(hq_client, django_capture_on_commit_callbacks):
    page = hq_client.get(ADD)
    assert page.status_code == 200
    assert "tax_rate" in page.content.decode()  # each kind's columns are listed
    response = upload(hq_client, GOOD, capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/retail/importjob/{job.pk}/change/"
    page = hq_client.get(response["Location"]).content.decode()
    assert 'id="import-apply"' in page and 'id="import-changes"' in page
    assert "knit" in page and "2 rows create records" in page
    assert not Category.objects.exists()  # a check changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        applied = hq_client.post(f"/admin/retail/importjob/{job.pk}/apply/")
    assert applied.status_code == 302
    job.refresh_from_db()
    assert job.state == ImportState.APPLIED
    assert Category.objects.get(code="knit").name == "Knitwear"
    page = hq_client.get(f"/admin/retail/importjob/{job.pk}/change/").content.decode()
    assert "What was applied" in page and 'id="import-apply"' not in page
    assert AuditLog.objects.filter(action="import.apply").exists()


def test_a_refused_file_lists_errors_by_row_and_column_with_a_report(
    hq_client, django_capture_on_commit_callbacks
):
    upload(hq_client, BAD, capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert job.state == ImportState.REFUSED
    page = hq_client.get(f"/admin/retail/importjob/{job.pk}/change/").content.decode()
    assert 'id="import-refused"' in page and 'id="import-errors"' in page
    assert "tax_rate" in page and 'id="import-apply"' not in page
    report = hq_client.get(f"/admin/retail/importjob/{job.pk}/errors/")
    assert report.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert any(r[:2] == ["3", "tax_rate"] for r in rows), rows
    # Applying a refused file is refused, and nothing changed.
    hq_client.post(f"/admin/retail/importjob/{job.pk}/apply/")
    assert not Category.objects.exists()


def test_a_file_that_is_not_a_spreadsheet_is_refused_on_the_form(hq_client):
    file = SimpleUploadedFile("notes.txt", b"hello")
    response = hq_client.post(ADD, {"kind": "categories", "file": file})
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert not ImportJob.objects.exists()


def test_the_progress_part_polls_while_working_and_reloads_when_done(hq_client, hq_user):
    from retail.imports import jobs

    job = jobs.import_job_create(
        kind="categories", upload=SimpleUploadedFile("c.csv", GOOD.encode()), by=hq_user
    )
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportState.CHECKING, rows_total=200, rows_done=50
    )
    part = hq_client.get(f"/admin/retail/importjob/{job.pk}/progress/")
    assert 'value="25"' in part.content.decode() and "HX-Refresh" not in part
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.CHECKED)
    part = hq_client.get(f"/admin/retail/importjob/{job.pk}/progress/")
    assert part["HX-Refresh"] == "true"


def test_export_downloads_csv_and_xlsx_and_is_audited(hq_client):
    Category.objects.create(code="knit", name="=HYPERLINK(1)", tax_rate=20)
    response = hq_client.post(
        "/admin/retail/importjob/export/", {"kind": "categories", "format": "csv"}
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0].startswith("code,name")
    assert "'=HYPERLINK(1)" in text  # formula-safe
    xlsx = hq_client.post(
        "/admin/retail/importjob/export/", {"kind": "categories", "format": "xlsx"}
    )
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditLog.objects.filter(action="import.export").count() == 2


def test_store_staff_cannot_upload_or_export(client, associate, manager):
    for user in (associate, manager):
        client.force_login(user)
        for url in (ADD, "/admin/retail/importjob/export/"):
            assert client.get(url).status_code in (302, 403)


def test_a_request_larger_than_the_import_limit_is_refused_before_it_is_read(hq_client, settings):
    settings.AISLE_IMPORT_MAX_BYTES = 1000
    response = hq_client.post(
        ADD, data="x" * 10, content_type="text/plain", CONTENT_LENGTH=str(5 * 1024 * 1024)
    )
    assert response.status_code == 413
    assert not ImportJob.objects.exists()
