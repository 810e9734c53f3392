"""Filters of HQ's customer list that other apps contribute.

HQ's customer list (`retail.rights_views.hq_customers`, `/hq/customers/`) belongs to the
lowest layer, yet the apps above it know things about a customer that a campaign
chooses by (insights: the channel-usage segment). Each registers a named filter in its
`AppConfig.ready`:

    customer_filters.register(
        "segment",
        label=gettext_lazy("Segment"),
        choices=lambda: [("webroomers", gettext_lazy("Webroomers")), ...],
        narrow=lambda customers, value: customers.filter(...),
        value=lambda: Subquery(...),       # the customer's value, for the CSV column
        invalid=gettext_lazy("There is no such segment: choose one from the list."),
    )

The list's form gets one optional choice field per filter (an unknown value is a form
error, never a guess); the CSV export gets one column per filter with a `value`, read
with the customers themselves (an annotation: one query however many rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django import forms
from django.db.models import Expression, QuerySet
from django.utils.translation import gettext_lazy


@dataclass(frozen=True)
class CustomerFilter:
    name: str
    label: object  # a (lazy) translatable string
    choices: Callable[[], Sequence[tuple[str, object]]]
    narrow: Callable[[QuerySet, str], QuerySet]
    value: Callable[[], Expression] | None = None
    invalid: object = gettext_lazy("Choose one of the listed values.")

    @property
    def annotation(self) -> str:
        return f"filter_{self.name}"

    def label_of(self, value) -> str:
        """The value's label (for the CSV column), or the value itself."""
        return str(dict(self.choices()).get(value or "", value or ""))


_filters: dict[str, CustomerFilter] = {}


def register(
    name: str,
    *,
    label,
    choices: Callable[[], Sequence[tuple[str, object]]],
    narrow: Callable[[QuerySet, str], QuerySet],
    value: Callable[[], Expression] | None = None,
    invalid=None,
) -> None:
    extra = {"invalid": invalid} if invalid is not None else {}
    _filters[name] = CustomerFilter(name, label, choices, narrow, value, **extra)


def registered() -> list[CustomerFilter]:
    return list(_filters.values())


def add_fields(form: forms.Form) -> None:
    """One optional choice field per registered filter, "any" first."""
    for f in _filters.values():
        form.fields[f.name] = forms.ChoiceField(
            label=f.label,
            required=False,
            choices=[("", gettext_lazy("Any")), *f.choices()],
            error_messages={"invalid_choice": f.invalid},
        )


def chosen(cleaned_data: dict) -> dict[str, str]:
    """The filters given a value in a valid form: name -> value."""
    return {f.name: cleaned_data[f.name] for f in _filters.values() if cleaned_data.get(f.name)}


def narrow(customers: QuerySet, values: dict[str, str]) -> QuerySet:
    for name, value in values.items():
        customers = _filters[name].narrow(customers, value)
    return customers


def columns() -> list[CustomerFilter]:
    """The filters that give the CSV a column."""
    return [f for f in _filters.values() if f.value is not None]


def annotate(customers: QuerySet) -> QuerySet:
    """The customers with each column's value (`filter_<name>`)."""
    return customers.annotate(**{f.annotation: f.value() for f in columns()})
