"""The customer-data registry: every app that keeps data about a customer
registers how to count and move it (and, later, export and erase it).

    customer_data.register("orders", merge=orders_merge, count=orders_count)

`merge(survivor=..., duplicate=...)` moves the app's rows from the duplicate to
the survivor inside the merge's transaction; `count(customer)` says how many
rows would move (shown on HQ's confirmation page).

The customer's data rights (`retail.data_rights`) use three more slots:

- `export(customer) -> dict | list`: what the app keeps about the customer, as JSON
  (one section of the export document, under the handler's label);
- `erase(customer) -> None`: delete or anonymise it, inside the erasure's
  transaction (records kept for accounting lose every personal detail);
- `blocks(customer) -> list | str | None`: what forbids an erasure now (open orders,
  unfinished returns, unspent store credit, booked appointments); empty: nothing.

Every model holding customer data is covered by a handler: the registry test
(`tests/retail/test_customer_data_registry.py`) walks the models and fails otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Handler:
    label: str
    merge: Callable
    count: Callable | None = None
    export: Callable | None = None
    erase: Callable | None = None
    blocks: Callable | None = None
    #: What the rows are, in words for HQ (the merge comparison); the label otherwise.
    title: Any = None


_handlers: dict[str, Handler] = {}


def register(
    label: str, *, merge, count=None, export=None, erase=None, blocks=None, title=None
) -> None:
    _handlers[label] = Handler(label, merge, count, export, erase, blocks, title or label)


def handlers() -> list[Handler]:
    return list(_handlers.values())


def handler(label: str) -> Handler | None:
    return _handlers.get(label)


def unregister(label: str) -> Handler | None:
    """Remove a handler (tests use it to prove the registry test notices)."""
    return _handlers.pop(label, None)
