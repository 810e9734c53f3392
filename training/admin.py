"""HQ's admin for training: the skill framework, requirements, courses and their
quizzes, the operation rules; read-only views of the records people make
(levels, enrolments, attempts, certificates, reminders, overrides)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from retail.admin import AisleModelAdmin
from training.models import (
    Attempt,
    Certification,
    CertificationReminder,
    CertifiedSkill,
    Choice,
    Course,
    CourseGrant,
    CourseText,
    Enrolment,
    GateOverride,
    LevelDescriptor,
    LevelRecord,
    Module,
    Onboarding,
    OperationRule,
    Question,
    Requirement,
    Skill,
    SkillArea,
    SkillSnapshot,
    validate_question_choices,
)


class ReadOnlyAdmin(AisleModelAdmin):
    """Records made by the services: HQ reads them, never edits them here."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False


# --- Framework -----------------------------------------------------------------------


@admin.register(SkillArea)
class SkillAreaAdmin(AisleModelAdmin):
    list_display = ("name", "name_zh", "code", "position")
    search_fields = ("name", "name_zh", "code")
    ordering = ("position", "code")


class LevelDescriptorInline(admin.TabularInline):
    model = LevelDescriptor
    extra = 0
    max_num = 5


@admin.register(Skill)
class SkillAdmin(AisleModelAdmin):
    list_display = ("name", "code", "area", "position", "active")
    list_filter = ("active", "area")
    search_fields = ("name", "name_zh", "code")
    list_select_related = ("area",)
    inlines = [LevelDescriptorInline]


@admin.register(Requirement)
class RequirementAdmin(AisleModelAdmin):
    list_display = ("skill", "role", "level", "store")
    list_filter = ("role", "level", "skill__area", ("store", admin.RelatedOnlyFieldListFilter))
    search_fields = ("skill__name", "skill__code", "store__code", "store__name")
    autocomplete_fields = ("skill", "store")
    list_select_related = ("skill", "store")
    list_editable = ("level",)


@admin.register(OperationRule)
class OperationRuleAdmin(AisleModelAdmin):
    list_display = ("operation", "skill", "level", "is_active", "updated_at")
    list_filter = ("is_active", "level", "skill")
    search_fields = ("operation", "description", "skill__name")
    autocomplete_fields = ("skill",)
    readonly_fields = ("updated_at",)
    list_select_related = ("skill",)


# --- Courses -------------------------------------------------------------------------


class CourseGrantInline(admin.TabularInline):
    model = CourseGrant
    extra = 0
    autocomplete_fields = ("skill",)


