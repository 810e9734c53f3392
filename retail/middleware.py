"""Request middleware: the HQ second factor and the store's time zone."""

from django.shortcuts import redirect
from django.utils import timezone

from retail import access

HQ_PREFIXES = ("/admin/", "/hq/")


class HQSecondFactorMiddleware:
    """Sends an HQ admin into `/admin/` or `/hq/` through TOTP first.

    Without a TOTP authenticator they go to its setup page; with one, but a
    session that has not passed it, to the TOTP step. Everyone else is left to
    the views, which refuse them through `retail.access`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(HQ_PREFIXES) and access.can_open(request.user, access.Area.HQ):
            state = access.hq_second_factor(request)
            if state == access.SecondFactor.SETUP_NEEDED:
                return redirect("mfa_activate_totp")
            if state == access.SecondFactor.VERIFY_NEEDED:
                return redirect(f"{_url('mfa_reauthenticate')}?next={request.path}")
        return self.get_response(request)


def _url(name: str) -> str:
    from django.urls import reverse

    return reverse(name)


class StoreContextMiddleware:
    """Shows every time on the tablet and the kiosk in the current store's time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        store = None
        if request.path.startswith(("/store/", "/kiosk/")) and request.user.is_authenticated:
            store = access.current_store(request)
        if store is not None:
            with timezone.override(store.tz):
                return self.get_response(request)
        return self.get_response(request)
