"""The abuse signals on the associate's return screen: the panel's context (order
page, return detail) and the manager's clearing of a customer's flag
(`/store/returns/customer/<id>/signals/clear/`). Staff only, never the customer."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from retail import access
from retail.access import Area, area_required
from retail.views import store_or_choose
from returns.risk import assess
from returns.risk import services as risk_services
from returns.services import NotAllowed, ReturnError


def panel_context(request: HttpRequest, customer, store) -> dict:
    """What `returns/_signals.html` shows for this customer (nothing without one)."""
    if customer is None:
        return {"signals": None}
    return {
        "signals": assess.for_customer(customer),
        "signals_customer": customer,
        "may_clear_signals": risk_services.may_clear(request.user, store),
        "signals_next": request.get_full_path(),
    }


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@area_required(Area.STORE)
@require_POST
def clear(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A store manager clears a customer's flag with a reason (audited). Anyone else:
    403, nothing written."""
    store, choose = store_or_choose(request)
    if choose:
        return choose
    customer = access.customers_for(request.user).filter(pk=customer_id).first()
    if customer is None:
        raise Http404(_("There is no such customer."))
    try:
        risk_services.signals_clear(
            customer=customer, by=request.user, reason=request.POST.get("reason", ""), store=store
        )
    except NotAllowed as exc:
        raise PermissionDenied(exc.detail) from exc
    except ReturnError as exc:
        context = {"store": store, "message": exc.detail, "back": _back(request), "nav": "returns"}
        return render(request, "returns/signals_refused.html", context, status=exc.status)
    messages.success(request, _("The customer's flag is cleared. The reason is kept."))
    return redirect(_back(request) or "returns_store:find")
