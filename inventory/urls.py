"""The tablet's stock counts, mounted at /store/counts/ (namespace `counts`)."""

from django.urls import path

from inventory import views

app_name = "counts"
urlpatterns = [
    path("", views.sheet, name="sheet"),
    path("scan/", views.scan, name="scan"),
    path("remove/", views.remove, name="remove"),
    path("clear/", views.clear, name="clear"),
    path("confirm/", views.confirm, name="confirm"),
]
