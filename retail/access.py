"""The one place that decides access in Aisle.

Views, admin and the API ask this module who a user is (their role), which
areas they may open, which stores they may act in, and which rows they may
see. Nothing else in the code base compares roles or store ids by itself.

Areas: ``store`` (the tablet, `/store/`), ``kiosk`` (`/kiosk/`), ``hq``
(`/hq/`) and ``admin`` (`/admin/`). HQ areas also need the second factor in
this session: see :func:`hq_second_factor`.

Anonymous callers reach only the login pages, the API's schema and docs, the
health endpoints (`PUBLIC_PROBES`: `/healthz`, `/readyz`, which reveal no versions
or secrets) and the browsers' CSP reports (`PUBLIC_REPORTS`: `/csp-report/`).
`/metrics` is for whoever runs Aisle: see :func:`metrics_reader`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from retail.models import AuditLog, Customer, Role, StaffProfile, Store, User

if TYPE_CHECKING:
    from django.http import HttpRequest

STORE_SESSION_KEY = "aisle_store_id"


class Area(enum.StrEnum):
    STORE = "store"
    KIOSK = "kiosk"
    HQ = "hq"
    ADMIN = "admin"


AREA_ROLES: dict[Area, frozenset[str]] = {
    Area.STORE: frozenset({Role.ASSOCIATE, Role.STORE_MANAGER}),
    Area.KIOSK: frozenset({Role.KIOSK}),
    Area.HQ: frozenset({Role.HQ_ADMIN}),
    Area.ADMIN: frozenset({Role.HQ_ADMIN}),
}
SECOND_FACTOR_AREAS = frozenset({Area.HQ, Area.ADMIN})


def _profile(user) -> StaffProfile | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if not hasattr(user, "_aisle_profile"):
        if User.staff_profile.is_cached(user):
            # Loaded with the user by `retail.backends` (None when there is none).
            user._aisle_profile = getattr(user, "staff_profile", None)
        else:
            try:
                user._aisle_profile = StaffProfile.objects.select_related("home_store").get(
                    user_id=user.pk
                )
            except StaffProfile.DoesNotExist:
                user._aisle_profile = None
    return user._aisle_profile


def role_of(user) -> str | None:
    """The user's role, or None for anonymous users and users without a profile.

    A superuser without a staff profile (made by `createsuperuser`) counts as an
    HQ admin, and like every HQ admin still needs the second factor.
    """
    profile = _profile(user)
    if profile is not None:
        return profile.role
    if getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser:
        return Role.HQ_ADMIN
    return None


def is_manager(user) -> bool:
    return role_of(user) == Role.STORE_MANAGER


def can_open(user, area: Area | str) -> bool:
    """May this user open the area at all (before the second-factor check)?"""
    return role_of(user) in AREA_ROLES[Area(area)]


def store_ids_for(user) -> frozenset[int]:
    """Ids of the stores where the user may act (HQ: every store)."""
    if not hasattr(user, "_aisle_store_ids"):
        role = role_of(user)
        if role == Role.HQ_ADMIN:
            ids = frozenset(Store.objects.values_list("pk", flat=True))
        elif role is None:
            ids = frozenset()
        else:
            profile = _profile(user)
            ids = {profile.home_store_id} if profile.home_store_id else set()
            if role != Role.KIOSK:
                kept = getattr(user, "_aisle_other_stores", None)  # kept with the user
                if kept is None:
                    kept = profile.other_stores.values_list("pk", flat=True)
                ids |= set(kept)
            ids = frozenset(ids)
        user._aisle_store_ids = ids
    return user._aisle_store_ids


def stores_for(user) -> QuerySet[Store]:
    """The stores where the user may act, as a queryset."""
    if role_of(user) == Role.HQ_ADMIN:
        return Store.objects.all()  # every store: no need to list their ids first
    return Store.objects.filter(pk__in=store_ids_for(user))


def can_act_in(user, store: Store | int | None) -> bool:
    if store is None:
        return False
    store_id = store if isinstance(store, int) else store.pk
    return store_id in store_ids_for(user)


def customers_for(user) -> QuerySet[Customer]:
    """Customer profiles are network-wide for staff and HQ; kiosks see none. An
    erased customer is nobody's any more."""
    if role_of(user) in (Role.ASSOCIATE, Role.STORE_MANAGER, Role.HQ_ADMIN):
        return Customer.objects.filter(erased_at__isnull=True)
    return Customer.objects.none()


