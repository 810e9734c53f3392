"""`manage.py seed_demo`: one coherent demo network, built once however often it runs."""

from __future__ import annotations

import io
import time
from decimal import Decimal

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from retail.demo import (
    DEMO_PASSWORD,
    HQ_EMAIL,
    HQ_TOTP_SECRET,
    PHONE_PREFIX,
    DemoContext,
    ProgressBar,
    catalog_plan,
    demo_phone,
    hq_totp_code,
    staff_email,
    staff_specs,
    store_specs,
)
from retail.models import Category, Customer, Role, StaffProfile, Store, User, Variant
from retail.roles import AISLE_APPS
from retail.validators import normalise_phone, validate_ean13


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Product images are drawn into a temporary MEDIA_ROOT, never the working tree."""
    settings.MEDIA_ROOT = tmp_path / "media"


def seed_demo(*args, **options) -> str:
    out = io.StringIO()
    options.setdefault("force", True)  # pytest-django runs with DEBUG off
    call_command("seed_demo", *args, stdout=out, **options)
    return out.getvalue()


def current_code() -> str:
    """The code an authenticator app set up with the printed secret shows now."""
    return format_hotp_value(hotp_value(HQ_TOTP_SECRET, int(time.time()) // 30))


def row_counts() -> dict[str, int]:
    """Rows in every table of Aisle's apps, plus logins, their groups and authenticators."""
    models = [m for name in AISLE_APPS for m in apps.get_app_config(name).get_models()]
    models += [User.groups.through, Authenticator, StaffProfile.other_stores.through]
    return {m._meta.label: m._default_manager.count() for m in models}


@pytest.mark.django_db
def test_small_seed_creates_the_demo_logins_with_the_demo_password():
    output = seed_demo()

    for email in (
        HQ_EMAIL,
        "manager.s01@demo.aisle",
        "associate.s01@demo.aisle",
        "kiosk.s01@demo.aisle",
        "manager.s05@demo.aisle",
    ):
        assert email in output
        assert authenticate(None, email=email, password=DEMO_PASSWORD) is not None, email
    assert HQ_TOTP_SECRET in output
    for code in ("S01", "S02", "S03", "S04", "S05"):
        for kind, role in (
            ("manager", Role.STORE_MANAGER),
            ("associate", Role.ASSOCIATE),
            ("kiosk", Role.KIOSK),
        ):
            profile = StaffProfile.objects.get(user__email=staff_email(kind, code))
            assert (profile.role, profile.home_store.code) == (role, code)
            assert list(profile.user.groups.values_list("name", flat=True)) == [role]
    hq = StaffProfile.objects.get(user__email=HQ_EMAIL)
    assert (hq.role, hq.home_store, hq.user.is_staff) == (Role.HQ_ADMIN, None, True)


@pytest.mark.django_db
def test_small_seed_builds_stores_catalog_and_customers():
    seed_demo()

    stores = {s.code: s for s in Store.objects.prefetch_related("opening_hours")}
    assert sorted(stores) == ["S01", "S02", "S03", "S04", "S05"]
    assert len({s.time_zone for s in stores.values()}) >= 4
    assert [s.code for s in stores.values() if not s.pickup_enabled] == ["S04"]
    assert any(6 not in {h.weekday for h in s.opening_hours.all()} for s in stores.values())
    manager = StaffProfile.objects.get(user__email="manager.s01@demo.aisle")
    assert [s.code for s in manager.other_stores.all()] == ["S02"]
    assert Variant.objects.count() >= 300
    assert Customer.objects.count() >= 300
    assert Customer.objects.filter(customer_ref__isnull=True).exists()


@pytest.mark.django_db
def test_hq_totp_code_from_the_fixed_secret_is_accepted_by_allauth():
    seed_demo()
    authenticator = Authenticator.objects.get(user__email=HQ_EMAIL, type=Authenticator.Type.TOTP)

    # Frozen in time, so the code cannot roll over between computing and checking it.
    with time_machine.travel(time.time(), tick=False):
        code = current_code()
        assert code == hq_totp_code()
        assert authenticator.wrap().validate_code(code)


