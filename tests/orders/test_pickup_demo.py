"""The demo network has pickups waiting in the first stores' queues, in every state."""

import io

import pytest
from django.core.management import call_command

from orders import pickup
from retail.models import Store

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_demo_pickups_fill_the_first_stores_queue_and_the_ledger_holds(assert_ledger_reconciles):
    out = io.StringIO()
    call_command("seed_demo", force=True, stdout=out)
    assert "5 demo pickups placed" in out.getvalue() or "10 demo pickups placed" in out.getvalue()
    store = Store.objects.order_by("code").first()
    counts = pickup.queue_counts(store)
    assert (counts["new"], counts["picking"], counts["ready"], counts["waiting"]) == (2, 1, 1, 1)
    assert_ledger_reconciles()
