from django.urls import path

from orders import api

urlpatterns = [
    path("orders/", api.OrderCreateView.as_view(), name="order_create"),
    path("orders/<str:order_ref>/", api.OrderDetailView.as_view(), name="order"),
    path("orders/<str:order_ref>/cancel/", api.OrderCancelView.as_view(), name="order_cancel"),
]
