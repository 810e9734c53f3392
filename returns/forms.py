"""The tablet's return forms: they check what was typed and build the service's asks;
the services decide what may go back and what it refunds (never a price from a form)."""

from __future__ import annotations

import re
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from returns.models import Disposition, Reason, RefundTo
from returns.services import LineAsk, LineView

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
RETURN_REF_RE = r"^R-[0-9a-f]{32}$"
#: Fields every return form may carry besides the lines' own (`action_id`: the tablet's
#: id of this submission, retail/once.py).
BASE_FIELDS = frozenset({"csrfmiddlewaretoken", "return_ref", "refund_to", "action_id"})
LINE_FIELD_RE = re.compile(r"^l(\d+)_(qty|reason|cond|note|photo|disp)$")
SCAN_MAX = 64


def new_return_ref() -> str:
    """A return's reference, made when the page is drawn: a double tap sends it twice."""
    return f"R-{uuid.uuid4().hex}"


def photo_check(photo) -> None:
    """A photo of the returned item: a JPEG, PNG or WebP image of at most 5 MB."""
    if photo is None:
        return
    if photo.size > PHOTO_MAX_BYTES:
        raise ValidationError(_("The photo is too large: at most 5 MB."), code="photo_size")
    image = getattr(photo, "image", None)
    if image is None or (image.format or "").upper() not in PHOTO_FORMATS:
        raise ValidationError(_("The photo must be a JPEG, PNG or WebP image."), code="photo_type")


class FindForm(forms.Form):
    q = forms.CharField(
        label=_("Scan or type an order reference or a return code"),
        max_length=SCAN_MAX,
        required=False,
        strip=True,
    )


class ReturnForm(forms.Form):
    """One return at the counter: for each returnable line of the order, how many units,
    why, the policy's conditions, a note and photo, and what happens to the units."""

    return_ref = forms.CharField(
        widget=forms.HiddenInput,
        validators=[RegexValidator(RETURN_REF_RE)],
        error_messages={"required": _("Reload the page and try again.")},
    )
    refund_to = forms.ChoiceField(
        label=_("Refund to"),
        choices=RefundTo.choices,
        initial=RefundTo.ORIGINAL,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, views: list[LineView], has_customer: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.views = {v.line.pk: v for v in views}
        if not has_customer:
            self.fields["refund_to"].choices = [
                c for c in RefundTo.choices if c[0] != RefundTo.STORE_CREDIT
            ]
        self.line_rows = []
        for view in views:
            if not view.returnable:
                self.line_rows.append((view, None))
                continue
            p = f"l{view.line.pk}_"
            fields = {
                "qty": forms.IntegerField(
                    label=_("Units to return"),
                    min_value=0,
                    max_value=view.returnable_units,
                    initial=0,
                    required=False,
                    error_messages={
                        "max_value": _("Only %(limit_value)s unit(s) can still be returned."),
                        "min_value": _("A quantity cannot be below zero."),
                        "invalid": _("A quantity must be a whole number."),
                    },
                    widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                ),
                "reason": forms.ChoiceField(
                    label=_("Reason"),
                    choices=[("", _("Choose a reason")), *Reason.choices],
                    required=False,
                    error_messages={"invalid_choice": _("Choose a reason from the list.")},
                ),
                "cond": forms.MultipleChoiceField(
                    label=_("Condition checked"),
                    choices=[(str(c), _condition_label(c)) for c in view.verdict.conditions],
                    widget=forms.CheckboxSelectMultiple,
                    required=False,
                ),
                "note": forms.CharField(
                    label=_("Note on its condition"), max_length=300, required=False
                ),
                "photo": forms.ImageField(
                    label=_("Photo"),
                    required=False,
                    validators=[photo_check],
                    widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
                ),
                "disp": forms.ChoiceField(
                    label=_("What happens to it"),
                    choices=Disposition.choices,
                    initial=Disposition.RESTOCK,
                    error_messages={"invalid_choice": _("Choose what happens to the unit.")},
                ),
            }
            for name, field in fields.items():
                self.fields[p + name] = field
            self.line_rows.append((view, {name: self[p + name] for name in fields}))
        self.asks: list[LineAsk] = []

    def _tampered(self) -> str:
        """Why the POST holds fields the page never drew (a line of another order, a
        price), or ""."""
        keys = set(self.data.keys()) | set(self.files.keys())
        for key in sorted(keys - BASE_FIELDS):
            if key in self.fields:
                continue
            match = LINE_FIELD_RE.match(key)
            if match:
                view = self.views.get(int(match.group(1)))
                if view is None:
                    return str(_("A line is not part of this order."))
                return f"{view.line.sku}: {view.verdict.message}"
            return str(
                _(
                    "The form holds a field the page does not have (%(field)s): prices and "
                    "refunds are worked out here, never taken from the form."
                )
                % {"field": key[:40]}
            )
        return ""

    def clean(self):
        data = super().clean()
        tampered = self._tampered()
        if tampered:
            raise ValidationError(tampered, code="tampered")
        asks = []
        for view, bound in self.line_rows:
            if bound is None:
                continue
            p = f"l{view.line.pk}_"
            quantity = data.get(p + "qty") or 0
            if not quantity:
                continue
            reason = data.get(p + "reason")
            if not reason:
                self.add_error(p + "reason", _("Choose why the customer returns it."))
                continue
            checked = set(data.get(p + "cond") or ())
            unchecked = [str(c) for c in view.verdict.conditions if str(c) not in checked]
            if unchecked:
                self.add_error(
                    p + "cond",
                    _("The policy takes it back only when you have checked: %(conditions)s.")
                    % {"conditions": ", ".join(unchecked)},
                )
                continue
            asks.append(
                LineAsk(
                    quantity=quantity,
                    reason=reason,
                    order_line=view.line,
                    conditions=list(data.get(p + "cond") or ()),
                    note=data.get(p + "note") or "",
                    photo=data.get(p + "photo") or None,
                    disposition=data.get(p + "disp") or Disposition.RESTOCK,
                )
            )
        if not asks and not self.errors:
            raise ValidationError(_("Choose at least one unit to return."), code="empty")
        self.asks = asks
        return data


def _condition_label(condition) -> str:
    label = getattr(condition, "label", None)
    return str(label if label is not None else condition)


class DecisionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False, strip=True)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=300, required=False, strip=True)


