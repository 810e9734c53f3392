"""HQ's audit page, its CSV and its alerts (`/hq/audit/`)."""

from django.urls import path

from retail import audit_views

app_name = "audit_hq"

urlpatterns = [
    path("", audit_views.audit_log, name="log"),
    path("export.csv", audit_views.audit_csv, name="csv"),
    path("alerts/", audit_views.audit_alerts, name="alerts"),
]
