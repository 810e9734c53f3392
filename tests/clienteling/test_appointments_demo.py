"""The demo's appointments (`clienteling.appointments.demo`): topics offered and hours
in every store, past appointments completed or missed and future ones booked, Mei's
fitting with items set aside through the ledger; a second run adds nothing."""

import io

import pytest
from django.utils import timezone

from clienteling.appointments import demo
from clienteling.models import Appointment, SetAside, TopicOffering, WorkingHours
from retail.demo import DEMO_CUSTOMER, DemoContext
from tests import factories


@pytest.fixture
def world(store, other_store):
    for s in (store, other_store):
        factories.StaffFactory(role="associate", home_store=s)
        factories.StaffFactory(role="store_manager", home_store=s)
    factories.CustomerFactory.create_batch(5)
    mei = factories.CustomerFactory(**DEMO_CUSTOMER)
    shelf = factories.store_location(store)
    for _ in range(2):
        factories.give_stock(shelf, factories.VariantFactory(size="S"), 5)
    return mei


def test_every_store_gets_topics_hours_and_appointments_past_and_future(
    world, store, other_store, assert_ledger_reconciles
):
    ctx = DemoContext(scale="small", stdout=io.StringIO())

    demo.seed(ctx)
    counts = (
        Appointment.objects.count(),
        WorkingHours.objects.count(),
        TopicOffering.objects.count(),
    )
    demo.seed(ctx)

    assert (
        Appointment.objects.count(),
        WorkingHours.objects.count(),
        TopicOffering.objects.count(),
    ) == counts
    now = timezone.now()
    for s in (store, other_store):
        mine = Appointment.objects.filter(store=s)
        assert mine.filter(state="completed", end__lte=now).exists()
        assert mine.filter(state="booked", start__gt=now).exists()
        assert not mine.filter(state="booked", end__lte=now).exists()
    assert Appointment.objects.filter(state="no_show").exists()
    assert WorkingHours.objects.count() == 4 * 6
    fitting = Appointment.objects.get(appointment_ref="DEMO-MEI-FITTING")
    assert fitting.customer == world
    assert SetAside.objects.filter(appointment=fitting, state="held").count() == 2
    assert_ledger_reconciles()
