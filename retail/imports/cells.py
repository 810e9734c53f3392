"""Reading one cell's text as a value, with a clear message when it cannot be.

Each reader takes the text and returns the value, or raises `CellError` with a
message in the active language. An empty cell is `None` for the optional readers
(`required=False`): the kinds read it as "keep what Aisle has"."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

YES = {"yes", "y", "true", "1", "on", "是"}
NO = {"no", "n", "false", "0", "off", "否"}


class CellError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def required(text: str) -> str:
    if not text:
        raise CellError(_("This cell cannot be empty."))
    return text


def text(text: str, *, max_length: int | None = None, required_: bool = False) -> str | None:
    if not text:
        if required_:
            raise CellError(_("This cell cannot be empty."))
        return None
    if max_length is not None and len(text) > max_length:
        raise CellError(
            _("At most %(max)s characters (this one has %(n)s).")
            % {"max": max_length, "n": len(text)}
        )
    return text


def boolean(text: str, *, required_: bool = False) -> bool | None:
    if not text:
        if required_:
            raise CellError(_("Write yes or no."))
        return None
    value = text.strip().casefold()
    if value in YES:
        return True
    if value in NO:
        return False
    raise CellError(_("Write yes or no, not “%(value)s”.") % {"value": text})


def decimal(
    text: str,
    *,
    places: int,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    required_: bool = False,
) -> Decimal | None:
    if not text:
        if required_:
            raise CellError(_("This cell cannot be empty."))
        return None
    try:
        value = Decimal(text.replace(" ", ""))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise CellError(_("“%(value)s” is not a number.") % {"value": text})
    if -value.as_tuple().exponent > places:
        raise CellError(
            _("“%(value)s” has more than %(places)s decimals.") % {"value": text, "places": places}
        )
    if minimum is not None and value < minimum:
        raise CellError(
            _("%(value)s is below the lowest value taken, %(min)s.")
            % {"value": text, "min": minimum}
        )
    if maximum is not None and value > maximum:
        raise CellError(
            _("%(value)s is above the highest value taken, %(max)s.")
            % {"value": text, "max": maximum}
        )
    return value.quantize(Decimal(1).scaleb(-places)) if places else value


def price(text: str) -> Decimal:
    """A price: more than zero, at most two decimals (prices include tax)."""
    if not text:
        raise CellError(_("Give the price."))
    try:
        value = Decimal(text.replace(" ", ""))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise CellError(_("“%(value)s” is not a price.") % {"value": text})
    if -value.as_tuple().exponent > 2:
        raise CellError(
            _("A price has at most two decimals: “%(value)s” has more.") % {"value": text}
        )
    if value <= 0:
        raise CellError(_("A price is more than zero."))
    return value.quantize(Decimal("0.01"))


def integer(
    text: str, *, minimum: int | None = None, maximum: int | None = None, required_: bool = True
) -> int | None:
    if not text:
        if required_:
            raise CellError(_("Give a whole number."))
        return None
    cleaned = text.replace(" ", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value != value.to_integral_value():
        raise CellError(_("“%(value)s” is not a whole number.") % {"value": text})
    number = int(value)
    if minimum is not None and number < minimum:
        if minimum == 0:
            raise CellError(_("%(value)s is below zero; give zero or more.") % {"value": text})
        raise CellError(
            _("%(value)s is below the lowest value taken, %(min)s.")
            % {"value": text, "min": minimum}
        )
    if maximum is not None and number > maximum:
        raise CellError(
            _("%(value)s is above the highest value taken, %(max)s.")
            % {"value": text, "max": maximum}
        )
    return number


def choice(text: str, choices: dict[str, str], *, required_: bool = True) -> str | None:
    """One of `choices` (value -> label), by its value or its label, any case."""
    if not text:
        if required_:
            raise CellError(_("Give one of: %(choices)s.") % {"choices": ", ".join(choices)})
        return None
    wanted = text.strip().casefold()
    for value, label in choices.items():
        if wanted in (value.casefold(), str(label).casefold()):
            return value
    raise CellError(
        _("“%(value)s” is not one of: %(choices)s.")
        % {"value": text, "choices": ", ".join(choices)}
    )


def messages_of(error: ValidationError) -> dict[str, list[str]]:
    """A model's ValidationError as messages by field ("" for the record as a whole)."""
    if hasattr(error, "error_dict"):
        return {
            ("" if field == "__all__" else field): [str(m) for m in ValidationError(errs).messages]
            for field, errs in error.error_dict.items()
        }
    return {"": [str(m) for m in error.messages]}
