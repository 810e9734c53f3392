"""The audit log is append-only: in code, in admin, and on PostgreSQL in the database."""

import pytest
from django.db import DatabaseError, connection, transaction

from retail import services
from retail.models import AuditLog
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(associate, store):
    customer = factories.CustomerFactory()
    return services.customer_profile_view(customer=customer, by=associate, store=store)


def test_rows_cannot_be_changed_or_deleted_through_the_orm(entry):
    entry.action = "tampered"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=entry.pk).update(action="tampered")
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()
    assert AuditLog.objects.get(pk=entry.pk).action == "customer.view"


@pytest.mark.postgres
def test_postgresql_refuses_update_and_delete_of_an_audit_row(entry):
    assert connection.vendor == "postgresql"
    table = AuditLog._meta.db_table
    for sql in (
        f"UPDATE {table} SET action = 'tampered' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    assert AuditLog.objects.get(pk=entry.pk).action == "customer.view"


def test_admin_shows_the_log_read_only(hq_client, entry):
    listing = hq_client.get("/admin/retail/auditlog/")
    assert listing.status_code == 200
    assert "customer.view" in listing.content.decode()
    page = hq_client.get(f"/admin/retail/auditlog/{entry.pk}/change/")
    assert page.status_code == 200
    assert 'name="action"' not in page.content.decode()
    response = hq_client.post(f"/admin/retail/auditlog/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditLog.objects.filter(pk=entry.pk).exists()


def test_audit_details_hold_no_personal_data(entry):
    customer_id = entry.target_id
    assert entry.target_type == "retail.customer"
    assert entry.detail == {}
    assert customer_id.isdigit()
