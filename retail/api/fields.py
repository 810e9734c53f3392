"""Value rules that the API enforces and its schema states, written once.

A serializer field built here validates with the same pattern the OpenAPI schema
shows (drf-spectacular copies a field's `RegexValidator` into `pattern`), and the
path parameters carry the same pattern, so a client generated from the schema
sends only what the API takes. The patterns are valid in Python and in ECMA-262
(the dialect of JSON Schema): no lookarounds, `\\u` escapes only; they end in
Python's `\\Z` (`$` would let a trailing newline through), which the schema
shows as ECMA's `$` (`ecma()`).
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import serializers

REF_MAX = 64
# A reference of the online channel (customer_ref, order_ref): 1 to 64 characters,
# usable as one path segment: no slash, no control character, not starting with a
# dot ("." and ".." are not segments a client can send), no space at either end.
_REF_END = r"[^\s/\u0000-\u001f\u007f-\u009f]"
REF_PATTERN = rf"^[^\s/.\u0000-\u001f\u007f-\u009f](?:[^/\u0000-\u001f\u007f-\u009f]*{_REF_END})?\Z"
REF_RE = re.compile(REF_PATTERN)
REF_HELP = _(
    "1 to 64 characters: no slash, no control character, no space at either end, "
    "not starting with a dot."
)

# Text that DRF's CharField takes: no NUL (PostgreSQL cannot store it) and, unless
# blank is allowed, at least one character that is not whitespace (it trims). Where
# blank is allowed the schema offers "" as a separate choice (`oneOf`), so the
# pattern itself asks for at least one character.
# Python's str.strip() also strips \x1c-\x1f and \x85, which ECMA's \s does not
# name: they are listed so both dialects agree.
_SPACE = r"\s\u001c-\u001f\u0085"
TEXT_PATTERN = r"^[^\u0000]+$"
NON_BLANK_PATTERN = rf"^[^\u0000]*[^{_SPACE}\u0000][^\u0000]*$"


def ecma(pattern: str) -> str:
    """A pattern of this module as JSON Schema writes it (as drf-spectacular does)."""
    return pattern.replace(r"\Z", "$")


def ref_field(**kwargs) -> serializers.RegexField:
    """A reference in a body, validated by REF_PATTERN exactly (no trimming)."""
    return serializers.RegexField(
        REF_PATTERN,
        max_length=REF_MAX,
        trim_whitespace=False,
        error_messages={"invalid": REF_HELP},
        help_text=REF_HELP,
        **kwargs,
    )


def ref_is_valid(ref: str) -> bool:
    return len(ref) <= REF_MAX and REF_RE.match(ref) is not None


def ref_parameter(name: str, description: str, example: str) -> OpenApiParameter:
    """A reference in the path, stated with the same rule as in bodies."""
    return OpenApiParameter(
        name,
        {"type": "string", "minLength": 1, "maxLength": REF_MAX, "pattern": ecma(REF_PATTERN)},
        OpenApiParameter.PATH,
        required=True,
        description=f"{description} {REF_HELP}",
        examples=[OpenApiExample(name, value=example)],
    )


def one_of_values(values) -> dict:
    """A property that must be one of `values`, inside a rule across fields (`anyOf`).

    Stated as a pattern, not an `enum`: drf-spectacular turns every property enum into
    a shared component named after the property, which would widen it to all values.
    """
    names = "|".join(re.escape(str(v)) for v in sorted(values, key=str))
    return {"type": "string", "pattern": f"^(?:{names})$"}
