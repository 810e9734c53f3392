"""HQ's pickup pages, mounted at /hq/pickups/ (namespace `orders_hq`)."""

from django.urls import path

from orders import views

app_name = "orders_hq"
urlpatterns = [path("", views.hq_pickups, name="pickups")]
