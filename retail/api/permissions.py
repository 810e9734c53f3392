"""Scopes: a view declares what each method needs; `retail.access` decides."""

from rest_framework import permissions

from retail import access


class HasScopes(permissions.BasePermission):
    """The view's `required_scopes` maps an HTTP method to the scopes it needs."""

    def has_permission(self, request, view) -> bool:
        needed = getattr(view, "required_scopes", {}).get(request.method, ())
        if request.method == "HEAD":
            needed = view.required_scopes.get("GET", ())
        return access.api_client_may(request.auth, needed)
