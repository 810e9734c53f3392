"""The endless aisle's cart on the tablet, mounted at /store/cart/."""

from django.urls import path

from clienteling import cart_views

app_name = "cart"
urlpatterns = [
    path("", cart_views.detail, name="detail"),
    path("add/", cart_views.add, name="add"),
    path("lines/<int:line_id>/", cart_views.line, name="line"),
    path("customer/<int:pk>/", cart_views.for_customer, name="for_customer"),
    path("guest/", cart_views.guest, name="guest"),
    path("delivery/", cart_views.delivery, name="delivery"),
    path("place/", cart_views.place, name="place"),
    path("placed/", cart_views.placed, name="placed"),
]
