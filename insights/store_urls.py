"""A store manager's dashboard, mounted at /store/insights/ (namespace `insights_store`)."""

from django.urls import path

from insights.dashboard import views

app_name = "insights_store"
urlpatterns = [
    path("", views.store_dashboard, name="dashboard"),
    path("panel/", views.store_panel, name="panel"),
    path("csv/<slug:table>/", views.store_table_csv, name="csv"),
]
