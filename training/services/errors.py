"""What training's services raise when a request cannot be done. Each error
carries a message for the person and the HTTP status a view answers with;
nothing has been written when one is raised."""

from __future__ import annotations


class TrainingError(Exception):
    """Bad input: the request cannot be done as asked (400)."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = str(message)
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


class NotAllowed(TrainingError):
    """The person may not do this (403)."""

    status = 403


class NotFound(TrainingError):
    """No such record, or none this person may see (404)."""

    status = 404


class Conflict(TrainingError):
    """The request clashes with the record's state: already done, used up (409)."""

    status = 409
