"""HQ's landing page, the network dashboard, mounted at /hq/ (namespace `insights_hq`)."""

from django.urls import path

from insights.dashboard import views

app_name = "insights_hq"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("csv/<slug:table>/", views.table_csv, name="csv"),
]
