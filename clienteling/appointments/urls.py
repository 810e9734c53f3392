"""The tablet's appointment pages, mounted at /store/appointments/."""

from django.urls import path

from clienteling.appointments import views

app_name = "appointments"
urlpatterns = [
    path("", views.day, name="day"),
    path("day/", views.day, name="day_view"),
    path("panel/", views.panel, name="panel"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/arrive/", views.arrive, name="arrive"),
    path("<int:pk>/complete/", views.complete, name="complete"),
    path("<int:pk>/no-show/", views.no_show, name="no_show"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/reassign/", views.reassign, name="reassign"),
    path("<int:pk>/set-aside/", views.set_aside_add, name="set_aside_add"),
    path(
        "<int:pk>/set-aside/<int:row>/remove/",
        views.set_aside_remove,
        name="set_aside_remove",
    ),
    path("book/<int:customer_pk>/", views.book, name="book"),
    path("book/<int:customer_pk>/slots/", views.book_slots, name="book_slots"),
    path("hours/", views.hours_list, name="hours"),
    path("hours/<int:user_pk>/", views.hours_edit, name="hours_edit"),
    path("hours/<int:user_pk>/exceptions/", views.exception_add, name="exception_add"),
    path("hours/exceptions/<int:pk>/delete/", views.exception_delete, name="exception_delete"),
]
