"""The tablet's pickup pages, mounted at /store/pickups/ (namespace `orders_store`)."""

from django.urls import path

from orders import views

app_name = "orders_store"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("panel/", views.panel, name="panel"),
    path("find/", views.find, name="find"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/scan/", views.scan, name="scan"),
    path("<int:pk>/lines/<int:line_id>/short/", views.short, name="short"),
    path("<int:pk>/ready/", views.ready, name="ready"),
    path("<int:pk>/handover/", views.handover, name="handover"),
    path("<int:pk>/unlock-code/", views.unlock_code, name="unlock_code"),
    path("<int:pk>/link-customer/", views.link_customer, name="link_customer"),
]
