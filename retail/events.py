"""Domain events: apps register receivers by event name in their `AppConfig.ready()`.

    events.register("order_placed", "clienteling.receivers.attribution_credit")

A service records an event with `retail.outbox.record_event(name, payload=...)`
inside its transaction; after commit the outbox delivers it to each receiver in
its own task, so one failing receiver neither blocks the others nor is lost.
Delivery is at least once: a receiver must be idempotent and only call services.
A receiver is called as ``receiver(payload)``.
"""

from __future__ import annotations

from collections import defaultdict

_receivers: dict[str, list[str]] = defaultdict(list)


def register(event: str, receiver: str) -> None:
    """Register a receiver (its dotted path) for an event name."""
    if receiver not in _receivers[event]:
        _receivers[event].append(receiver)


def unregister(event: str, receiver: str) -> None:
    if receiver in _receivers.get(event, []):
        _receivers[event].remove(receiver)


def receivers_for(event: str) -> list[str]:
    return list(_receivers.get(event, []))
