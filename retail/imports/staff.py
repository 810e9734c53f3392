"""Staff with their role and stores: `email, first_name, last_name, role, stores, active`.

A person is found by e-mail address (any case). `role` is associate, store_manager or
hq_admin (or their names as Aisle shows them); `stores` is store codes separated by
spaces (`S01 S02`), the first being the home store; store staff need at least one.
`active` no keeps an account from signing in (yes again lets it back).

A new person gets an account without a password and an e-mail inviting them to choose
one (`retail.services.staff_invite`, sent after commit through the outbox): a file
never carries a password. Kiosk accounts are devices, kept in admin: the file neither
lists nor takes them. An empty name cell makes the name empty; an empty `active` cell
(or the column left out) keeps what Aisle has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retail.imports import cells
from retail.imports.base import CREATED, UNCHANGED, UPDATED, Batch, Column, Kind, RowChange
from retail.models import Role, StaffProfile, Store, User

IMPORTED_ROLES = (Role.ASSOCIATE, Role.STORE_MANAGER, Role.HQ_ADMIN)
STORE_ROLES = (Role.ASSOCIATE, Role.STORE_MANAGER)
NAME_MAX = User._meta.get_field("first_name").max_length


@dataclass
class StaffRow:
    email: str
    first_name: str
    last_name: str
    role: str
    stores: list[str]
    active: bool | None


def _stores_text(profile: StaffProfile | None) -> str:
    if profile is None:
        return ""
    codes = [profile.home_store.code] if profile.home_store_id else []
    codes += sorted(s.code for s in profile.other_stores.all() if s.pk != profile.home_store_id)
    return " ".join(codes)


class StaffKind(Kind):
    code = "staff"
    verbose_name = gettext_lazy("Staff")
    columns = (
        Column("email", help=gettext_lazy("Their work e-mail address: how they sign in.")),
        Column("first_name"),
        Column("last_name"),
        Column("role", help=gettext_lazy("associate, store_manager or hq_admin.")),
        Column(
            "stores",
            help=gettext_lazy("Store codes separated by spaces, the home store first: S01 S02."),
        ),
        Column("active", required=False, help=gettext_lazy("yes, or no to stop them signing in.")),
    )

    def __init__(self):
        self.stores: dict[str, Store] = {}

    def parse(self, row):
        errors: dict[str, list[str]] = {}
        email = row.get("email", "").lower()
        try:
            validate_email(cells.required(email))
        except cells.CellError as exc:
            errors["email"] = [exc.message]
        except ValidationError as exc:
            errors["email"] = [str(m) for m in exc.messages]
        names = {}
        for column in ("first_name", "last_name"):
            try:
                names[column] = cells.text(row.get(column, ""), max_length=NAME_MAX) or ""
            except cells.CellError as exc:
                errors[column] = [exc.message]
        role = None
        try:
            if row.get("role", "").strip().casefold() in (
                Role.KIOSK.value,
                str(Role.KIOSK.label).casefold(),
            ):
                raise cells.CellError(_("Kiosk accounts are devices, kept in admin, not imported."))
            role = cells.choice(row.get("role", ""), {r.value: r.label for r in IMPORTED_ROLES})
        except cells.CellError as exc:
            errors["role"] = [exc.message]
        stores = list(
            dict.fromkeys(c.upper() for c in re.split(r"[\s,;]+", row.get("stores", "")) if c)
        )
        if role in STORE_ROLES and not stores:
            errors["stores"] = [
                _("A %(role)s works in at least one store: give its code.")
                % {"role": Role(role).label}
            ]
        active = None
        try:
            active = cells.boolean(row.get("active", ""))
        except cells.CellError as exc:
            errors["active"] = [exc.message]
        if errors:
            return None, errors
        return StaffRow(email=email, role=role, stores=stores, active=active, **names), {}

    def identity(self, item: StaffRow):
        return "email", item.email, item.email

    def check(self, batch: Batch):
        wanted = {code for row in batch for code in row.item.stores} - set(self.stores)
        if wanted:
            self.stores.update((s.code, s) for s in Store.objects.filter(code__in=wanted))
        kiosks = set(
            StaffProfile.objects.filter(
                role=Role.KIOSK, user__email__in=[row.item.email for row in batch]
            ).values_list("user__email", flat=True)
        )
        errors = {}
        for row in batch:
            unknown = [c for c in row.item.stores if c not in self.stores]
            if unknown:
                errors.setdefault(row.number, {})["stores"] = [
                    _("Unknown store: %(codes)s.") % {"codes": " ".join(unknown)}
                ]
            if row.item.email in kiosks:
                errors.setdefault(row.number, {})["email"] = [
                    _("This is a kiosk account, kept in admin.")
                ]
        return errors

    def apply(self, batch: Batch, *, by, dry_run: bool) -> list[RowChange]:
        from retail.services import audit_record, staff_create, staff_invite, staff_update

        if not all(c in self.stores for row in batch for c in row.item.stores):
            self.check(batch)
        emails = [row.item.email for row in batch]
        users = {
            u.email.lower(): u
            for u in User.objects.filter(email__in=emails)
            .select_related("staff_profile__home_store")
            .prefetch_related("staff_profile__other_stores")
        }
        changes = []
        for row in batch:
            item: StaffRow = row.item
            stores = [self.stores[c] for c in item.stores]
            home, others = (stores[0], stores[1:]) if stores else (None, [])
            user = users.get(item.email)
            if user is None:
                user = staff_create(
                    email=item.email,
                    password=None,
                    role=item.role,
                    home_store=home,
                    other_stores=others,
                    first_name=item.first_name or "",
                    last_name=item.last_name or "",
                )
                if item.active is False:
                    user.is_active = False
                    user.save(update_fields=["is_active"])
                audit_record(actor=by, action="staff.import_create", target=user)
                if user.is_active:
                    staff_invite(user=user, by=by)
                changes.append(RowChange(row.number, item.email, CREATED))
                continue
            profile = getattr(user, "staff_profile", None)
            old_stores = _stores_text(profile)
            done = staff_update(
                user=user,
                role=item.role,
                home_store=home,
                other_stores=others,
                first_name=item.first_name,
                last_name=item.last_name,
                is_active=item.active,
                by=by,
            )
            changed = {}
            for field, column in (
                ("first_name", "first_name"),
                ("last_name", "last_name"),
                ("role", "role"),
                ("is_active", "active"),
            ):
                if field in done:
                    changed[column] = done[field]
            if {"home_store", "other_stores"} & set(done):
                changed["stores"] = (old_stores, " ".join(item.stores))
            changes.append(
                RowChange(row.number, item.email, UPDATED if changed else UNCHANGED, changed)
            )
        return changes

    def export(self):
        profiles = (
            StaffProfile.objects.exclude(role=Role.KIOSK)
            .select_related("user", "home_store")
            .prefetch_related("other_stores")
            .order_by("user__email")
        )
        for profile in profiles:
            user = profile.user
            yield {
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "role": profile.role,
                "stores": _stores_text(profile),
                "active": "yes" if user.is_active else "no",
            }
