"""The customer's signed appointment links (public: `retail.access.PUBLIC_PAGES`)."""

from django.urls import path

from clienteling.appointments import link_views

app_name = "appointment_links"
urlpatterns = [
    path("<str:token>/", link_views.manage, name="manage"),
    path("<str:token>/cancel/", link_views.cancel, name="cancel"),
    path("<str:token>/move/", link_views.reschedule, name="reschedule"),
    path("rate/<str:token>/", link_views.rate, name="rate"),
]
