"""The appointments API (`/api/v1/appointments/…`): the design's rows, exactly; the
webhooks of appointment changes; and the customer's data rights (merge, export, a
booked appointment blocking erasure)."""

import datetime as dt
import json
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connections
from django.test import Client

from clienteling.models import Appointment
from inventory.models import StockLevel
from retail import services as retail_services
from retail.models import WebhookDelivery
from tests import factories
from tests.clienteling.factories import TopicFactory, associate_at, offer
from tests.retail.api.schema import assert_matches_schema

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2030, 3, 4)
NOW = dt.datetime(2030, 3, 4, 7, 0, tzinfo=PARIS)
URL = "/api/v1/appointments/"


def at(hour, minute=0, day=MONDAY):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


class Api:
    def __init__(self, key):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Token {key}"}

    def get(self, url, **params):
        return self.client.get(url, params, **self.headers)

    def post(self, url, body=None):
        data = json.dumps(body) if body is not None else ""
        return self.client.post(url, data, content_type="application/json", **self.headers)

    def delete(self, url):
        return self.client.delete(url, **self.headers)


@pytest.fixture
def api(db):
    _client, key = factories.api_client(
        "appointments:read", "appointments:write", "customers:read", "customers:write"
    )
    return Api(key)


@pytest.fixture
def topic(store):
    return offer(TopicFactory(code="fitting", name="Fitting", minutes=60), store)


@pytest.fixture
def customer(db):
    return factories.CustomerFactory(customer_ref="WEB-C1")


@pytest.fixture
def ann(store):
    return associate_at(store, starts=(9, 0), ends=(12, 0), first_name="Ann", last_name="Lee")


def body(**changes):
    data = {
        "appointment_ref": "WEB-A1",
        "customer_ref": "WEB-C1",
        "store": "S01",
        "topic": "fitting",
        "start": at(10).isoformat(),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture(autouse=True)
def _monday_morning():
    with time_machine.travel(NOW, tick=False):
        yield


# --- Topics and slots ---------------------------------------------------------------------


def test_topics_lists_what_the_store_offers(api, store, other_store, topic):
    offer(TopicFactory(code="styling", name="Styling", minutes=90), other_store)
    TopicFactory(code="retired", active=False)

    response = api.get(f"{URL}topics/", store="S01")

    assert response.status_code == 200
    assert response.json() == {
        "store": "S01",
        "topics": [{"code": "fitting", "name": "Fitting", "minutes": 60}],
    }
    assert_matches_schema(response, "GET", f"{URL}topics/")


def test_topics_of_an_unknown_store_is_a_validation_error(api, db):
    response = api.get(f"{URL}topics/", store="NOPE")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "store" in response.json()["errors"]


def test_slots_are_listed_in_the_store_s_time_zone_with_their_capacity(api, store, topic, ann):
    associate_at(store, starts=(11, 0), ends=(12, 0))

    response = api.get(f"{URL}slots/", store="S01", topic="fitting", **{"from": "2030-03-04"})

    assert response.status_code == 200
    assert_matches_schema(response, "GET", f"{URL}slots/")
    data = response.json()
    assert (data["store"], data["topic"]) == ("S01", "fitting")
    monday = [s for s in data["slots"] if s["start"].startswith("2030-03-04")]
    assert monday == [
        {"start": "2030-03-04T09:00:00+01:00", "end": "2030-03-04T10:00:00+01:00", "available": 1},
        {"start": "2030-03-04T10:00:00+01:00", "end": "2030-03-04T11:00:00+01:00", "available": 1},
        {"start": "2030-03-04T11:00:00+01:00", "end": "2030-03-04T12:00:00+01:00", "available": 2},
    ]
    assert {s["start"][:10] for s in data["slots"]} == {
        str(MONDAY + dt.timedelta(days=n)) for n in range(7)
    }


@pytest.mark.parametrize(
    "params",
    [
        {"store": "S01", "topic": "nope"},
        {"store": "NOPE", "topic": "fitting"},
        {"store": "S01", "topic": "fitting", "days": "0"},
        {"store": "S01", "topic": "fitting", "days": "32"},
        {"store": "S01", "topic": "fitting", "from": "4. März"},
        {"store": "S01", "topic": "fitting", "from": "9999-12-31"},
        {"store": "S01"},
    ],
)
def test_bad_slot_queries_are_validation_errors(api, store, topic, params):
    response = api.get(f"{URL}slots/", **params)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert_matches_schema(response, "GET", f"{URL}slots/")


def test_the_slots_of_a_week_take_a_fixed_number_of_queries(
    api, store, topic, django_assert_max_num_queries
):
    associate_at(store)
    with django_assert_max_num_queries(14) as small:
        api.get(f"{URL}slots/", store="S01", topic="fitting")
    for _ in range(8):
        associate_at(store, pause=((12, 0), (13, 0)))
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = api.get(f"{URL}slots/", store="S01", topic="fitting", days="31")
    assert response.status_code == 200


def test_slots_need_the_read_scope(store, topic):
    _client, key = factories.api_client("orders:read")

    response = Api(key).get(f"{URL}slots/", store="S01", topic="fitting")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


# --- Booking ----------------------------------------------------------------------------


def test_booking_answers_201_with_the_appointment(api, store, topic, customer, ann):
    response = api.post(URL, body(note="Wedding suit"))

    assert response.status_code == 201
    data = response.json()
    assert data == {
        "appointment_ref": "WEB-A1",
        "state": "booked",
        "store": "S01",
        "topic": "fitting",
        "start": "2030-03-04T10:00:00+01:00",
        "end": "2030-03-04T11:00:00+01:00",
        "associate": "Ann",
        "code": Appointment.objects.get().code,
        "customer_ref": "WEB-C1",
        "skus": [],
        "set_asides": [],
        "note": "Wedding suit",
        "created_at": data["created_at"],
    }
    assert_matches_schema(response, "POST", URL)
    read = api.get(f"{URL}WEB-A1/")
    assert read.json() == data
    assert_matches_schema(read, "GET", URL + "{appointment_ref}/")


def test_the_same_body_again_is_200_and_another_body_409(api, store, topic, customer, ann):
    first = api.post(URL, body())

    again = api.post(URL, body())
    other = api.post(URL, body(start=at(11).isoformat()))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert other.status_code == 409
    assert other.json()["code"] == "appointment_ref_conflict"
    for response in (again, other):
        assert_matches_schema(response, "POST", URL)
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        (at(6), "in_the_past"),
        (at(10, 30), "not_a_slot_start"),
        (at(21), "outside_opening_hours"),
    ],
)
def test_a_start_that_is_not_a_free_listed_slot_is_409(
    api, store, topic, customer, ann, start, reason
):
    response = api.post(URL, body(start=start.isoformat()))

    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"
    assert response.json()["reason"] == reason
    assert_matches_schema(response, "POST", URL)
    assert not Appointment.objects.exists()


