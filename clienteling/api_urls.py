from django.urls import path

from clienteling import api
from clienteling.appointments import api as appointments

urlpatterns = [
    path("events/", api.EventsView.as_view(), name="events"),
    path("identify/", api.IdentifyView.as_view(), name="identify"),
    path("appointments/topics/", appointments.TopicsView.as_view(), name="appointment_topics"),
    path("appointments/slots/", appointments.SlotsView.as_view(), name="appointment_slots"),
    path("appointments/", appointments.AppointmentCreateView.as_view(), name="appointments"),
    path(
        "appointments/<str:appointment_ref>/",
        appointments.AppointmentDetailView.as_view(),
        name="appointment",
    ),
    path(
        "appointments/<str:appointment_ref>/cancel/",
        appointments.AppointmentCancelView.as_view(),
        name="appointment_cancel",
    ),
]
