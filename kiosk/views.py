"""The customer-facing kiosk (`/kiosk/`), for kiosk accounts only."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from orders import pickup
from orders.services import OrderError
from retail import access
from retail.access import Area, area_required


@area_required(Area.KIOSK)
def kiosk_home(request: HttpRequest) -> HttpResponse:
    return render(request, "kiosk/home.html", {"store": access.current_store(request)})


@area_required(Area.KIOSK)
@require_POST
def check_in(request: HttpRequest) -> HttpResponse:
    """The customer checks in for a pickup with its code (typed, or read from the QR by
    the kiosk's scanner). The kiosk shows the first name only."""
    store = access.current_store(request)
    if store is None:
        return render(request, "kiosk/home.html", {"store": None}, status=403)
    try:
        f = pickup.pickup_check_in(store=store, text=request.POST.get("code", ""), by=request.user)
    except OrderError as exc:
        context = {"store": store, "message": exc.detail}
        return render(request, "kiosk/home.html", context, status=exc.status)
    first_name = f.order.customer.first_name if f.order.customer else ""
    return render(request, "kiosk/checked_in.html", {"store": store, "first_name": first_name})