#: The exchange page's own fields carry this prefix; the others are the return's.
EXCHANGE_PREFIX = "x_"


class ExchangeForm(forms.Form):
    """What the customer takes instead of a refund (the exchange page): the SKU chosen
    among the returned products' variants or the endless aisle's search, how many, how
    they get it, and how they pay a difference. Prices are never taken from the form."""

    x_q = forms.CharField(label=_("Search the endless aisle"), max_length=100, required=False)
    x_sku = forms.CharField(max_length=40, required=False)
    x_qty = forms.IntegerField(
        label=_("Units"),
        min_value=1,
        max_value=20,
        initial=1,
        required=False,
        error_messages={
            "min_value": _("A quantity is from 1 to 20."),
            "max_value": _("A quantity is from 1 to 20."),
            "invalid": _("A quantity must be a whole number."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    x_method = forms.ChoiceField(
        label=_("How the customer gets it"),
        choices=[
            ("carry_out", _("Takes it now, from this store's shelf")),
            ("pickup", _("Picks it up here when it arrives")),
            ("ship", _("Delivered to the customer")),
        ],
        initial="carry_out",
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose how the customer gets the new item.")},
    )
    x_tender = forms.ChoiceField(
        label=_("The customer pays a difference by"),
        choices=[("card", _("Card")), ("cash", _("Cash")), ("store_credit", _("Store credit"))],
        initial="card",
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose how the customer pays the difference.")},
    )
    x_name = forms.CharField(label=_("Name"), max_length=120, required=False)
    x_line1 = forms.CharField(label=_("Street"), max_length=120, required=False)
    x_line2 = forms.CharField(label=_("Street (more)"), max_length=120, required=False)
    x_city = forms.CharField(label=_("City"), max_length=120, required=False)
    x_postcode = forms.CharField(label=_("Postcode"), max_length=20, required=False)
    x_country = forms.CharField(label=_("Country (two letters)"), max_length=2, required=False)
    x_step = forms.CharField(max_length=10, required=False)

    def address(self) -> dict:
        d = self.cleaned_data
        return {
            k: d.get(f"x_{k}") or ""
            for k in ("name", "line1", "line2", "city", "postcode", "country")
        }


def split_exchange_data(data) -> tuple[dict, dict]:
    """The POST split into the return form's fields and the exchange form's."""
    ret, exchange = data.copy(), data.copy()
    for key in list(data.keys()):
        if key.startswith(EXCHANGE_PREFIX):
            del ret[key]
        else:
            del exchange[key]
    return ret, exchange
