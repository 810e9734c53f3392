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
                "placeholder": _("Name, e-mail, part of a phone number or customer reference"),
            }
        ),
    )


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
