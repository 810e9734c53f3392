"""`/api/v1/`: the schema and docs are public; every endpoint needs a token."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from retail.api import exceptions, views


class PublicSchemaView(SpectacularAPIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []


class PublicDocsView(SpectacularSwaggerView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []


urlpatterns = [
    path("schema/", PublicSchemaView.as_view(), name="schema"),
    path("docs/", PublicDocsView.as_view(url_name="api:schema"), name="docs"),
    path("customers/<str:customer_ref>/", views.CustomerView.as_view(), name="customer"),
    path(
        "customers/<str:customer_ref>/export/",
        views.CustomerExportView.as_view(),
        name="customer_export",
    ),
]
# Appended after every app's endpoints by retail/urls.py.
not_found = [re_path(r"^.*$", exceptions.api_not_found, name="not_found")]
