"""Validation of the core records: clear messages, nothing saved."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from retail.models import Variant
from retail.validators import ean13_check_digit, normalise_phone, validate_ean13
from tests import factories


@given(st.from_regex(r"\A[0-9]{12}\Z"))
def test_every_ean13_with_its_check_digit_is_valid_and_any_other_digit_is_not(first12):
    good = first12 + str(ean13_check_digit(first12))
    validate_ean13(good)
    bad_digit = (int(good[-1]) + 1) % 10
    with pytest.raises(ValidationError):
        validate_ean13(first12 + str(bad_digit))


def test_known_barcode_check_digit():
    validate_ean13("4006381333931")
    with pytest.raises(ValidationError, match="check digit"):
        validate_ean13("4006381333932")


def test_phone_numbers_are_normalised_to_e164():
    assert normalise_phone("06 12 34 56 78", "FR") == "+33612345678"
    assert normalise_phone("+33 1 42 68 53 00") == "+33142685300"
    assert normalise_phone("") == ""


@pytest.mark.parametrize("raw", ["not a phone", "+33 12", "12345"])
def test_malformed_phone_numbers_are_refused_with_a_message(raw):
    with pytest.raises(ValidationError) as info:
        normalise_phone(raw, "FR")
    assert "phone" in str(info.value).lower()


def test_phone_message_is_translated_to_chinese():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as info:
        normalise_phone("not a phone", "FR")
    assert "电话" in str(info.value)


@pytest.mark.django_db
def test_admin_refuses_a_duplicate_sku_and_a_bad_check_digit(hq_client):
    existing = factories.VariantFactory(sku="DUP-1")
    product = existing.product
    base = {
        "product": product.pk,
        "size": "L",
        "colour": "red",
        "price": "10.00",
        "active": "on",
    }
    response = hq_client.post("/admin/retail/variant/add/", {**base, "sku": "DUP-1", "barcode": ""})
    assert response.status_code == 200
    assert "Variant with this SKU already exists" in response.content.decode()
    response = hq_client.post(
        "/admin/retail/variant/add/", {**base, "sku": "NEW-1", "barcode": "4006381333932"}
    )
    assert "check digit" in response.content.decode()
    assert Variant.objects.count() == 1


@pytest.mark.django_db
def test_admin_refuses_a_malformed_customer_phone(hq_client):
    response = hq_client.post(
        "/admin/retail/customer/add/",
        {
            "name": "Test Person",
            "phone": "call me maybe",
            "language": "en",
            "sizes": "{}",
        },
    )
    assert response.status_code == 200
    assert "does not look like a phone number" in response.content.decode()
    from retail.models import Customer

    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_store_model_refuses_bad_codes_and_time_zones():
    store = factories.StoreFactory.build(code="s 1", time_zone="Mars/Olympus")
    with pytest.raises(ValidationError) as info:
        store.full_clean()
    assert set(info.value.message_dict) >= {"code", "time_zone"}


@pytest.mark.django_db
def test_roles_exist_after_migrate_and_hq_may_not_edit_the_audit_log():
    from django.contrib.auth.models import Group

    names = set(Group.objects.values_list("name", flat=True))
    assert names >= {"associate", "store_manager", "hq_admin", "kiosk"}
    hq = Group.objects.get(name="hq_admin")
    codenames = set(hq.permissions.values_list("codename", flat=True))
    assert "change_customer" in codenames
    assert "view_auditlog" in codenames
    assert "change_auditlog" not in codenames
