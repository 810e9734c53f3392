"""HQ's influenced-sales page, mounted at /hq/sales/."""

from django.urls import path

from clienteling import sales_views

app_name = "clienteling_hq"
urlpatterns = [path("", sales_views.hq_sales, name="sales")]
