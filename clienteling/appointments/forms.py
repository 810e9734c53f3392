"""The tablet's appointment forms: booking for a customer, items to set aside, a
manager's weekly hours and exceptions."""

from __future__ import annotations

import datetime as dt
import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from clienteling.appointments.hours import Day
from clienteling.appointments.models import ExceptionKind, Topic
from retail.models import Variant, Weekday

SKUS_MAX = 10


def _variants(text: str) -> list[Variant]:
    """SKUs or barcodes separated by commas, spaces or lines; each must be a sold SKU."""
    codes = [c for c in (text or "").replace(",", " ").split() if c]
    if len(codes) > SKUS_MAX:
        raise forms.ValidationError(_("At most %(n)s items.") % {"n": SKUS_MAX})
    found = {v.sku: v for v in Variant.objects.filter(active=True, sku__in=codes)}
    found.update({v.barcode: v for v in Variant.objects.filter(active=True, barcode__in=codes)})
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise forms.ValidationError(
            _("Unknown or no longer sold: %(codes)s") % {"codes": ", ".join(unknown)}
        )
    return [found[c] for c in codes]


class BookForm(forms.Form):
    topic = forms.ModelChoiceField(
        label=_("Topic"), queryset=Topic.objects.none(), empty_label=None
    )
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.DateTimeField(
        label=_("Time"),
        error_messages={"required": _("Choose one of the free times.")},
        widget=forms.HiddenInput,
    )
    skus = forms.CharField(
        label=_("Items to set aside (SKUs, optional)"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    note = forms.CharField(
        label=_("Note for the associate"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
    )
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args, topics=None, **kwargs):
        super().__init__(*args, **kwargs)
        if topics is not None:
            self.fields["topic"].queryset = topics
        if not self.is_bound and "nonce" not in self.initial:
            self.initial["nonce"] = uuid.uuid4().hex

    def clean_skus(self) -> list[Variant]:
        return _variants(self.cleaned_data.get("skus", ""))

    def clean(self):
        data = super().clean()
        if data.get("skus") and data.get("topic") and not data["topic"].set_aside:
            self.add_error("skus", _("Items cannot be set aside for this topic."))
        return data


class SetAsideForm(forms.Form):
    sku = forms.CharField(label=_("SKU or barcode"), max_length=64)
    quantity = forms.IntegerField(label=_("Units"), min_value=1, max_value=10, initial=1)

    def clean_sku(self) -> Variant:
        [variant] = _variants(self.cleaned_data["sku"].strip())[:1] or [None]
        if variant is None:
            raise forms.ValidationError(_("Give a SKU or a barcode."))
        return variant


class ReassignForm(forms.Form):
    associate = forms.IntegerField(widget=forms.HiddenInput)


class WeekForm(forms.Form):
    """Seven days of hours; a day with neither start nor end is a day off here."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for weekday, label in Weekday.choices:
            for part, text in (
                ("starts", _("starts")),
                ("ends", _("ends")),
                ("break_starts", _("break starts")),
                ("break_ends", _("break ends")),
            ):
                self.fields[f"d{weekday}_{part}"] = forms.TimeField(
                    label=f"{label} {text}",
                    required=False,
                    widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                )

    def rows(self):
        """(weekday label, [its four bound fields]) for the template."""
        for weekday, label in Weekday.choices:
            yield (
                label,
                [
                    self[f"d{weekday}_{part}"]
                    for part in ("starts", "ends", "break_starts", "break_ends")
                ],
            )

    def days(self) -> dict[int, Day | None]:
        data = self.cleaned_data
        out: dict[int, Day | None] = {}
        for weekday, label in Weekday.choices:
            starts, ends = data.get(f"d{weekday}_starts"), data.get(f"d{weekday}_ends")
            b_starts, b_ends = (
                data.get(f"d{weekday}_break_starts"),
                data.get(f"d{weekday}_break_ends"),
            )
            if starts is None and ends is None:
                if b_starts or b_ends:
                    self.add_error(
                        f"d{weekday}_starts",
                        _("%(day)s: a break needs working hours.") % {"day": label},
                    )
                out[weekday] = None
            elif starts is None or ends is None:
                self.add_error(
                    f"d{weekday}_ends",
                    _("%(day)s: give both the start and the end, or neither for a day off.")
                    % {"day": label},
                )
            else:
                out[weekday] = Day(starts, ends, b_starts, b_ends)
        return out

    @staticmethod
    def initial_for(rows) -> dict[str, dt.time]:
        initial = {}
        for row in rows:
            for part in ("starts", "ends", "break_starts", "break_ends"):
                initial[f"d{row.weekday}_{part}"] = getattr(row, part)
        return initial


class ExceptionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ExceptionKind.choices)
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    starts = forms.TimeField(
        label=_("From time (optional)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    ends = forms.TimeField(
        label=_("Until time (optional)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
