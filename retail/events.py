"""Domain events: apps register receivers by event name in their `AppConfig.ready()`.

    events.register("order_placed", "clienteling.receivers.attribution_credit")
    events.register("order_placed", attribution_credit)  # or the function itself

A service records an event with `retail.outbox.record_event(name, payload=...)`
inside its transaction; after commit the outbox delivers it to each receiver in
its own outbox entry and task, so one failing receiver neither blocks the others
nor is lost (it is retried with backoff, then left `failed` in admin).

A receiver is called as ``receiver(payload)`` with the event's JSON payload.
Delivery is at least once: a receiver may be called again with the same payload
(a retry, a worker lost mid-task), so it must be idempotent, take ids from the
payload, load rows, and change data only through service functions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

_receivers: dict[str, list[str]] = defaultdict(list)


def receiver_path(receiver: str | Callable) -> str:
    """The dotted path a receiver is stored and delivered by."""
    if isinstance(receiver, str):
        path = receiver
    else:
        module = getattr(receiver, "__module__", None)
        qualname = getattr(receiver, "__qualname__", "")
        if not module or not qualname or "<" in qualname or "." in qualname:
            raise ValueError(
                "A receiver must be a module-level function (or its dotted path), "
                f"not {receiver!r}: the outbox finds it again by its path."
            )
        path = f"{module}.{qualname}"
    if "." not in path.strip("."):
        raise ValueError(f"A receiver path looks like 'app.module.function', not {path!r}.")
    return path


def register(event: str, receiver: str | Callable) -> None:
    """Register a receiver (a module-level function or its dotted path) for an event."""
    if not event:
        raise ValueError("An event needs a name.")
    path = receiver_path(receiver)
    if path not in _receivers[event]:
        _receivers[event].append(path)


def unregister(event: str, receiver: str | Callable) -> None:
    path = receiver_path(receiver)
    if path in _receivers.get(event, []):
        _receivers[event].remove(path)


def receivers_for(event: str) -> list[str]:
    return list(_receivers.get(event, []))
