"""HQ's stock count differences, mounted at /hq/counts/ (namespace `counts_hq`)."""

from django.urls import path

from inventory import views

app_name = "counts_hq"
urlpatterns = [path("", views.hq_differences, name="differences")]
