"""Service functions of the core: the only code that writes several core rows at once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retail import roles
from retail.models import (
    AuditLog,
    Customer,
    Product,
    ProductTranslation,
    Role,
    StaffProfile,
    Store,
    User,
    catalogue_languages,
)


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    store: Store | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one row to the audit log. `detail` must never hold personal data."""
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        store=store,
        detail=detail or {},
    )


def customer_profile_view(*, customer: Customer, by: User, store: Store | None) -> AuditLog:
    """Record that a staff member opened a customer's profile."""
    return audit_record(actor=by, action="customer.view", target=customer, store=store)


def consent_times_update(*, customer: Customer, changed: Iterable[str]) -> None:
    """Stamp the time of every consent decision that changed (given or withdrawn)."""
    now = timezone.now()
    changed = set(changed)
    if "tracking_consent" in changed:
        customer.tracking_consent_at = now
    if "marketing_consent" in changed:
        customer.marketing_consent_at = now
    if "tracking_consent" in changed and not customer.tracking_consent and customer.pk:
        # Apps that keep browsing erase it (clienteling listens), after commit.
        from retail import outbox

        outbox.record_event("tracking_consent_withdrawn", payload={"customer_id": customer.pk})


@transaction.atomic
def customer_consent_withdraw(
    *,
    customer: Customer,
    kind: str,
    by: User | None,
    store: Store | None = None,
    source: str = "",
) -> Customer:
    """Withdraw a consent (`tracking` or `marketing`) at the customer's request, e.g. on
    the tablet; a second call changes nothing. `source` says how it came (recorded,
    e.g. "unsubscribe_link")."""
    if kind not in ("tracking", "marketing"):
        raise ValueError(f"Unknown consent {kind!r}.")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    field = f"{kind}_consent"
    if getattr(customer, field):
        setattr(customer, field, False)
        consent_times_update(customer=customer, changed=[field])
        customer.save(update_fields=[field, f"{field}_at", "updated_at"])
        audit_record(
            actor=by,
            action="customer.consent_withdraw",
            target=customer,
            store=store,
            detail={"consent": kind, **({"source": source} if source else {})},
        )
    return customer


