from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AisleAdminConfig(AdminConfig):
    default_site = "retail.admin_site.AisleAdminSite"


class RetailConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "retail"
    verbose_name = _("Retail core")

    def ready(self) -> None:
        from allauth.mfa import signals as mfa_signals
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from retail import backends, checks, retention, roles, services, webhooks  # noqa: F401 - beat tasks
        from retail.models import StaffProfile, Store, User

        # Roles are ensured after every migrate, so they survive test flushes too.
        post_migrate.connect(roles.ensure_role_groups, dispatch_uid="aisle_ensure_role_groups")
        services.register_customer_data()
        from retail.imports import register_retail_kinds

        register_retail_kinds()
        from retail import catalogue
        from retail.models import AttributeTranslation, CategoryTranslation, ProductTranslation

        # The catalogue's names in other languages are kept in memory; they reload when
        # one changes.
        for model in (ProductTranslation, CategoryTranslation, AttributeTranslation):
            for signal in (post_save, post_delete):
                signal.connect(
                    catalogue.bump, sender=model, dispatch_uid=f"aisle_catalogue_{model.__name__}"
                )
        from allauth.mfa.models import Authenticator

        for model in (User, StaffProfile, Authenticator):
            for signal in (post_save, post_delete):
                signal.connect(
                    backends.forget_user,
                    sender=model,
                    dispatch_uid=f"aisle_forget_{model.__name__}",
                )
        m2m_changed.connect(
            backends.forget_stores_of,
            sender=StaffProfile.other_stores.through,
            dispatch_uid="aisle_forget_other_stores",
        )
        from django.contrib.auth.signals import user_logged_in

        from retail import sessions

        user_logged_in.connect(sessions.signed_in, dispatch_uid="aisle_signed_in")
        post_save.connect(
            sessions.end_sessions_on_deactivation, sender=User, dispatch_uid="aisle_end_sessions"
        )
        for signal in (post_save, post_delete):
            signal.connect(
                backends.forget_all_users, sender=Store, dispatch_uid="aisle_forget_users"
            )
        from celery.signals import task_failure

        from retail import metrics

        task_failure.connect(metrics.count_task_failure, dispatch_uid="aisle_task_failure_metric")
        mfa_signals.authenticator_added.connect(
            roles.record_totp_setup_as_passed, dispatch_uid="aisle_totp_setup_passed"
        )
