"""Sections of the customer page that other apps contribute.

The customer page (`retail.views.customer_detail`) belongs to the lowest layer, yet
the apps above it know most about a customer (clienteling: the online journey,
recommendations, notes). Each registers a section in its `AppConfig.ready`:

    customer_page.register("clienteling", render=views.customer_section)

`render(request, customer, store)` returns the section's HTML (safe, from the app's
own templates). The page renders every section in the same response, after its own
access check and audit row, so one page view is one request.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.safestring import SafeString

_sections: dict[str, Callable[..., SafeString]] = {}


def register(label: str, *, render: Callable[..., SafeString]) -> None:
    _sections[label] = render


def render_sections(request, customer, store) -> list[SafeString]:
    return [render(request, customer, store) for render in _sections.values()]