@transaction.atomic
def staff_create(
    *,
    email: str,
    password: str | None,
    role: Role | str,
    home_store: Store | None,
    other_stores: Iterable[Store] = (),
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create a staff member (or kiosk account) with their one role and stores."""
    user = User.objects.create_user(
        email=email, password=password, first_name=first_name, last_name=last_name
    )
    profile = StaffProfile.objects.create(user=user, role=role, home_store=home_store)
    mark_email_verified(user)
    if other_stores:
        profile.other_stores.set(other_stores)
    roles.sync_user_with_role(user, role)
    return user


@transaction.atomic
def staff_update(
    *,
    user: User,
    role: Role | str,
    home_store: Store | None,
    other_stores: Iterable[Store] = (),
    first_name: str | None = None,
    last_name: str | None = None,
    is_active: bool | None = None,
    by: User | None = None,
) -> dict[str, tuple[object, object]]:
    """Make a staff member's role, stores, name and whether they may sign in what is
    given (a name or `is_active` given as None is kept); a user without a staff
    profile gets one. Returns what changed: field -> (old, new), with stores as their
    codes. A staff member switched on again who never chose a password is invited."""
    user = User.objects.select_for_update().get(pk=user.pk)
    profile = StaffProfile.objects.filter(user=user).first()
    changed: dict[str, tuple[object, object]] = {}
    others = sorted({s.pk: s for s in other_stores if s != home_store}.values(), key=str)
    for field, value in (
        ("first_name", first_name),
        ("last_name", last_name),
        ("is_active", is_active),
    ):
        if value is not None and getattr(user, field) != value:
            changed[field] = (getattr(user, field), value)
            setattr(user, field, value)
    if changed:
        user.save(update_fields=list(changed))
    if profile is None:
        profile = StaffProfile.objects.create(user=user, role=role, home_store=home_store)
        changed["role"] = (None, role)
        if home_store is not None:
            changed["home_store"] = (None, home_store.code)
    else:
        if profile.role != role:
            changed["role"] = (profile.role, role)
            profile.role = role
        if profile.home_store_id != (home_store.pk if home_store else None):
            changed["home_store"] = (
                profile.home_store.code if profile.home_store_id else None,
                home_store.code if home_store else None,
            )
            profile.home_store = home_store
        if {"role", "home_store"} & set(changed):
            profile.save(update_fields=["role", "home_store"])
    old_others = sorted(profile.other_stores.all(), key=str)
    if [s.pk for s in old_others] != [s.pk for s in others]:
        changed["other_stores"] = (
            " ".join(s.code for s in old_others),
            " ".join(s.code for s in others),
        )
        profile.other_stores.set(others)
    if "role" in changed or not user.groups.filter(name=role).exists():
        roles.sync_user_with_role(user, role)
    if changed:
        audit_record(
            actor=by, action="staff.update", target=user, detail={"fields": sorted(changed)}
        )
    if changed.get("is_active") == (False, True) and not user.has_usable_password():
        staff_invite(user=user, by=by)
    return changed


def staff_invite(*, user: User, by: User | None) -> None:
    """E-mail a staff member without a password a link to choose one: allauth's
    password-reset link (valid `PASSWORD_RESET_TIMEOUT`; afterwards "Forgot your
    password?" sends a new one, their address being verified). Sent after commit
    through the outbox, never inline; the importer's language is the e-mail's."""
    from allauth.account import app_settings as account_settings
    from allauth.account.utils import user_pk_to_url_str
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives
    from django.urls import reverse

    from retail.auth import account_mail_enqueue
    from retail.messaging import render_text

    token = account_settings.PASSWORD_RESET_TOKEN_GENERATOR().make_token(user)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": token},
    )
    context = {
        "first_name": user.first_name or user.email,
        "email": user.email,
        "invite_url": settings.AISLE_SITE_URL.rstrip("/") + path,
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    subject = " ".join(render_text("account/email/staff_invite_subject.txt", context).split())
    body = render_text("account/email/staff_invite_message.txt", context)
    account_mail_enqueue(
        EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    )
    audit_record(actor=by, action="staff.invite", target=user)


def mark_email_verified(user: User) -> None:
    """The address HQ gave an account counts as verified (its primary, for allauth):
    password resets go only to verified addresses (`retail.auth`)."""
    from allauth.account.models import EmailAddress

    if user.email:
        EmailAddress.objects.update_or_create(
            user=user, email=user.email.lower(), defaults={"verified": True, "primary": True}
        )


def customer_follow_merges(customer: Customer) -> Customer:
    """The surviving profile of a customer that may have been merged away."""
    seen = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


class MergeError(Exception):
    pass


def merge_preview(*, survivor: Customer, duplicate: Customer) -> list[tuple[str, int]]:
    """What a merge would move, per registered app: (title in words, rows)."""
    from retail import customer_data

    return [
        (str(handler.title), handler.count(duplicate))
        for handler in customer_data.handlers()
        if handler.count is not None
    ]


def merge_comparison(first: Customer, second: Customer) -> list[tuple[str, str, str]]:
    """The two profiles side by side for HQ: (what, first's, second's) — the profile's
    fields, then what each holds in every app of the customer-data registry."""
    from retail import customer_data

    def consent(given: bool, at) -> str:
        if not given:
            return _("no")
        return _("yes, since %(day)s") % {"day": date_format(at, "DATE_FORMAT")} if at else _("yes")

    rows = [
        (_("Name"), first.name, second.name),
        (
            _("Customer reference"),
            first.customer_ref or _("none (walk-in)"),
            second.customer_ref or _("none (walk-in)"),
        ),
        (_("E-mail"), first.email or "—", second.email or "—"),
        (_("Phone"), first.phone or "—", second.phone or "—"),
        (
            _("Preferred store"),
            str(first.preferred_store or "—"),
            str(second.preferred_store or "—"),
        ),
        (
            _("Customer since"),
            date_format(first.created_at, "DATE_FORMAT"),
            date_format(second.created_at, "DATE_FORMAT"),
        ),
        (
            _("Tracking consent"),
            consent(first.tracking_consent, first.tracking_consent_at),
            consent(second.tracking_consent, second.tracking_consent_at),
        ),
        (
            _("Marketing consent"),
            consent(first.marketing_consent, first.marketing_consent_at),
            consent(second.marketing_consent, second.marketing_consent_at),
        ),
    ]
    for handler in customer_data.handlers():
        if handler.count is not None:
            rows.append((str(handler.title), str(handler.count(first)), str(handler.count(second))))
    return rows


def customer_survivor(customer: Customer) -> Customer:
    """The profile a merged-away customer now lives in (following merges of merges);
    the customer itself when it was never merged."""
    seen = {customer.pk}
    while customer.merged_into_id is not None and customer.merged_into_id not in seen:
        seen.add(customer.merged_into_id)
        customer = Customer.objects.select_related("preferred_store").get(
            pk=customer.merged_into_id
        )
    return customer


@transaction.atomic
def customer_merge(*, survivor: Customer, duplicate: Customer, by: User | None) -> Customer:
    """Merge a duplicate profile into the survivor: every registered app moves its rows,
    each consent keeps its most recent decision, blank fields are filled from the
    duplicate, and the duplicate stays as a tombstone pointing at the survivor (so a
    late API call with its customer_ref finds the right customer)."""
    from retail import customer_data, outbox

    if survivor.pk == duplicate.pk:
        raise MergeError(_("A customer cannot be merged into itself."))
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update()
        .filter(pk__in=[survivor.pk, duplicate.pk])
        .order_by("pk")
    }
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    if survivor.merged_into_id or duplicate.merged_into_id:
        raise MergeError(_("One of these profiles was already merged into another one."))
    if survivor.erased_at or duplicate.erased_at:
        raise MergeError(_("One of these profiles was erased."))
    for handler in customer_data.handlers():
        handler.merge(survivor=survivor, duplicate=duplicate)
    for kind in ("tracking", "marketing"):
        at_field, flag = f"{kind}_consent_at", f"{kind}_consent"
        theirs = getattr(duplicate, at_field)
        if theirs and (getattr(survivor, at_field) is None or theirs > getattr(survivor, at_field)):
            setattr(survivor, flag, getattr(duplicate, flag))
            setattr(survivor, at_field, theirs)
    for name in ("email", "phone", "preferences"):
        if not getattr(survivor, name) and getattr(duplicate, name):
            setattr(survivor, name, getattr(duplicate, name))
    if survivor.preferred_store_id is None:
        survivor.preferred_store_id = duplicate.preferred_store_id
    survivor.sizes = {**duplicate.sizes, **survivor.sizes}
    survivor.save()
    duplicate.merged_into = survivor
    duplicate.merged_at = timezone.now()
    duplicate.save(update_fields=["merged_into", "merged_at", "updated_at"])
    audit_record(
        actor=by,
        action="customer.merge",
        target=survivor,
        detail={"duplicate_id": duplicate.pk},
    )
    outbox.record_event(
        "customer_merged", payload={"survivor_id": survivor.pk, "duplicate_id": duplicate.pk}
    )
    return survivor


def _merge_messages(*, survivor: Customer, duplicate: Customer) -> None:
    from retail.models import OutboundMessage

    OutboundMessage.objects.filter(customer=duplicate).update(customer=survivor)


def _count_messages(customer: Customer) -> int:
    from retail.models import OutboundMessage

    return OutboundMessage.objects.filter(customer=customer).count()


def register_customer_data() -> None:
    from retail import customer_data, data_rights

    data_rights.register()
    customer_data.register(
        "retail.messages",
        title=gettext_lazy("Messages sent to the customer"),
        merge=_merge_messages,
        count=_count_messages,
        export=data_rights.messages_export,
        erase=data_rights.messages_erase,
    )


def customer_by_ref(ref: str) -> Customer | None:
    """The customer the online channel knows by `ref`, following merges."""
    # A cheap indexed look first: unknown references (a common answer) cost one
    # plain query, without building an ORM query.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM retail_customer WHERE customer_ref = %s", [ref])
        row = cursor.fetchone()
    if row is None:
        return None
    customer = Customer.objects.select_related("preferred_store").get(pk=row[0])
    if customer.merged_into_id is not None:
        customer = customer_follow_merges(customer)
    return customer


@transaction.atomic
def customer_upsert(*, customer_ref: str, data: dict, by: User | None) -> tuple[Customer, bool]:
    """Create or update the customer the online channel knows by `customer_ref`.

    Fields left out keep their value; the phone is stored in E.164; each consent
    decision is stamped with its time when it changes (a withdrawal too).
    Raises a Django ValidationError (by field) for bad input, writing nothing.
    """
    from django.core.exceptions import ValidationError

    from retail.validators import normalise_phone

    customer = Customer.objects.select_for_update().filter(customer_ref=customer_ref).first()
    created = customer is None
    if customer is not None and customer.merged_into_id is not None:
        customer = customer_follow_merges(customer)
    if created:
        if not (data.get("name") or "").strip():
            raise ValidationError({"name": [_("A name is needed to create a customer.")]})
        customer = Customer(customer_ref=customer_ref)
    for field in ("name", "email"):
        if field in data:
            setattr(customer, field, data[field].strip() if data[field] else "")
    if "preferred_store" in data:
        customer.preferred_store = data["preferred_store"]
    if "phone" in data:
        region = customer.preferred_store.country if customer.preferred_store else None
        try:
            customer.phone = normalise_phone(data["phone"], region)
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from exc
    changed = []
    for kind, value in (data.get("consents") or {}).items():
        if created or getattr(customer, f"{kind}_consent") != value:
            setattr(customer, f"{kind}_consent", value)
            changed.append(f"{kind}_consent")
    consent_times_update(customer=customer, changed=changed)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        if not (created and Customer.objects.filter(customer_ref=customer_ref).exists()):
            raise
        # Another request created this reference a moment ago (a resent PUT, say):
        # update that customer instead; the second call finds and locks it.
        return customer_upsert(customer_ref=customer_ref, data=data, by=by)
    audit_record(
        actor=by,
        action="customer.api_create" if created else "customer.api_update",
        target=customer,
        detail={"consents_changed": changed},
    )
    return customer, created


@transaction.atomic
def customer_find_or_create_walk_in(
    *, name: str, email: str, phone: str, store: Store, by: User | None
) -> tuple[Customer, bool]:
    """The customer a walk-in guest is: an existing profile with this e-mail or phone
    (the same person as online), else a new walk-in profile. Returns (customer, created).
    Raises a Django ValidationError (by field) for bad input, writing nothing."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from retail.validators import normalise_phone

    email = (email or "").strip().lower()
    errors: dict[str, list[str]] = {}
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            errors["email"] = list(exc.messages)
    try:
        phone = normalise_phone(phone, store.country or None)
    except ValidationError as exc:
        errors["phone"] = list(exc.messages)
    if not errors and not (email or phone):
        errors["email"] = [_("Give the customer's e-mail or phone, for the confirmation.")]
    if errors:
        raise ValidationError(errors)
    found = Customer.objects.filter(merged_into__isnull=True)
    match = (found.filter(email__iexact=email).first() if email else None) or (
        found.filter(phone=phone).first() if phone else None
    )
    if match is not None:
        # Found by a whole e-mail or phone: a look at the profile, audited like a search.
        audit_record(
            actor=by,
            action="customer.match",
            target=match,
            store=store,
            detail={"by": "email" if email and match.email.lower() == email else "phone"},
        )
        return match, False
    name = " ".join((name or "").split())[:200]
    customer = Customer.objects.create(
        name=name or email or phone, email=email, phone=phone, preferred_store=store
    )
    audit_record(actor=by, action="customer.create_walk_in", target=customer, store=store)
    return customer, True


@transaction.atomic
def product_translations_set(*, product: Product, translations: dict, by: User | None) -> list[str]:
    """Set the product's name and description in other languages, in the catalog API's
    shape (`{"zh-hans": {"name": ..., "description"?: ...}}`, design.md): a language
    given is created or updated (a description left out keeps its value), a language
    left out keeps what it has. Returns the languages changed. Bad input raises a
    ValidationError keyed `translations.<language>.<field>`, writing nothing."""
    from django.core.exceptions import ValidationError

    from retail import catalogue

    known = {code for code, _name in catalogue_languages()}
    errors: dict[str, list[str]] = {}
    clean: dict[str, dict[str, str]] = {}
    if not isinstance(translations, dict):
        raise ValidationError({"translations": [_("Give the translations by language.")]})
    for language, given in translations.items():
        key = f"translations.{language}"
        if language not in known:
            errors[key] = [
                _("Translations are in %(languages)s.") % {"languages": ", ".join(sorted(known))}
            ]
            continue
        if not isinstance(given, dict):
            errors[key] = [_("Give the name and, if any, the description.")]
            continue
        name = given.get("name")
        if not isinstance(name, str) or not name.strip():
            errors[f"{key}.name"] = [_("Give the translated name; it cannot be empty.")]
        elif len(name.strip()) > ProductTranslation._meta.get_field("name").max_length:
            errors[f"{key}.name"] = [_("A name has at most 200 characters.")]
        description = given.get("description")
        if description is not None and not isinstance(description, str):
            errors[f"{key}.description"] = [_("A description is text.")]
        if not errors:
            clean[language] = {"name": name.strip()}
            if description is not None:
                clean[language]["description"] = description.strip()
    if errors:
        raise ValidationError(errors)
    existing = {row.language: row for row in product.translations.select_for_update()}
    changed = []
    for language, values in clean.items():
        row = existing.get(language) or ProductTranslation(product=product, language=language)
        if row.pk and all(getattr(row, k) == v for k, v in values.items()):
            continue
        for k, v in values.items():
            setattr(row, k, v)
        row.save()
        changed.append(language)
    if changed:
        audit_record(
            actor=by,
            action="product.translations_set",
            target=product,
            detail={"languages": changed},
        )
        transaction.on_commit(catalogue.bump)
    return changed
