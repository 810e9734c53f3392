from django import forms
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
