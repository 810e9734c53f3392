"""The tablet's returns pages, mounted at /store/returns/ (namespace `returns_store`)."""

from django.urls import path

from returns import exchange_views, views
from returns.risk import views as risk_views

app_name = "returns_store"
urlpatterns = [
    path("", views.find, name="find"),
    path("panel/", views.panel, name="panel"),
    path("approvals/", views.approvals, name="approvals"),
    path("order/<int:order_id>/", views.order_page, name="order"),
    path("order/<int:order_id>/preview/", views.order_preview, name="preview"),
    path("order/<int:order_id>/exchange/", exchange_views.exchange_page, name="order_exchange"),
    path("order/<int:order_id>/receipt/", views.order_receipt, name="order_receipt"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/receive/", views.receive, name="receive"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/refuse/", views.refuse, name="refuse"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/receipt/", views.receipt, name="receipt"),
    path("customer/<int:customer_id>/signals/clear/", risk_views.clear, name="signals_clear"),
]
