"""JSON only, and never more than 4 MB (413 `too_large`)."""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from retail.api.exceptions import TooLarge


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        length = request.META.get("CONTENT_LENGTH") if request is not None else None
        try:
            if length and int(length) > limit:
                raise TooLarge()
        except ValueError:
            raise exceptions.ParseError(_("The Content-Length header is not a number.")) from None
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise TooLarge()
        import io

        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:  # nested deeper than Python's json can follow
            raise exceptions.ParseError() from None
