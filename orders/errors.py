"""The base of every refusal in `orders`, in its own module so that both
`orders.services` and `orders.credit` (which services calls) can raise it
without importing each other."""

from __future__ import annotations

from typing import Any


class OrderError(Exception):
    """An order operation refused; nothing was written. `code` is the API's error code."""

    status = 400
    code = "validation_error"

    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
