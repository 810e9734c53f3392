"""HQ's incentives across the network, mounted at /hq/incentives/."""

from django.urls import path

from insights import incentive_views

app_name = "insights_incentives_hq"
urlpatterns = [
    path("", incentive_views.network, name="network"),
    path("export.csv", incentive_views.network_csv, name="csv"),
]
