from django.urls import path

from clienteling import api

urlpatterns = [
    path("events/", api.EventsView.as_view(), name="events"),
    path("identify/", api.IdentifyView.as_view(), name="identify"),
]