def audit_logs_for(user) -> QuerySet[AuditLog]:
    if role_of(user) == Role.HQ_ADMIN:
        return AuditLog.objects.all()
    return AuditLog.objects.none()


def may_review_audit(user) -> bool:
    """May this user read the audit page, its CSV and its alerts (`/hq/audit/`)? HQ only."""
    return role_of(user) == Role.HQ_ADMIN


def admin_queryset(user, queryset: QuerySet) -> QuerySet:
    """What a Django admin list may show this user: everything for HQ, else nothing."""
    return queryset if can_open(user, Area.ADMIN) else queryset.none()


# --- The second factor for HQ -------------------------------------------------


class SecondFactor(enum.StrEnum):
    PASSED = "passed"
    SETUP_NEEDED = "setup"
    VERIFY_NEEDED = "verify"


def hq_second_factor(request: HttpRequest) -> SecondFactor:
    """Has this HQ admin's session passed TOTP? If not, what must they do first?"""
    from allauth.account.authentication import get_authentication_records
    from allauth.mfa.models import Authenticator

    user = request.user
    known = getattr(request, "_aisle_second_factor", None)
    if known is not None and known[0] == user.pk:  # the middleware asked already
        return known[1]
    has_totp = getattr(user, "_aisle_has_totp", None)  # kept with the user (backends)
    if has_totp is None:
        has_totp = Authenticator.objects.filter(
            user_id=user.pk, type=Authenticator.Type.TOTP
        ).exists()
    if not has_totp:
        state = SecondFactor.SETUP_NEEDED
    elif any(r.get("method") == "mfa" for r in get_authentication_records(request, user)):
        state = SecondFactor.PASSED
    else:
        state = SecondFactor.VERIFY_NEEDED
    request._aisle_second_factor = (user.pk, state)
    return state


def may_enter(request: HttpRequest, area: Area | str) -> bool:
    """The full check for a request into an area, second factor included."""
    area = Area(area)
    if not can_open(request.user, area):
        return False
    if area in SECOND_FACTOR_AREAS:
        return hq_second_factor(request) == SecondFactor.PASSED
    return True


# --- Current store -------------------------------------------------------------


def current_store(request: HttpRequest) -> Store | None:
    """The store the user is working in now: the one chosen in this session,
    else their only store (or home store). Always one they may act in."""
    if hasattr(request, "_aisle_current_store"):
        return request._aisle_current_store
    user = request.user
    store = None
    chosen = request.session.get(STORE_SESSION_KEY) if hasattr(request, "session") else None
    profile = _profile(user)
    if (
        chosen is not None
        and profile is not None
        and chosen == profile.home_store_id
        and profile.role != Role.HQ_ADMIN
    ):
        # Store staff may always act in their home store: no need for the others.
        request._aisle_current_store = profile.home_store
        return profile.home_store
    allowed = store_ids_for(user)
    if chosen in allowed:
        kept = getattr(user, "_aisle_other_stores", None) or {}  # `retail.backends`
        store = kept.get(chosen) or Store.objects.filter(pk=chosen).first()
    elif role_of(user) != Role.HQ_ADMIN:
        profile = _profile(user)
        if profile is not None and len(allowed) == 1 and profile.home_store_id in allowed:
            store = profile.home_store
            if hasattr(request, "session"):
                # Remembered as chosen, so the next requests take the short way above.
                request.session[STORE_SESSION_KEY] = store.pk
    request._aisle_current_store = store
    return store


def choose_store(request: HttpRequest, store: Store) -> None:
    if not can_act_in(request.user, store):
        raise PermissionDenied
    request.session[STORE_SESSION_KEY] = store.pk
    request._aisle_current_store = store


# --- View decorator --------------------------------------------------------------


def area_required(area: Area | str) -> Callable:
    """Guard a view: anonymous users go to login, others need the area (and, for
    HQ areas, the second factor, which the middleware asks for first)."""
    area = Area(area)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not may_enter(request, area):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.aisle_area = area
        return wrapped

    return decorator


# --- API clients -------------------------------------------------------------------


