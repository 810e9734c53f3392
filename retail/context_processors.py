from django.conf import settings

from retail import access


def aisle(request):
    """What every page's shell needs: the role and the current store (money is shown
    with `{{ amount|money }}`, in the network's currency)."""
    user = getattr(request, "user", None)
    role = access.role_of(user) if user is not None else None
    store = None
    if role is not None and request.path.startswith(("/store/", "/kiosk/")):
        store = access.current_store(request)
    return {
        "aisle_role": role,
        "aisle_store": store,
        "aisle_kiosk_idle_seconds": settings.AISLE_KIOSK_IDLE_SECONDS,
    }
