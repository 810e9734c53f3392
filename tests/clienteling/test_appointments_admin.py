"""HQ admin for appointments: topics, working hours and exceptions edited there;
appointments read-only with their history; nobody but HQ (with TOTP) gets in."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from clienteling.appointments import services
from clienteling.models import (
    Appointment,
    Topic,
    TopicOffering,
    WorkingException,
    WorkingHours,
)
from tests import factories
from tests.clienteling.factories import TopicFactory, associate_at, offer

MODELS = [Topic, WorkingHours, WorkingException, Appointment]


@pytest.fixture
def booked(store):
    topic = offer(TopicFactory(code="fitting", name="Fitting"), store)
    ann = associate_at(store)
    WorkingException.objects.create(
        associate=ann, kind="training", starts_on=dt.date(2030, 1, 7), ends_on=dt.date(2030, 1, 7)
    )
    tomorrow = store.local_now().date() + dt.timedelta(days=1)
    appointment, _ = services.appointment_book(
        appointment_ref="WEB-A1",
        customer=factories.CustomerFactory(),
        store=store,
        topic=topic,
        start=dt.datetime.combine(tomorrow, dt.time(10), tzinfo=store.tz),
        source="api",
    )
    services.appointment_cancel(appointment=appointment, by=None, reason="changed plans")
    return appointment


def url(model, view, *args):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def test_every_appointment_admin_page_opens_for_hq(booked, hq_client):
    for model in MODELS:
        assert hq_client.get(url(model, "changelist")).status_code == 200, model
        obj = model.objects.order_by("pk").first()
        assert hq_client.get(url(model, "change", obj.pk)).status_code == 200, model
    filtered = url(Topic, "changelist") + "?active__exact=1&set_aside__exact=1&q=fit"
    response = hq_client.get(filtered)
    assert response.status_code == 200
    assert "Fitting" in response.content.decode()


def test_an_appointment_shows_its_history_and_cannot_be_changed(booked, hq_client):
    page = hq_client.get(url(Appointment, "change", booked.pk)).content.decode()

    assert "appointment_booked" in page
    assert "appointment_cancelled" in page
    assert "changed plans" in page
    assert hq_client.get(url(Appointment, "add")).status_code == 403
    response = hq_client.post(url(Appointment, "delete", booked.pk), {"post": "yes"})
    assert response.status_code == 403
    assert Appointment.objects.filter(pk=booked.pk, state="cancelled").exists()


def test_hq_offers_a_topic_in_a_store_from_admin(store, hq_client):
    response = hq_client.post(
        url(Topic, "add"),
        {
            "code": "styling",
            "name": "Styling session",
            "name_zh": "造型咨询",
            "minutes": "90",
            "buffer_minutes": "15",
            "level": "2",
            "active": "on",
            "offerings-TOTAL_FORMS": "1",
            "offerings-INITIAL_FORMS": "0",
            "offerings-0-store": str(store.pk),
            "offerings-0-active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    topic = Topic.objects.get(code="styling")
    assert TopicOffering.objects.filter(topic=topic, store=store, active=True).exists()


def test_store_staff_never_reach_appointment_admin(booked, associate, manager):
    for user in (associate, manager):
        client = Client()
        client.force_login(user)
        for model in MODELS:
            response = client.get(url(model, "changelist"))
            assert response.status_code in (302, 403), (user, model)
