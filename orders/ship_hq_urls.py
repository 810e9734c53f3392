"""HQ's ship-to-store pick lists of the locations without a tablet, and the parcels
stores received short or damaged, mounted at /hq/ship/ (namespace `ship_hq`)."""

from django.urls import path

from orders import receiving_views
from orders import ship_views as views

app_name = "ship_hq"
urlpatterns = [
    path("", views.hq_pick_lists, name="pick_lists"),
    path("<int:fulfillment_id>/send/", views.hq_send, name="send"),
    path("discrepancies/", receiving_views.hq_discrepancies, name="discrepancies"),
    path("discrepancies/csv/", receiving_views.hq_discrepancies_csv, name="discrepancies_csv"),
]
