"""Console logging filters: a refusal is one line, never a traceback.

Django logs a 403 twice on the console (django.request with the PermissionDenied
traceback, then the development server's access line). A refusal is an answer, not
a fault: the request logger keeps one line without the traceback, and the access
line of the same 403 is dropped. Errors (5xx) keep their tracebacks.
"""

from __future__ import annotations

import logging


class OneLinePerRefusal(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) != 403:
            return True
        if record.name == "django.server":
            return False  # django.request (or django.security.csrf) has said it
        record.exc_info = None
        record.exc_text = None
        return True
