"""Aisle's URLs. Each area asks `retail.access` in its views; the access-matrix
test walks every pattern here for every role."""

from allauth.account import views as account_views
from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from retail import content_policy, csp_report, health, media, metrics, offline, rights_views, views
from retail.api import urls as api_urls

admin.site.login = secure_admin_login(admin.site.login)

store_patterns = [
    path("", views.store_home, name="store_home"),
    path("choose/", views.store_choose, name="store_choose"),
    path("customers/", views.customer_search, name="customer_search"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
]

retail_patterns = [
    path("", views.home, name="home"),
    path("store/", include(store_patterns)),
    path("hq/network/", views.hq_overview, name="hq_overview"),
]

# The integration API: each app adds its endpoints; unknown paths answer JSON 404.
api_patterns = [
    path("", include(api_urls.urlpatterns)),
    path("", include("inventory.api_urls")),
    path("", include("orders.api_urls")),
    path("", include("clienteling.api_urls")),
    path("", include("returns.api_urls")),
    *api_urls.not_found,
]

urlpatterns = [
    path("", include((retail_patterns, "retail"))),
    # Operations: anonymous probes (`retail.access.PUBLIC_PROBES`) and the metrics.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Browsers' Content-Security-Policy reports, signed in or not (`access.PUBLIC_REPORTS`).
    path("csp-report/", csp_report.csp_report, name="csp_report"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # The tablet's offline mode (`retail.access.PUBLIC_ASSETS`).
    path("sw.js", offline.service_worker, name="service_worker"),
    path("offline/", offline.offline_page, name="offline"),
    path("api/v1/", include((api_patterns, "api"))),
    path("kiosk/", include("kiosk.urls")),
    # HQ's landing page (the network dashboard) and its CSVs; a store manager's version.
    path("hq/", include("insights.hq_urls")),
    path("store/insights/", include("insights.store_urls")),
    path("store/training/", include("training.urls")),
    path("store/aisle/", include("inventory.aisle_urls")),
    path("store/cart/", include("clienteling.cart_urls")),
    path("hq/sales/", include("clienteling.hq_urls")),
    path("store/ship/", include("orders.ship_urls")),
    path("store/counts/", include("inventory.urls")),
    path("hq/counts/", include("inventory.hq_urls")),
    path("hq/ship/", include("orders.ship_hq_urls")),
    path("store/clienteling/", include("clienteling.urls")),
    path("store/appointments/", include("clienteling.appointments.urls")),
    path("store/pickups/", include("orders.urls")),
    path("store/returns/", include("returns.urls")),
    path("hq/pickups/", include("orders.hq_urls")),
    path("hq/training/", include("training.hq_urls")),
    path("hq/customers/", include("retail.rights_urls")),
    # Public (access.PUBLIC_PAGES): the one-click unsubscribe link of marketing e-mails.
    path("unsubscribe/<str:token>/", rights_views.unsubscribe_view, name="unsubscribe"),
    # Public (access.PUBLIC_PAGES): the signed links of a customer's appointment e-mails.
    path("appointment/", include("clienteling.appointments.link_urls")),
    path("hq/audit/", include("retail.audit_urls")),
    path("hq/returns/", include("returns.hq_urls")),
    path("hq/journal/", include("insights.journal_hq_urls")),
    path("store/journal/", include("insights.journal_urls")),
    # Incentives that count every channel (insights: the top layer, included by string).
    path("store/incentives/", include("insights.incentive_urls")),
    path("hq/incentives/", include("insights.incentive_hq_urls")),
    path("admin/", admin.site.urls),
    # allauth's e-mail page with the one style attribute it needs allowed by its hash
    # (`content_policy.ALLAUTH_EMAIL_PAGE`); before allauth's own URLs, so it wins.
    path(
        "accounts/email/",
        content_policy.allow(content_policy.ALLAUTH_EMAIL_PAGE)(account_views.email),
        name="account_email",
    ),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]

if media.served_locally():
    # Uploaded files, with DEBUG on or off, to whom `access.may_see_media` allows.
    urlpatterns.append(
        path(f"{settings.MEDIA_URL.lstrip('/')}<path:path>", media.serve, name="media")
    )

# Error pages: JSON under /api/, friendly pages without database queries elsewhere.
handler400 = "retail.errors.bad_request"
handler403 = "retail.errors.permission_denied"
handler404 = "retail.errors.page_not_found"
handler500 = "retail.errors.server_error"
