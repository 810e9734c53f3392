"""The tablet's shipping pages, mounted at /store/ship/ (namespace `ship`)."""

from django.urls import path

from orders import ship_views as views

app_name = "ship"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:fulfillment_id>/", views.detail, name="detail"),
    path("<int:fulfillment_id>/slip/", views.slip, name="slip"),
    path("<int:fulfillment_id>/scan/", views.scan, name="scan"),
    path("<int:fulfillment_id>/send/", views.send, name="send"),
    path("<int:fulfillment_id>/receive/", views.receive, name="receive"),
    path("<int:fulfillment_id>/pack/", views.pack, name="pack"),
    path("<int:fulfillment_id>/ship/", views.ship, name="ship"),
    path("<int:fulfillment_id>/delivered/", views.delivered, name="delivered"),
]
