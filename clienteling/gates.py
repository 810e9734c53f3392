"""Clienteling's gated operations: sending outreach and placing an endless-aisle
delivery order ask the training gate (`training.services.operation_authorise`)
where they happen, so a declared gate is never only declared."""

from __future__ import annotations

from training import services as training
from training.services.gates import OperationRefused


def authorise(*, user, operation: str, target: str, error: type[Exception]) -> str:
    """Ask the gate for `operation` as `user` does it (a manager's one-time override
    counts and is used up). Refused: `error(message, explanation)`, so the screen can
    show which certificate and course unlock it."""
    try:
        return training.operation_authorise(user=user, operation=operation, target=target)
    except OperationRefused as exc:
        raise error(exc.explanation.message, exc.explanation) from exc
