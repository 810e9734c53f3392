"""The customer-facing kiosk (`/kiosk/`), for kiosk accounts only."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from retail import access
from retail.access import Area, area_required


@area_required(Area.KIOSK)
def kiosk_home(request: HttpRequest) -> HttpResponse:
    return render(request, "kiosk/home.html", {"store": access.current_store(request)})