def api_client_may(client, scopes) -> bool:
    """May this authenticated, active API client use an operation needing `scopes`?"""
    from retail.models import ApiClient

    if not isinstance(client, ApiClient) or not client.is_active:
        return False
    return set(scopes) <= set(client.scopes)


def api_client_may_place(client, channel: str) -> bool:
    """May this API client place an order in `channel` (HQ allows channels per client)?"""
    from retail.models import ApiClient

    if not isinstance(client, ApiClient) or not client.is_active:
        return False
    return channel in (client.channels or [])


# --- Pickups at the counter --------------------------------------------------------


def may_unlock_pickup_code(user, store: Store | int | None) -> bool:
    """A pickup code locked after wrong codes: its store's managers unlock it."""
    return is_manager(user) and can_act_in(user, store)


def may_link_pickup_customer(user, store: Store | int | None) -> bool:
    """A guest reservation is linked to a customer by the store's staff after an ID check."""
    return role_of(user) in (Role.ASSOCIATE, Role.STORE_MANAGER) and can_act_in(user, store)


# --- Operations ----------------------------------------------------------------------

# URL names anyone may call, signed in or not (load balancers, orchestrators).
PUBLIC_PROBES = frozenset({"healthz", "readyz"})
# URL names a browser calls by itself, signed in or not, a kiosk's too: the
# Content-Security-Policy's violation reports (`retail.csp_report`: POST only, CSRF
# exempt, logged and never stored, so a forged report changes nothing).
PUBLIC_REPORTS = frozenset({"csp_report"})
CSP_REPORT_PATH = "/csp-report/"
#: Uploaded media anyone signed in may see (kiosks too): the catalogue's and the
#: courses' pictures. Everything else (return photos) is for staff of a store or HQ.
CATALOGUE_MEDIA = frozenset({"products", "training"})


def _media_parts(path: str) -> list[str]:
    """The folders of a media path, thumbnails (`thumbs/<size>/<original>`) read as
    their original; [] for a path that is not plain (`..`, `.`, backslashes)."""
    parts = path.split("/")
    if any(p in ("", ".", "..") or "\\" in p for p in parts):
        return []
    if parts[:1] == ["thumbs"]:
        parts = parts[2:]
    return parts


def is_catalogue_media(path: str) -> bool:
    parts = _media_parts(path)
    return bool(parts) and parts[0] in CATALOGUE_MEDIA


def may_see_media(request: HttpRequest, path: str) -> bool:
    """May this request see the uploaded file at `path` (`retail.media.serve`)?"""
    parts = _media_parts(path)
    if not parts or role_of(request.user) is None:
        return False
    if parts[0] in CATALOGUE_MEDIA:
        return True
    if parts[0] == "returns":
        return may_enter(request, Area.STORE) or may_enter(request, Area.HQ)
    if parts[0] == "imports":  # HQ's import files and their error reports (staff e-mails)
        return may_enter(request, Area.HQ)
    return False


# Pages anyone may open without signing in: the unsubscribe link of a marketing e-mail
# (its signed token is the only key; it changes one consent, once), and the signed
# links of a customer's appointment e-mails (`clienteling.appointments.links`: the
# token names one appointment; each POST cancels, moves or rates it).
PUBLIC_PAGES = frozenset(
    {
        "unsubscribe",
        # An appointment e-mail's signed links: see, cancel or move it; rate the visit.
        "appointment_links:manage",
        "appointment_links:cancel",
        "appointment_links:reschedule",
        "appointment_links:rate",
    }
)

# What the browser itself fetches for the tablet's offline mode (`retail.offline`): the
# service worker and the page it shows when the network is gone. Neither names anyone.
PUBLIC_ASSETS = frozenset({"service_worker", "offline"})


def may_manage_customer_data(user) -> bool:
    """May this user export or erase a customer's data (in /hq/, with the second factor)?"""
    return role_of(user) == Role.HQ_ADMIN


def metrics_reader(request: HttpRequest) -> bool:
    """May this request read `/metrics`? Only with `Authorization: Bearer <token>`
    where the token is `settings.AISLE_METRICS_TOKEN` (unset: nobody may)."""
    import hmac

    from django.conf import settings

    token = settings.AISLE_METRICS_TOKEN
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return (
        bool(token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), token.encode())
    )


