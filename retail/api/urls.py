"""`/api/v1/`: the schema and docs are public; every endpoint needs a token."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from retail.api import catalog, exceptions, views


class PublicSchemaView(SpectacularAPIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []


class PublicDocsView(SpectacularSwaggerSplitView):
    """Swagger UI under the Content-Security-Policy: the split view serves its start-up
    script from this URL with `?script` instead of inline, and Aisle's template has no
    inline style either, so the page needs no exception to the policy."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    template_name = "api/docs.html"


urlpatterns = [
    path("schema/", PublicSchemaView.as_view(), name="schema"),
    path("docs/", PublicDocsView.as_view(url_name="api:schema"), name="docs"),
    path("customers/<str:customer_ref>/", views.CustomerView.as_view(), name="customer"),
    path("products/<str:style_code>/", catalog.ProductView.as_view(), name="product"),
    path(
        "customers/<str:customer_ref>/export/",
        views.CustomerExportView.as_view(),
        name="customer_export",
    ),
]
# Appended after every app's endpoints by retail/urls.py.
not_found = [re_path(r"^.*$", exceptions.api_not_found, name="not_found")]
