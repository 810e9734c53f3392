"""The customer-data registry: every app that keeps data about a customer
registers how to count and move it (and, later, export and erase it).

    customer_data.register("orders", merge=orders_merge, count=orders_count)

`merge(survivor=..., duplicate=...)` moves the app's rows from the duplicate to
the survivor inside the merge's transaction; `count(customer)` says how many
rows would move (shown on HQ's confirmation page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Handler:
    label: str
    merge: Callable
    count: Callable | None = None
    export: Callable | None = None
    erase: Callable | None = None


_handlers: dict[str, Handler] = {}


def register(label: str, *, merge, count=None, export=None, erase=None) -> None:
    _handlers[label] = Handler(label, merge, count, export, erase)


def handlers() -> list[Handler]:
    return list(_handlers.values())
