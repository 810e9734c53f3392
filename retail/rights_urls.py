"""HQ's customer data rights pages (`/hq/customers/`)."""

from django.urls import path

from retail import rights_views

app_name = "hq_customers"

urlpatterns = [
    path("", rights_views.hq_customers, name="search"),
    path("campaign.csv", rights_views.hq_customers_campaign_csv, name="campaign_csv"),
    path("retention/", rights_views.hq_retention, name="retention"),
    path("<int:pk>/", rights_views.hq_customer, name="detail"),
    path("<int:pk>/export/", rights_views.hq_customer_export, name="export"),
    path("<int:pk>/erase/", rights_views.hq_customer_erase, name="erase"),
]