# --- Training ----------------------------------------------------------------------

TRAINED_ROLES = frozenset({Role.ASSOCIATE, Role.STORE_MANAGER})


def may_take_training(user) -> bool:
    """Store staff take courses and hold certificates; HQ and kiosks do not."""
    return role_of(user) in TRAINED_ROLES


def may_lead_team(user, store: Store | int | None) -> bool:
    """May this user see and develop the team of `store` (heatmap, assessments,
    course assignments, gate overrides)? Its managers, while acting in it."""
    return is_manager(user) and can_act_in(user, store)


def may_assess(manager, user, store: Store | None = None) -> bool:
    """May `manager` assess `user` (and assign them courses, or override a gate for
    them)? Only a store manager, for someone else whose home store is one of the
    manager's stores (and, when given, the store the manager is working in)."""
    if manager is None or user is None or manager.pk == user.pk:
        return False
    profile = _profile(user)
    if profile is None or profile.role not in TRAINED_ROLES or not profile.home_store_id:
        return False
    if store is not None and profile.home_store_id != store.pk:
        return False
    return may_lead_team(manager, profile.home_store_id)


# --- Sessions: what a kiosk may open, idle limits, polls ------------------------------

# A kiosk account opens only these (its screens, the language switch, static files,
# the probes; the API and metrics ignore sessions and ask for their own token);
# never allauth's account pages, the sign-out, admin or staff areas.
MEDIA_PATH = "/media/"
KIOSK_PATH_PREFIXES = (
    "/kiosk/",
    "/i18n/",
    "/static/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/",
    CSP_REPORT_PATH,
)
# The header the polling fragments send (`hx-headers`): a poll is not activity.
POLL_HEADER = "HTTP_X_AISLE_POLL"


def poll_audience(request: HttpRequest) -> tuple[Store, str] | None:
    """Whom a polled store fragment is drawn for, as far as its bytes go: (the current
    store, the role), when the request may be answered from a copy shared by that
    store's staff of that role (`retail.polls`): store staff in the store area, in a
    store they may act in. None for anyone else (they get what the view answers)."""
    if not may_enter(request, Area.STORE):
        return None
    store = current_store(request)
    if store is None:
        return None
    return store, role_of(request.user)


def may_open_path(user, path: str) -> bool:
    """May this signed-in user request `path` at all? Kiosk accounts reach only
    the kiosk (and `/`, which sends them there); everyone else is left to the views."""
    if role_of(user) == Role.KIOSK:
        if path.startswith(MEDIA_PATH):  # the catalogue's pictures only
            return is_catalogue_media(path[len(MEDIA_PATH) :])
        return path == "/" or path.startswith(KIOSK_PATH_PREFIXES)
    return True


def is_poll(request: HttpRequest) -> bool:
    """Is this request a poll from an open page (an htmx GET with the poll header)?
    A poll neither counts as activity nor writes the session."""
    return (
        request.method in ("GET", "HEAD")
        and request.headers.get("HX-Request") == "true"
        and request.META.get(POLL_HEADER) == "1"
    )


def is_browser_report(request: HttpRequest) -> bool:
    """Did the browser send this request by itself (a CSP violation report)? Like a
    poll, it is not the person's activity."""
    return request.path == CSP_REPORT_PATH


def idle_limit(user) -> int | None:
    """Seconds without activity after which this user's session ends (None: never;
    a kiosk is reset instead, see :func:`kiosk_idle_seconds`)."""
    from django.conf import settings

    role = role_of(user)
    if role in (Role.ASSOCIATE, Role.STORE_MANAGER, Role.HQ_ADMIN):
        return settings.AISLE_STAFF_IDLE_SECONDS
    return None


def second_factor_idle_limit(user) -> int | None:
    """Seconds without activity after which an HQ session must pass TOTP again."""
    from django.conf import settings

    if role_of(user) == Role.HQ_ADMIN:
        return settings.AISLE_HQ_TOTP_IDLE_SECONDS
    return None


def kiosk_idle_seconds(user) -> int | None:
    """Seconds after which an idle kiosk returns to its start page, in its default
    language, with nothing of the last customer kept (None: not a kiosk)."""
    from django.conf import settings

    return settings.AISLE_KIOSK_IDLE_SECONDS if role_of(user) == Role.KIOSK else None
