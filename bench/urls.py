from django.http import HttpResponse
from django.urls import path

from retail.urls import urlpatterns as aisle_urlpatterns


def bare(request):
    """The baseline: a short text through the same middleware stack."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *aisle_urlpatterns]
