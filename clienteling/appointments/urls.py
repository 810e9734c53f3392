"""The customer's signed appointment links (public: `retail.access.PUBLIC_PAGES`)."""

from django.urls import path

from clienteling.appointments import views

app_name = "appointment_links"
urlpatterns = [
    path("<str:token>/", views.manage, name="manage"),
    path("<str:token>/cancel/", views.cancel, name="cancel"),
    path("<str:token>/move/", views.reschedule, name="reschedule"),
    path("rate/<str:token>/", views.rate, name="rate"),
]