def test_a_slot_taken_meanwhile_is_409(api, store, topic, customer, ann):
    assert api.post(URL, body(appointment_ref="WEB-A0")).status_code == 201

    response = api.post(URL, body())

    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"


def test_an_unknown_customer_is_a_validation_error(api, store, topic, ann):
    response = api.post(URL, body(customer_ref="WEB-NOBODY"))

    assert response.status_code == 400
    assert response.json()["errors"].keys() == {"customer_ref"}
    assert not Appointment.objects.exists()


def test_skus_are_set_aside_or_nothing_is_booked(api, store, topic, customer, ann):
    shelf = factories.store_location(store)
    jumper = factories.VariantFactory(sku="JUMPER-M")
    factories.VariantFactory(sku="SCARF")
    factories.give_stock(shelf, jumper, 2)

    short = api.post(URL, body(skus=["JUMPER-M", "SCARF"]))
    unknown = api.post(URL, body(skus=["GHOST"]))
    booked = api.post(URL, body(skus=["JUMPER-M", "JUMPER-M"]))

    assert short.status_code == 409
    assert (short.json()["code"], short.json()["skus"]) == ("insufficient_stock", ["SCARF"])
    assert unknown.status_code == 400
    assert booked.status_code == 201
    assert booked.json()["skus"] == ["JUMPER-M", "JUMPER-M"]
    assert booked.json()["set_asides"] == [{"sku": "JUMPER-M", "quantity": 2, "state": "held"}]
    assert StockLevel.objects.get(location=shelf, variant=jumper).reserved == 2
    assert Appointment.objects.count() == 1


def test_booking_needs_the_write_scope(store, topic, customer, ann):
    _client, key = factories.api_client("appointments:read")

    response = Api(key).post(URL, body())

    assert response.status_code == 403


# --- Reading and cancelling ---------------------------------------------------------------


def test_an_unknown_appointment_is_404(api, db):
    assert api.get(f"{URL}WEB-NOPE/").status_code == 404
    assert api.post(f"{URL}WEB-NOPE/cancel/").json()["code"] == "not_found"


def test_cancel_frees_the_slot_and_what_was_set_aside(
    api, store, topic, customer, ann, assert_ledger_reconciles
):
    shelf = factories.store_location(store)
    jumper = factories.VariantFactory(sku="JUMPER-M")
    factories.give_stock(shelf, jumper, 1)
    api.post(URL, body(skus=["JUMPER-M"]))

    response = api.post(f"{URL}WEB-A1/cancel/")
    again = api.post(f"{URL}WEB-A1/cancel/")

    assert response.status_code == 200
    assert_matches_schema(response, "POST", URL + "{appointment_ref}/cancel/")
    assert response.json()["state"] == "cancelled"
    assert response.json()["set_asides"][0]["state"] == "released"
    assert again.status_code == 200
    assert StockLevel.objects.get(location=shelf, variant=jumper).reserved == 0
    assert api.post(URL, body(appointment_ref="WEB-A2")).status_code == 201
    assert_ledger_reconciles()


