"""A schema fuzzer (schemathesis) over `/api/v1/schema/`: every operation, data that
fits the schema and data that does not, through the app in-process (no network).

No request may answer a 5xx, and every answer must be one the schema documents
(status code, content type, body). Deterministic (a fixed seed, derandomized
Hypothesis, no example database). 75 examples per operation (about 1,200 requests,
~30 s here) is the CI setting: with this seed it finds the availability 500 of
issue 14 when the fix is reverted, which 12 to 50 did not. `AISLE_FUZZ_EXAMPLES=200`
runs a larger search locally; `AISLE_FUZZ_REPORT=1` prints requests by status.
"""

from __future__ import annotations

import os
from collections import Counter
from decimal import Decimal

import pytest
import schemathesis
from django.test import override_settings
from django.test.client import ClientHandler
from hypothesis import HealthCheck, settings

from retail.models import Scope
from tests import factories

EXAMPLES = int(os.environ.get("AISLE_FUZZ_EXAMPLES", "75"))

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]


class InProcessApp:
    """Django's test handler as a WSGI application: requests run in this thread and
    share the test's database transaction (a plain WSGIHandler would close it)."""

    def __init__(self):
        self.handler = ClientHandler(enforce_csrf_checks=True)

    def __call__(self, environ, start_response):
        response = self.handler(environ)
        headers = [(name, value) for name, value in response.items()]
        headers += [("Set-Cookie", c.output(header="").strip()) for c in response.cookies.values()]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return response


def load_schema():
    config = schemathesis.config.SchemathesisConfig.from_dict(
        {
            "seed": 14,
            "generation": {
                "max-examples": EXAMPLES,
                "deterministic": True,
                "database": "none",
                "mode": "all",
            },
            "phases": {"stateful": {"enabled": False}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    )
    # This first request imports the URLconf, at collection time: with DEBUG off, as
    # pytest-django runs the tests (retail/urls.py adds media URLs only with DEBUG).
    with override_settings(DEBUG=False):
        return schemathesis.openapi.from_wsgi("/api/v1/schema/", InProcessApp(), config=config)


@pytest.fixture
def token(store):
    """A key with every scope, and the rows the schema's examples name (so the
    examples reach the paths that place, read and cancel an order)."""
    factories.store_location(store)
    jumper = factories.VariantFactory(sku="JUMPER-M", price=Decimal("59.90"))
    factories.give_stock(store.stock_location, jumper, 1000)
    factories.CustomerFactory(customer_ref="WEB-C1")
    _client, key = factories.api_client(*Scope.values, rate="1000000/s")
    return f"Token {key}"


# Loaded from the app at collection: the schema view reads no database.
schema = load_schema()
statuses: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def _figures():
    """With AISLE_FUZZ_REPORT set, prints requests by operation and status."""
    yield
    if os.environ.get("AISLE_FUZZ_REPORT"):
        by_operation: dict[str, Counter] = {}
        for (label, status), n in sorted(statuses.items()):
            by_operation.setdefault(label, Counter())[status] = n
        for label, counts in by_operation.items():
            print(f"{label}: {sum(counts.values())} requests {dict(counts)}")
        print(f"total: {sum(statuses.values())} requests")


@schema.parametrize()
@settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_its_schema_under_fuzzing(case, token):
    response = case.call_and_validate(headers={"Authorization": token})
    statuses[(case.operation.label, response.status_code)] += 1
