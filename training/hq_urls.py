"""HQ's training pages, mounted at /hq/training/ (namespace `training_hq`)."""

from django.urls import path

from training.views import hq

app_name = "training_hq"
urlpatterns = [
    path("", hq.network, name="network"),
    path("network.csv", hq.network_csv, name="network_csv"),
    path("courses/", hq.courses, name="courses"),
    path("stores/<str:code>/", hq.store, name="store"),
    path("stores/<str:code>/heatmap.csv", hq.store_csv, name="store_csv"),
]