@pytest.mark.django_db
def test_hq_demo_login_passes_allauths_totp_step_into_hq(client):
    seed_demo()

    with time_machine.travel(time.time(), tick=False):
        response = client.post(
            reverse("account_login"), {"login": HQ_EMAIL, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302
        assert response.url == reverse("mfa_authenticate")
        response = client.post(reverse("mfa_authenticate"), {"code": current_code()})
        assert response.status_code == 302
    assert client.get(reverse("retail:hq_overview")).status_code == 200


@pytest.mark.django_db
def test_running_twice_duplicates_nothing():
    seed_demo()
    first = row_counts()
    seed_demo()

    assert row_counts() == first
    assert first["retail.Variant"] > 0


@pytest.mark.django_db
@pytest.mark.parametrize("call", [("--scale", "huge"), {"scale": "huge"}], ids=["argv", "kwarg"])
def test_unknown_scale_is_refused_and_writes_nothing(call):
    before = row_counts()
    args, kwargs = (call, {}) if isinstance(call, tuple) else ((), call)

    with pytest.raises(CommandError, match="huge"):
        seed_demo(*args, **kwargs)

    assert row_counts() == before
    assert Store.objects.count() == 0


@pytest.mark.django_db
def test_refuses_with_debug_off_unless_forced(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        seed_demo(force=False)

    assert Store.objects.count() == User.objects.count() == 0


@pytest.mark.django_db
def test_every_variant_barcode_is_a_valid_unique_ean13():
    seed_demo()

    barcodes = list(Variant.objects.values_list("barcode", flat=True))
    for barcode in barcodes:
        validate_ean13(barcode)
    assert len(set(barcodes)) == len(barcodes)


@pytest.mark.django_db
def test_demo_customer_is_found_by_her_whole_phone_number_only():
    seed_demo()

    mei = Customer.objects.get(customer_ref="WEB-MEI-001")
    assert (mei.name, mei.email, mei.phone) == (
        "Mei Lin Chen",
        "mei.chen@example.com",
        "+33612900123",
    )
    assert mei.preferred_store.code == "S01"
    assert mei.tracking_consent and mei.marketing_consent
    assert list(Customer.objects.search("+33 6 12 90 01 23")) == [mei]
    assert list(Customer.objects.search("2900123")) == []  # part of a number: nobody
    assert list(Customer.objects.search("Mei Lin")) == [mei]


@pytest.mark.django_db
def test_generated_customer_phones_are_valid_e164():
    seed_demo()

    phones = Customer.objects.exclude(phone="").exclude(customer_ref="WEB-MEI-001")
    for phone in phones.values_list("phone", flat=True):
        assert normalise_phone(phone) == phone


def test_demo_phone_ranges_are_valid_in_every_country():
    for country in PHONE_PREFIX:
        for index in (0, 1, 42, 99_999, 100_000, 499_999):
            phone = demo_phone(country, index)
            assert normalise_phone(phone) == phone, (country, index)


def test_large_scale_plans_enough_stores_skus_and_staff():
    specs = store_specs("large")
    stores = [Store(code=s.code, name=s.name, country=s.country) for s in specs]
    skus = [v for plan in catalog_plan("large") for v in plan.variants]

    assert len(specs) >= 50
    assert len({s.code for s in specs}) == len(specs)
    assert len(skus) >= 20_000
    assert len({v["sku"] for v in skus}) == len({v["barcode"] for v in skus}) == len(skus)
    assert len(staff_specs("large", stores)) >= 1000


def test_progress_bar_redraws_one_line():
    out = io.StringIO()
    bar = ProgressBar(out, "customers", 100_000, width=10)

    bar.update(45_000)

    assert out.getvalue() == "\r[####......]  45% customers 45000/100000"


@pytest.mark.django_db
def test_bulk_insert_helper_skips_rows_whose_unique_key_exists():
    ctx = DemoContext(scale="small", stdout=io.StringIO())
    rows = [Category(code=f"c{n}", name=f"C{n}", tax_rate=Decimal(20)) for n in range(5)]

    ctx.bulk_insert(Category, rows[:3], total=3, label="categories")
    ctx.bulk_insert(Category, rows, total=5, label="categories")

    assert Category.objects.count() == 5
