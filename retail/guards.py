"""Bad bytes never get in: a NUL byte or invalid UTF-8 in a request answers 400.

PostgreSQL cannot store NUL in text, and Django quietly replaces bytes that are not
UTF-8, so neither may reach a view. Checked before anything else reads the request:
the path, the query string, every header value and the body.

- Under `/api/`: JSON in the API's one error shape. Bytes that are not UTF-8, and
  a NUL byte in a body (never valid JSON), cannot be read: 400 `parse_error`. A NUL
  in the path, the query or a header is a value no field accepts: 400
  `validation_error` with `errors` naming where it was: the path parameter
  (`customer_ref`), the query parameter (`sku`) or the header (`header:User-Agent`)
  when it can be told, else "path" or "query". (A JSON string may still carry an
  escaped `"\\u0000"`: the serializers refuse it as a `validation_error` of its field.)
- Elsewhere: `BadRequest`, which Django answers with its 400 page (`handler400`).

Only what a parser reads as text is inspected in a body: every body on `/api/`
(JSON only), urlencoded forms elsewhere. Multipart uploads carry files, whose
bytes are theirs; their text fields are refused by the forms (Django's CharField
refuses NUL). A body larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` is left to the
view, which answers 413 (the API) or 400.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import BadRequest
from django.core.signals import request_started
from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from retail.api.exceptions import error_body

NUL = "nul"
NOT_UTF8 = "not_utf8"
RAW_NUL = "raw_nul"  # a NUL byte in a body: not JSON, so not readable
# Django replaces PATH_INFO in the environ with a re-percent-encoded copy when it
# builds the request, losing the bytes: they are kept aside as the request starts.
RAW_PATH = "aisle.raw_path_info"


def _keep_raw_path(sender, environ=None, **kwargs) -> None:
    if environ is not None and "PATH_INFO" in environ:
        environ[RAW_PATH] = environ["PATH_INFO"]


request_started.connect(_keep_raw_path, dispatch_uid="aisle-guards-raw-path")


class Found(Exception):
    """`part` is path, query, header or body; `where` names the parameter or header
    when it can be told (for the API's `errors`), else the part."""

    def __init__(self, problem: str, part: str, name: str = ""):
        self.problem = problem
        self.part = part
        self.where = name or part
        super().__init__(problem, self.where)


def _check_bytes(raw: bytes, part: str, name: str = "") -> None:
    if b"\x00" in raw:
        raise Found(NUL, part, name)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Found(NOT_UTF8, part, name) from None


def _check_wsgi_text(value: str, part: str, name: str = "") -> None:
    """A WSGI string: its characters are the raw bytes (ISO-8859-1)."""
    if "\x00" in value:
        raise Found(NUL, part, name)
    try:
        raw = value.encode("iso-8859-1")
    except UnicodeEncodeError:
        return  # already decoded text (not from a WSGI server): nothing to decode
    _check_bytes(raw, part, name)


def _check_urlencoded(raw: bytes, part: str) -> None:
    """A query string or form body: each name and value, percent-decoded."""
    _check_bytes(raw, part)
    for pair in raw.split(b"&"):
        name, _sep, value = pair.partition(b"=")
        decoded_name = unquote_to_bytes(name.replace(b"+", b" "))
        _check_bytes(decoded_name, part)
        _check_bytes(unquote_to_bytes(value.replace(b"+", b" ")), part, decoded_name.decode())


def _check_path(request) -> None:
    environ = getattr(request, "environ", None) or {}
    raw = environ.get(RAW_PATH)
    scope = getattr(request, "scope", None) or {}  # under ASGI
    try:
        if isinstance(raw, str):
            _check_wsgi_text(raw, "path")
        elif isinstance(scope.get("raw_path"), bytes):
            _check_bytes(unquote_to_bytes(scope["raw_path"].split(b"?")[0]), "path")
        elif "\x00" in request.path_info:
            raise Found(NUL, "path")
    except Found as found:
        if found.problem == NUL:
            found.where = _path_parameter(request.path_info) or "path"
        raise


def _path_parameter(path: str) -> str | None:
    """The URL parameter holding the NUL (`customer_ref`), when the path resolves."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return next((name for name, v in match.kwargs.items() if "\x00" in str(v)), None)


def _check_headers(request) -> None:
    for key, value in request.META.items():
        if not (key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")):
            continue
        if isinstance(value, str):
            name = key.removeprefix("HTTP_").replace("_", "-").title()
            _check_wsgi_text(value, "header", f"header:{name}")


def _body_is_small(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # the view's parser answers that
    return 0 < length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def max_request_bytes() -> int:
    """No request is larger than the largest file HQ may import, plus room for its form."""
    return getattr(settings, "AISLE_IMPORT_MAX_BYTES", 200 * 1024 * 1024) + 1024 * 1024


def _body_is_huge(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > max_request_bytes()
    except ValueError:
        return False


def _check_body(request, is_api: bool) -> None:
    if not _body_is_small(request):
        return
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if is_api and not content_type.startswith("multipart/"):
        # A raw NUL byte is never JSON either: both are unreadable bodies.
        try:
            _check_bytes(request.body, "body")
        except Found as found:
            found.problem = RAW_NUL if found.problem == NUL else found.problem
            raise
    elif content_type == "application/x-www-form-urlencoded":
        _check_urlencoded(request.body, "body")


def check_request(request, is_api: bool) -> None:
    """Raises Found for the first NUL or invalid UTF-8 in the request."""
    _check_path(request)
    query = request.META.get("QUERY_STRING", "")
    if query:
        try:
            raw = query.encode("iso-8859-1")
        except UnicodeEncodeError:
            raw = query.encode("utf-8")
        _check_urlencoded(raw, "query")
    _check_headers(request)
    _check_body(request, is_api)


class BadBytesMiddleware:
    """Refuses NUL bytes and invalid UTF-8 before any other code reads the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        is_api = request.path_info.startswith("/api/")
        if _body_is_huge(request):
            return self.too_large(is_api)
        try:
            check_request(request, is_api)
        except Found as found:
            if not is_api:
                # Django's 400 page; the message is logged (nothing from the request).
                raise BadRequest(f"{found.problem} in the {found.part}") from None
            return self.api_response(found)
        return self.get_response(request)

    @staticmethod
    def too_large(is_api: bool):
        """Refused by its Content-Length, before anything reads (or stores) the body."""
        limit = max_request_bytes() // (1024 * 1024)
        message = _("The request is larger than %(n)s MB: nothing of it was read.") % {"n": limit}
        if is_api:
            return JsonResponse(error_body("too_large", message), status=413)
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")

    @staticmethod
    def api_response(found: Found) -> JsonResponse:
        if found.problem == NOT_UTF8:
            body = error_body(
                "parse_error",
                _("The request is not valid UTF-8 (in %(where)s).") % {"where": found.where},
            )
        elif found.problem == RAW_NUL:
            body = error_body("parse_error", _("The body holds a NUL byte: it is not JSON."))
        else:
            body = error_body(
                "validation_error",
                _("The request is not valid."),
                errors={found.where: [_("Null characters are not allowed.")]},
            )
        return JsonResponse(body, status=400)
