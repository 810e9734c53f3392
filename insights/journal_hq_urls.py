"""HQ's finance journal (`/hq/journal/`), mounted by `retail.urls`."""

from django.urls import path

from insights import journal_views

app_name = "journal_hq"

urlpatterns = [
    path("", journal_views.hq_journal, name="journal"),
    path("journal.csv", journal_views.hq_journal_csv, name="csv"),
]
