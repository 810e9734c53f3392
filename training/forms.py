"""Forms of the training pages: they check input; the services hold the rules."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from training.models import Course, Level, OperationRule, Skill
from training.services.gates import operation_label

LEVEL_CHOICES = [(level.value, f"{level.value} · {level.label}") for level in Level]


class LevelsForm(forms.Form):
    """One level field per active skill: `skill-<code>`."""

    def __init__(self, *args, skills: list[Skill], initial_levels: dict[int, int | None], **kw):
        super().__init__(*args, **kw)
        self.skills = skills
        for skill in skills:
            current = initial_levels.get(skill.pk)
            self.fields[f"skill-{skill.code}"] = forms.TypedChoiceField(
                label=skill.label,
                choices=LEVEL_CHOICES,
                coerce=int,
                initial=current if current is not None else 0,
            )

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.levels():
            raise forms.ValidationError(
                _("Nothing changed: choose a different level for at least one skill."),
                code="unchanged",
            )
        return cleaned

    def levels(self) -> dict[Skill, int]:
        """The levels the person changed on the form (against the levels it opened
        with): only these are recorded."""
        changed = set(self.changed_data)
        return {
            s: self.cleaned_data[f"skill-{s.code}"]
            for s in self.skills
            if f"skill-{s.code}" in changed and f"skill-{s.code}" in self.cleaned_data
        }

    def rows(self):
        """(skill, its field, what each level means) for the template."""
        return [(skill, self[f"skill-{skill.code}"], _descriptions(skill)) for skill in self.skills]


def _descriptions(skill: Skill) -> list[tuple[int, str, str]]:
    """(level, its name, what a person at that level of this skill can do)."""
    if "descriptors" not in getattr(skill, "_prefetched_objects_cache", {}):
        return []
    return [(d.level, Level(d.level).label, d.tr("text")) for d in skill.descriptors.all()]


class AssessForm(LevelsForm):
    """A manager's assessment: only the skills changed are recorded, each with who
    assessed it and why."""

    note = forms.CharField(
        label=_("Why"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("What you saw, for the record")}),
        error_messages={"required": _("Say why the levels change: it is kept with them.")},
    )


class CourseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Course) -> str:
        text = obj.text_for()
        return f"{text.title if text else obj.code} ({obj.estimated_minutes} min)"


class AssignForm(forms.Form):
    course = CourseChoiceField(
        label=_("Course"),
        queryset=Course.objects.none(),
        error_messages={"invalid_choice": _("Choose one of the courses offered.")},
    )
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = (
            Course.objects.filter(is_active=True).prefetch_related("texts").order_by("code")
        )
        self.fields["due_date"].initial = today + dt.timedelta(days=14)
        self.fields["due_date"].widget.attrs["min"] = today.isoformat()


class OverrideForm(forms.Form):
    operation = forms.ChoiceField(label=_("Operation"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Why this person may do it once without the certificate. Kept in the audit log."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rules = OperationRule.objects.filter(is_active=True).order_by("operation")
        self.fields["operation"].choices = [
            (r.operation, operation_label(r.operation, r)) for r in rules
        ]


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        choices=[(n, "★" * n) for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose a rating from 1 to 5 stars.")},
    )
    feedback = forms.CharField(
        label=_("Feedback for HQ (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
