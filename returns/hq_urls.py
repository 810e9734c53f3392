"""HQ's returns pages, mounted at /hq/returns/ (namespace `returns_hq`): what comes
back across the network, and the customers whose returns need a closer look."""

from django.urls import path

from returns import hq_signals_views, hq_views

app_name = "returns_hq"
urlpatterns: list = [
    path("", hq_views.overview, name="overview"),
    path("risk/", hq_signals_views.risk, name="risk"),
    path("<slug:table>.csv", hq_views.table_csv, name="csv"),
]
