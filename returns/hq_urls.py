"""HQ's returns pages, mounted at /hq/returns/ (namespace `returns_hq`): what comes
back across the network, and the customers whose returns need a closer look."""

from django.urls import path  # noqa: F401  (the pages add their paths here)

app_name = "returns_hq"
urlpatterns: list = []