class CourseTextInline(admin.TabularInline):
    model = CourseText
    extra = 0
    fields = ("language", "title")
    readonly_fields = ("title",)
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Course)
class CourseAdmin(AisleModelAdmin):
    list_display = (
        "code",
        "area",
        "estimated_minutes",
        "pass_mark",
        "max_attempts",
        "valid_months",
        "onboarding_position",
        "is_active",
        "enrolments_count",
    )
    list_filter = ("is_active", "area")
    search_fields = ("code", "texts__title")
    readonly_fields = ("created_at", "updated_at")
    list_select_related = ("area",)
    inlines = [CourseGrantInline, CourseTextInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(enrolments_n=Count("enrolments"))

    def get_search_results(self, request, queryset, search_term):
        results, _dupes = super().get_search_results(request, queryset, search_term)
        return results.distinct(), False

    @admin.display(description=_("enrolments"), ordering="enrolments_n")
    def enrolments_count(self, obj):
        return obj.enrolments_n


class ModuleInline(admin.StackedInline):
    model = Module
    extra = 0
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = (("position", "title"), "body", ("illustration", "image", "image_alt"), "video_url")


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = ("position", "prompt", "kind")
    show_change_link = True


@admin.register(CourseText)
class CourseTextAdmin(AisleModelAdmin):
    list_display = ("title", "course", "language")
    list_filter = ("language", "course__area")
    search_fields = ("title", "summary", "course__code")
    list_select_related = ("course",)
    inlines = [ModuleInline, QuestionInline]


class ChoiceFormSet(forms.BaseInlineFormSet):
    """A question keeps at least two answers, and the right number of them correct."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        flags = [
            form.cleaned_data.get("is_correct", False)
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        kind = getattr(self.instance, "kind", "single")
        try:
            validate_question_choices(kind, flags)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc


class ChoiceInline(admin.TabularInline):
    model = Choice
    formset = ChoiceFormSet
    extra = 0
    fields = ("position", "text", "is_correct")


@admin.register(Question)
class QuestionAdmin(AisleModelAdmin):
    list_display = ("prompt", "text", "kind", "position")
    list_filter = ("kind", "text__language", "text__course")
    search_fields = ("prompt", "choices__text")
    list_select_related = ("text",)
    inlines = [ChoiceInline]

    def get_search_results(self, request, queryset, search_term):
        results, _dupes = super().get_search_results(request, queryset, search_term)
        return results.distinct(), False


# --- What people did (read-only) -------------------------------------------------------------


@admin.register(LevelRecord)
class LevelRecordAdmin(ReadOnlyAdmin):
    """Levels are never overwritten: each change is a new record, the old one closed."""

    list_display = (
        "user",
        "skill",
        "track",
        "level",
        "source",
        "assessed_by",
        "valid_from",
        "valid_to",
    )
    list_filter = ("track", "source", "level", "skill")
    search_fields = ("user__email", "user__first_name", "user__last_name", "skill__name")
    list_select_related = ("user", "skill", "assessed_by")
    date_hierarchy = "valid_from"


class HasFeedbackFilter(admin.SimpleListFilter):
    title = _("feedback")
    parameter_name = "feedback"

    def lookups(self, request, model_admin):
        return (("yes", _("with a comment")), ("rated", _("rated")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(feedback="")
        if self.value() == "rated":
            return queryset.filter(rating__isnull=False)
        return queryset


class AttemptInline(ReadOnlyInline):
    model = Attempt
    fields = ("number", "language", "score", "passed", "started_at", "submitted_at")


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdmin):
    """Enrolments, with learners' ratings and feedback for HQ."""

    list_display = (
        "user",
        "course",
        "source",
        "status",
        "due_date",
        "modules_done",
        "rating",
        "enrolled_at",
    )
    list_filter = ("status", "source", HasFeedbackFilter, "rating", "course")
    search_fields = (
        "user__email",
        "user__first_name",
        "user__last_name",
        "course__code",
        "feedback",
    )
    list_select_related = ("user", "course")
    date_hierarchy = "enrolled_at"
    inlines = [AttemptInline]


class CertifiedSkillInline(ReadOnlyInline):
    model = CertifiedSkill


@admin.register(Certification)
class CertificationAdmin(ReadOnlyAdmin):
    list_display = ("number", "user", "course", "status", "issued_at", "expires_at")
    list_filter = ("status", "course")
    search_fields = ("number", "user__email", "user__first_name", "user__last_name")
    list_select_related = ("user", "course")
    date_hierarchy = "expires_at"
    inlines = [CertifiedSkillInline]


@admin.register(CertificationReminder)
class CertificationReminderAdmin(ReadOnlyAdmin):
    list_display = ("key", "recipient", "state", "created_at", "sent_at")
    list_filter = ("state", "kind")
    search_fields = ("key", "recipient__email")
    list_select_related = ("recipient",)


@admin.register(GateOverride)
class GateOverrideAdmin(ReadOnlyAdmin):
    list_display = ("operation", "user", "granted_by", "store", "created_at", "used_at")
    list_filter = ("operation", "store")
    search_fields = ("operation", "user__email", "granted_by__email", "reason")
    list_select_related = ("user", "granted_by", "store")
    date_hierarchy = "created_at"


@admin.register(SkillSnapshot)
class SkillSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("quarter_end", "store", "area", "required", "met")
    list_filter = ("quarter_end", "area")
    search_fields = ("store__code", "store__name")
    list_select_related = ("store", "area")


@admin.register(Onboarding)
class OnboardingAdmin(ReadOnlyAdmin):
    list_display = ("user", "started_at")
    search_fields = ("user__email",)
    list_select_related = ("user",)
