"""The tablet's incentives, mounted at /store/incentives/: the manager's team (and its
CSV) and the associate's own figure (the fragment "My sales" loads)."""

from django.urls import path

from insights import incentive_views

app_name = "insights_incentives"
urlpatterns = [
    path("", incentive_views.team, name="team"),
    path("team.csv", incentive_views.team_csv, name="team_csv"),
    path("mine/", incentive_views.mine, name="mine"),
]
