"""Roles as Django groups, and keeping a staff member's group and flags in step."""

from django.contrib.auth.models import Group, Permission

from retail.models import Role

AISLE_APPS = (
    "retail",
    "inventory",
    "training",
    "orders",
    "clienteling",
    "returns",
    "kiosk",
    "insights",
)
# What HQ may never do, even in admin: the audit log is append-only.
HQ_DENIED = {"change_auditlog", "delete_auditlog", "add_auditlog"}


def ensure_role_groups(sender=None, **kwargs) -> None:
    """Create the role groups; HQ admins get every permission on Aisle's models,
    users, groups and MFA authenticators, except changing the audit log."""
    groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}
    perms = Permission.objects.filter(
        content_type__app_label__in=(*AISLE_APPS, "auth", "mfa", "account")
    ).exclude(codename__in=HQ_DENIED)
    groups[Role.HQ_ADMIN].permissions.set(perms)


def sync_user_with_role(user, role: str) -> None:
    """One role a person: their only group is the role's, and only HQ admins are
    `is_staff` (which allauth's admin login asks for)."""
    user.groups.set([Group.objects.get_or_create(name=role)[0]])
    is_staff = role == Role.HQ_ADMIN
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])


def record_totp_setup_as_passed(sender=None, request=None, authenticator=None, **kwargs) -> None:
    """Setting up TOTP proves a valid code, so this session has passed the second factor."""
    from allauth.account.internal.flows.login import record_authentication

    if request is not None and authenticator is not None and authenticator.type == "totp":
        record_authentication(request, authenticator.user, "mfa", type="totp")
