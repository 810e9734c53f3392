"""The OpenAPI schema: each operation states the scopes its key needs, and every
request field states the rules its serializer field enforces.

drf-spectacular already writes lengths, ranges, enums, formats and a
`RegexValidator`'s pattern. What DRF enforces without a validator is added here,
from the field's own settings, so the schema and the validation stay one source:
- text: a `CharField` refuses NUL and (unless `allow_blank`) a value that is only
  whitespace, as a pattern;
- money: a `DecimalField` as a string of at most `max_digits` digits and
  `decimal_places` decimals (no sign when its minimum is 0);
- arrays: a nested list serializer's `min_length`/`max_length`/`allow_empty` as
  `minItems`/`maxItems`;
- rules across fields: a serializer's `schema_extra` (e.g. `anyOf` of required
  fields) is merged into its request component.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import RegexValidator
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from retail.api.fields import NON_BLANK_PATTERN, TEXT_PATTERN, ecma

# Fields whose format already says what they take (or that refuse by choice).
_FORMATTED = (
    serializers.EmailField,
    serializers.RegexField,
    serializers.SlugField,
    serializers.URLField,
    serializers.UUIDField,
    serializers.IPAddressField,
)


def text_pattern(field: serializers.CharField) -> str | None:
    if isinstance(field, _FORMATTED):
        return None
    if any(isinstance(v, RegexValidator) for v in field.validators):
        return None
    if field.allow_blank or not field.trim_whitespace:
        return TEXT_PATTERN
    return NON_BLANK_PATTERN


def money_pattern(field: serializers.DecimalField) -> str:
    whole = field.max_digits - field.decimal_places if field.max_digits else None
    digits = f"[0-9]{{1,{whole}}}" if whole else "[0-9]+"
    sign = "" if field.min_value is not None and field.min_value >= Decimal(0) else "-?"
    if not field.decimal_places:
        return f"^{sign}{digits}$"
    return rf"^{sign}{digits}(?:\.[0-9]{{1,{field.decimal_places}}})?$"


class AisleAutoSchema(AutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        scopes = getattr(self.view, "required_scopes", {}).get(self.method, [])
        if operation is not None and scopes:
            operation["x-scopes"] = list(scopes)
            note = "Needs the scope(s): " + ", ".join(f"`{s}`" for s in scopes) + "."
            operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()
        return operation

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or not isinstance(schema, dict):
            return schema
        if isinstance(field, serializers.ListSerializer):
            low = field.min_length if field.min_length is not None else 0
            if not field.allow_empty:
                low = max(low, 1)
            if low:
                schema["minItems"] = low
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        elif isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
            schema["pattern"] = money_pattern(field)
        elif (
            isinstance(field, serializers.CharField)
            and schema.get("type") == "string"
            and "pattern" not in schema
        ):
            pattern = text_pattern(field)
            if pattern:
                schema["pattern"] = ecma(pattern)
        return schema

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        extra = getattr(serializer, "schema_extra", None)
        if direction == "request" and extra:
            schema.update(extra)
        return schema
