"""A store manager's journal (`/store/journal/`), mounted by `retail.urls`."""

from django.urls import path

from insights import journal_views

app_name = "journal_store"

urlpatterns = [
    path("", journal_views.store_journal, name="journal"),
    path("journal.csv", journal_views.store_journal_csv, name="csv"),
]
