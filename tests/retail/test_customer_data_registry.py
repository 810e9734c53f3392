"""Issue #16, Done-when 2: every model that keeps customer data is covered by a
registered data-rights handler (`retail.customer_data`) with `export` and `erase`.

The test walks every installed model: each with a relation to `Customer`, and each
with a field that looks like personal data (named or typed like an e-mail, phone,
name or address), must be in COVERAGE: mapped to the handler label that exports and
erases it, or to None with the reason it holds no customer's data. A new model
fails here until someone decides. Removing a handler fails here too."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import models

from retail import customer_data
from retail.models import Customer

# model label -> handler label (or None: not a customer's data, with why)
COVERAGE: dict[str, str | None] = {
    # The profile itself (and the tombstones merged into it).
    "retail.Customer": "retail.customer",
    "retail.OutboundMessage": "retail.messages",
    "orders.Order": "orders",
    "orders.StoreCredit": "store_credit",
    "clienteling.BrowsingEvent": "clienteling",
    "clienteling.VisitorLink": "clienteling",
    "clienteling.Note": "clienteling",
    "clienteling.FollowUpTask": "clienteling",
    "clienteling.Outreach": "clienteling",
    "clienteling.Cart": "clienteling",
    "clienteling.SellingSession": "clienteling",
    # Appointments (issue #24): a booked one blocks an erasure.
    "clienteling.Appointment": "clienteling.appointments",
    "returns.Return": "returns",
    "returns.PolicyException": "returns.policy_exceptions",
    # Insights' per-customer rollups (figures derived from orders and browsing).
    "insights.CustomerChannel": "insights",
    "insights.CustomerSummary": "insights",
    "insights.PurchaseFact": "insights",
    "insights.BrowseDay": "insights",
    "insights.DirtyCustomer": "insights",
    # The abuse signals' monthly tallies and clearances (issue #17).
    "returns.CustomerSignalMonth": "returns.tallies",
    "returns.SignalSource": "returns.tallies",
    "returns.SignalClearance": "returns.tallies",
}
# Models whose personal-looking fields are not a customer's: staff accounts, stores,
# the catalogue, configuration. (The kiosk keeps no model; training holds staff data.)
NOT_CUSTOMER_DATA: dict[str, str] = {
    "auth.Permission": "configuration",
    "auth.Group": "roles",
    "account.EmailAddress": "staff accounts' e-mail addresses (allauth)",
    "account.EmailConfirmation": "staff accounts' e-mail confirmations (allauth)",
    "retail.User": "staff and kiosk accounts",
    "retail.Store": "the stores' own addresses",
    "retail.Category": "catalogue",
    "retail.Product": "catalogue",
    "retail.ProductTranslation": "catalogue",
    "retail.CategoryTranslation": "catalogue",
    "retail.AttributeTranslation": "catalogue",
    "retail.OutboxEntry": "task names (payloads hold ids only)",
    "retail.ApiClient": "integration clients",
    "retail.ImportJob": "HQ's import files (catalog, stores, staff, stock; no customers)",
    "inventory.StockLocation": "locations",
    "inventory.CarrierService": "carriers (a company name, not a person)",
    "training.SkillArea": "training catalogue",
    "training.Skill": "training catalogue",
    "clienteling.Topic": "appointment topics (what can be booked)",
    "training.CertificationReminder": "reminders to staff",
}

PERSONAL = re.compile(r"(^|_)(e?mail|phone|name|address|recipient|contact)(_|$)")


def relates_to_customer(field) -> bool:
    return (
        field.concrete
        and field.is_relation
        and field.related_model is Customer
        and field.model is not Customer
    )


def looks_personal(field) -> bool:
    return isinstance(field, models.EmailField) or bool(PERSONAL.search(field.name))


def models_needing_a_handler() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if relates_to_customer(field) or (
                getattr(field, "concrete", False) and looks_personal(field)
            ):
                found.setdefault(model._meta.label, []).append(field.name)
    return found


def uncovered() -> list[str]:
    """What the registry misses: models without a decision, or whose handler is gone."""
    problems = []
    for label, fields in sorted(models_needing_a_handler().items()):
        if label in NOT_CUSTOMER_DATA:
            continue
        if label not in COVERAGE:
            problems.append(f"{label} ({', '.join(fields)}) has no entry in COVERAGE")
            continue
        handler = customer_data.handler(COVERAGE[label])
        if handler is None or handler.export is None or handler.erase is None:
            problems.append(f"{label} needs handler {COVERAGE[label]!r} with export and erase")
    return problems


def test_every_model_with_customer_data_has_a_registered_handler():
    assert uncovered() == []


def test_customer_relations_are_never_waved_through():
    """A relation to Customer is always customer data: never in NOT_CUSTOMER_DATA."""
    related = {
        model._meta.label
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if relates_to_customer(field)
    }
    assert related
    assert not related & set(NOT_CUSTOMER_DATA)


@pytest.mark.parametrize("label", sorted(set(filter(None, COVERAGE.values()))))
def test_removing_a_handler_fails_the_registry_check(label):
    removed = customer_data.unregister(label)
    try:
        assert removed is not None
        assert any(repr(label) in problem for problem in uncovered())
    finally:
        customer_data._handlers[label] = removed


def test_a_new_model_holding_an_email_is_noticed(monkeypatch):
    email = models.EmailField()
    email.set_attributes_from_name("subscriber_email")

    class Fake:
        class _meta:
            label = "shop.Newsletter"

            @staticmethod
            def get_fields():
                return [email]

    real = apps.get_models
    monkeypatch.setattr(apps, "get_models", lambda: [*real(), Fake])
    assert any("shop.Newsletter" in problem for problem in uncovered())
