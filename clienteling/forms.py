from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from clienteling.services import NOTE_MAX


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": NOTE_MAX}),
        help_text=_("Staff only. The customer never sees it."),
    )
    # The page's one-time key: the same form sent twice (a double tap) saves once.
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Follow-up"), max_length=200)
    due_on = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)


class OutreachForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Message"), max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64, initial=uuid.uuid4)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound and "nonce" not in self.initial:
            self.initial["nonce"] = uuid.uuid4().hex