def test_cancel_after_the_start_is_409(api, store, topic, customer, ann):
    api.post(URL, body())

    with time_machine.travel(at(10, 1), tick=False):
        response = api.post(f"{URL}WEB-A1/cancel/")

    assert response.status_code == 409
    assert response.json()["code"] == "not_cancellable"
    assert_matches_schema(response, "POST", URL + "{appointment_ref}/cancel/")


# --- Webhooks -----------------------------------------------------------------------------


def test_appointment_changes_go_to_clients_that_read_appointments(api, store, topic, customer, ann):
    from retail.api_clients import api_client_create

    listener, _ = api_client_create(
        name="site", scopes=["appointments:read"], webhook_url="https://shop.example/hooks"
    )
    api_client_create(name="oms", scopes=["orders:read"], webhook_url="https://oms.example/hooks")

    api.post(URL, body())
    api.post(f"{URL}WEB-A1/cancel/")

    deliveries = WebhookDelivery.objects.order_by("pk")
    assert {d.client_id for d in deliveries} == {listener.pk}
    assert [d.event for d in deliveries] == ["appointment_booked", "appointment_cancelled"]
    first, second = (json.loads(d.body) for d in deliveries)
    assert first.keys() == {"event", "appointment_ref", "at", "appointment"}
    assert (first["appointment_ref"], first["appointment"]["state"]) == ("WEB-A1", "booked")
    assert second["appointment"]["state"] == "cancelled"
    assert {d.subject_type for d in deliveries} == {"appointment"}


# --- Customer data rights -----------------------------------------------------------------


def test_a_booked_appointment_blocks_erasure_until_cancelled(api, store, topic, customer, ann):
    api.post(URL, body(note="Bring the blue suit"))

    blocked = api.delete("/api/v1/customers/WEB-C1/")

    assert blocked.status_code == 409
    assert blocked.json()["code"] == "erasure_blocked"
    assert blocked.json()["appointments"] == ["WEB-A1"]
    api.post(f"{URL}WEB-A1/cancel/")
    assert api.delete("/api/v1/customers/WEB-C1/").status_code == 204
    kept = Appointment.objects.get()
    assert (kept.customer, kept.note) == (None, "")


def test_the_export_holds_the_customer_s_appointments(api, store, topic, customer, ann):
    api.post(URL, body())

    document = api.get("/api/v1/customers/WEB-C1/export/").json()

    section = document["sections"]["clienteling.appointments"]
    assert [a["appointment_ref"] for a in section] == ["WEB-A1"]


def test_a_merge_moves_appointments_to_the_survivor(api, store, topic, customer, ann):
    api.post(URL, body())
    survivor = factories.CustomerFactory(customer_ref="WEB-C2")

    retail_services.customer_merge(survivor=survivor, duplicate=customer, by=None)

    assert Appointment.objects.get().customer == survivor


# --- Concurrency (PostgreSQL) -------------------------------------------------------------

THREADS = 20


def race(key, bodies):
    """POST each body from its own thread at once; (status, code) of each answer."""
    statuses, errors = [], []
    barrier = threading.Barrier(len(bodies))

    def worker(data):
        try:
            barrier.wait()
            response = Api(key).post(URL, data)
            code = response.json().get("code", "") if response.status_code >= 400 else ""
            statuses.append((response.status_code, code))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(data,)) for data in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    return statuses


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_booking_sent_many_times_at_once_books_once():
    store = factories.StoreFactory(code="S01")
    offer(TopicFactory(code="fitting", minutes=60), store)
    associate_at(store, starts=(10, 0), ends=(12, 0))
    factories.CustomerFactory(customer_ref="WEB-C1")
    _client, key = factories.api_client("appointments:write", rate="100000/s")

    statuses = race(key, [body()] * THREADS)

    assert sorted(statuses) == [(200, "")] * (THREADS - 1) + [(201, "")]
    assert Appointment.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_for_the_last_slot_exactly_one_books_it():
    store = factories.StoreFactory(code="S01")
    offer(TopicFactory(code="fitting", minutes=60), store)
    associate_at(store, starts=(10, 0), ends=(11, 0))  # one associate, one slot
    for i in range(THREADS):
        factories.CustomerFactory(customer_ref=f"WEB-C{i}")
    _client, key = factories.api_client("appointments:write", rate="100000/s")

    statuses = race(
        key,
        [body(appointment_ref=f"WEB-A{i}", customer_ref=f"WEB-C{i}") for i in range(THREADS)],
    )

    assert statuses.count((201, "")) == 1
    assert statuses.count((409, "slot_unavailable")) == THREADS - 1
    assert Appointment.objects.count() == 1
