import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class CustomerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find a customer"),
        max_length=100,
        required=False,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("Name, whole e-mail, whole phone number or customer reference"),
            }
        ),
    )

    def __init__(self, *args, region: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.region = region

    def clean_q(self):
        """At least three characters; an e-mail or phone number whole (`retail.audit`)."""
        from retail.audit import parse_query

        text = self.cleaned_data.get("q", "")
        if not text:
            return text
        self.cleaned_data["query"] = parse_query(text, self.region)
        return text


class StoreChoiceForm(forms.Form):
    store = forms.ModelChoiceField(
        label=_("Store"),
        queryset=None,
        to_field_name="code",
        error_messages={
            "invalid_choice": _("That store code is unknown, or not one of your stores."),
            "required": _("Choose a store."),
        },
    )

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores


class PeriodFilterForm(forms.Form):
    """Optional first and last day of a listing's period (HQ's audit log, receiving
    discrepancies): a period ending before it starts, or longer than
    `max_period_days`, is a form error."""

    max_period_days = 366

    start = forms.DateField(
        label=pgettext_lazy("first day of a period", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=pgettext_lazy("last day of a period", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(gettext("The period ends before it starts."))
            if (end - start).days > self.max_period_days:
                raise forms.ValidationError(
                    gettext("Choose a period of at most %(n)s days.") % {"n": self.max_period_days}
                )
        return data


def day_start(day: dt.date) -> dt.datetime:
    """The first moment of `day` in the active time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
