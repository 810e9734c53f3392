from django.urls import path

from inventory import aisle_views

app_name = "aisle"

urlpatterns = [
    path("", aisle_views.search, name="search"),
    path("<str:style_code>/", aisle_views.product, name="product"),
]
