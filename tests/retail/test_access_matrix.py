"""Every URL pattern of the project, for every role, answers as the access rules say.

A URL pattern missing from MATRIX (or from a group rule below) fails the test,
so a new page cannot forget its access check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from retail.models import Product
from tests import factories
from tests.orders import ship_world
from tests.returns import access_world as returns_world
from tests.training import access_world as training_world

ROLES = ("anonymous", "associate", "manager", "kiosk", "hq_no_totp", "hq_totp")

# Expected answers
OK = "ok"  # 200
LOGIN = "login"  # redirect to the login page
DENIED = "denied"  # 403
MFA_SETUP = "mfa_setup"  # redirect to TOTP setup
REDIRECT = "redirect"  # any 302 (to the person's own area)
NOT_ALLOWED = "405"  # method not allowed for GET
NOT_FOUND = "404"  # does not exist (here: /metrics without AISLE_METRICS_TOKEN)


def row(anonymous, associate, manager, kiosk, hq_no_totp, hq_totp):
    return dict(
        zip(ROLES, (anonymous, associate, manager, kiosk, hq_no_totp, hq_totp), strict=True)
    )


# Aisle's own pages: one exact row each.
MATRIX = {
    "retail:home": row(LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    "retail:store_home": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "retail:store_choose": row(LOGIN, OK, OK, DENIED, DENIED, DENIED),
    "retail:customer_search": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "retail:customer_detail": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "retail:hq_overview": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    # The dashboards (issue #18): HQ's at /hq/ with its CSVs; a store manager's, for
    # the store they work in (a manager with two stores chooses one first), and its
    # panel on the store's home; associates never see them.
    "insights_hq:dashboard": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "insights_hq:csv": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "insights_store:dashboard": row(LOGIN, DENIED, REDIRECT, DENIED, DENIED, DENIED),
    "insights_store:panel": row(LOGIN, DENIED, REDIRECT, DENIED, DENIED, DENIED),
    "insights_store:csv": row(LOGIN, DENIED, REDIRECT, DENIED, DENIED, DENIED),
    "kiosk:home": row(LOGIN, DENIED, DENIED, OK, DENIED, DENIED),
    "set_language": row(REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    # The endless aisle on the tablet: store staff in their current store.
    "aisle:search": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "aisle:product": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    # The endless aisle's cart (POST-only steps answer a GET with 405).
    "cart:detail": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "cart:add": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "cart:line": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "cart:for_customer": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "cart:guest": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "cart:delivery": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "cart:place": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "cart:placed": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    # Assisted selling and influenced sales.
    "clienteling:serving": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "clienteling:my_sales": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "clienteling_hq:sales": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    # HQ's audit page, its CSV and its alerts (issue #16).
    "audit_hq:log": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "audit_hq:csv": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "audit_hq:alerts": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    # Training on the tablet: store staff (a manager with two stores chooses one first);
    # POST-only pages answer a GET with 405 (REDIRECT accepts it).
    "training:path": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "training:panel": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "training:gaps": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "training:gaps_csv": row(LOGIN, OK, OK, DENIED, DENIED, DENIED),
    "training:assess": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "training:catalog": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "training:course": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "training:enrol": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "training:module": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "training:quiz_start": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "training:rate": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "training:attempt": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "training:certificates": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "training:certificate": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "training:gate": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "training:team": row(LOGIN, DENIED, REDIRECT, DENIED, DENIED, DENIED),
    "training:team_csv": row(LOGIN, DENIED, REDIRECT, DENIED, DENIED, DENIED),
    "training:member": row(LOGIN, DENIED, REDIRECT, DENIED, DENIED, DENIED),
    "training:member_assess": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "training:member_assign": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "training:member_override": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "training:member_csv": row(LOGIN, DENIED, REDIRECT, DENIED, DENIED, DENIED),
    # Clienteling on the tablet: the customer 360 section's purchases pages and the
    # home's follow-ups panel; POST-only actions answer a GET with 405 (REDIRECT accepts it).
    "clienteling:customer_purchases": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "clienteling:tasks_panel": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "clienteling:note_add": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "clienteling:task_add": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "clienteling:task_done": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "clienteling:outreach_preview": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "clienteling:outreach_send": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "clienteling:tracking_withdraw": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    # Appointments on the tablet (issue #24): store staff in their current store; the
    # actions are POST-only (a GET answers 405); working hours are for managers only.
    "appointments:day": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:day_view": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:panel": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:detail": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:arrive": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:complete": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:no_show": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:cancel": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:reassign": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:set_aside_add": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:set_aside_remove": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:book": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:book_slots": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:hours": row(LOGIN, DENIED, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:hours_edit": row(LOGIN, DENIED, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:exception_add": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "appointments:exception_delete": row(LOGIN, DENIED, REDIRECT, DENIED, DENIED, DENIED),
    # Training at HQ.
    "training_hq:network": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "training_hq:network_csv": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "training_hq:courses": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "training_hq:store": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "training_hq:store_csv": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    # Shipping on the tablet (a parcel leaving the world's store); POST-only steps 405.
    "ship:queue": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "ship:detail": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "ship:slip": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "ship:scan": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "ship:send": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "ship:receive": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "ship:pack": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "ship:ship": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "ship:delivered": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    # Stock counts on the tablet, and their differences at HQ.
    "counts:sheet": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "counts:scan": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "counts:remove": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "counts:clear": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "counts:confirm": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "counts_hq:differences": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "ship_hq:pick_lists": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "ship_hq:discrepancies": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "ship_hq:discrepancies_csv": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "ship_hq:send": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, REDIRECT),
    # Pickups on the tablet (POST-only steps answer a GET with 405), the kiosk's
    # check-in (POST only) and HQ's pickup figures.
    "orders_store:queue": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "orders_store:panel": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "orders_store:find": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "orders_store:detail": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "orders_store:scan": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "orders_store:short": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "orders_store:ready": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "orders_store:handover": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "orders_store:unlock_code": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "orders_store:link_customer": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "kiosk:check_in": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:appointment_check_in": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    # Booking an appointment at the kiosk (POST-only steps answer a GET with 405);
    # without a topic, a chosen time or a booking the steps send the kiosk back.
    "kiosk:book": row(LOGIN, DENIED, DENIED, OK, DENIED, DENIED),
    "kiosk:book_slots": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:book_choose": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:book_who": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:book_send_code": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:book_prove": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:book_confirm": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:book_done": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:aisle": row(LOGIN, DENIED, DENIED, OK, DENIED, DENIED),
    "kiosk:aisle_product": row(LOGIN, DENIED, DENIED, OK, DENIED, DENIED),
    "kiosk:reserve": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:send_code": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:reserved": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    # Returns started at the kiosk (POST-only steps answer a GET with 405); without a
    # proven order the choosing and done pages send the kiosk back to the start.
    "kiosk:return_start": row(LOGIN, DENIED, DENIED, OK, DENIED, DENIED),
    "kiosk:return_send_code": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:return_prove": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:return_lines": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:return_review": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:return_confirm": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "kiosk:return_done": row(LOGIN, DENIED, DENIED, REDIRECT, DENIED, DENIED),
    "orders_hq:pickups": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    # Returns on the tablet (BORIS): store staff in their current store; POST-only
    # steps answer a GET with 405.
    "returns_store:find": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "returns_store:panel": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "returns_store:approvals": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "returns_store:order": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "returns_store:preview": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "returns_store:order_exchange": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "returns_store:order_receipt": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "returns_store:detail": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "returns_store:receive": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "returns_store:approve": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "returns_store:refuse": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "returns_store:cancel": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    "returns_store:receipt": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    # HQ's view of what comes back (issue #17): the figures page and each table's CSV.
    "returns_hq:overview": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "returns_hq:csv": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    # Clearing a customer's return-signal flag: POST only (a GET answers 405).
    "returns_store:signals_clear": row(LOGIN, REDIRECT, REDIRECT, DENIED, DENIED, DENIED),
    # HQ's return-risk list (issue #17).
    "returns_hq:risk": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    # Finance's daily journal (issue #18): HQ's for every store; a store manager's for
    # their current store (one with two stores chooses first), never an associate's.
    "journal_hq:journal": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "journal_hq:csv": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "journal_store:journal": row(LOGIN, DENIED, REDIRECT, DENIED, DENIED, DENIED),
    "journal_store:csv": row(LOGIN, DENIED, REDIRECT, DENIED, DENIED, DENIED),
    # Operations: the health probes are for anyone (load balancers); the metrics need
    # the operators' bearer token, and without one configured do not exist.
    "healthz": row(OK, OK, OK, OK, OK, OK),
    "readyz": row(OK, OK, OK, OK, OK, OK),
    "metrics": row(NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    # Browsers' CSP violation reports (access.PUBLIC_REPORTS): anyone may POST, a kiosk
    # too (tests/retail/test_csp.py); a GET is 405 whoever asks.
    "csp_report": row(NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED),
    # The tablet's offline mode (access.PUBLIC_ASSETS): the service worker and the page it
    # shows without a network name nobody, so the browser fetches them as anyone; a
    # kiosk (which has no offline mode) stays on its own paths.
    "service_worker": row(OK, OK, OK, DENIED, OK, OK),
    "offline": row(OK, OK, OK, DENIED, OK, OK),
    # Customer data rights at HQ (export, erasure, retention); erasure is POST only.
    "hq_customers:search": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "hq_customers:retention": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "hq_customers:detail": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "hq_customers:export": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "hq_customers:erase": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, REDIRECT),
    # The list's CSV for a campaign (#18): without a filter, everyone who agreed to marketing.
    "hq_customers:campaign_csv": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    # Incentives (#18): the associate's own figure (the fragment "My sales" loads); the
    # team (and its CSV) for the store's managers only; the network at HQ.
    "insights_incentives:mine": row(LOGIN, OK, REDIRECT, DENIED, DENIED, DENIED),
    "insights_incentives:team": row(LOGIN, DENIED, REDIRECT, DENIED, DENIED, DENIED),
    "insights_incentives:team_csv": row(LOGIN, DENIED, REDIRECT, DENIED, DENIED, DENIED),
    "insights_incentives_hq:network": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    "insights_incentives_hq:csv": row(LOGIN, DENIED, DENIED, DENIED, MFA_SETUP, OK),
    # Public (access.PUBLIC_PAGES): a marketing e-mail's unsubscribe link; GET changes nothing.
    # A kiosk reaches only /kiosk/, this link included.
    "unsubscribe": row(OK, OK, OK, DENIED, OK, OK),
    # Public too: an appointment e-mail's signed links (see it, rate the visit; cancel
    # and move are POST only, with CSRF). A kiosk stays on /kiosk/.
    "appointment_links:manage": row(OK, OK, OK, DENIED, OK, OK),
    "appointment_links:rate": row(OK, OK, OK, DENIED, OK, OK),
    "appointment_links:cancel": row(
        NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, DENIED, NOT_ALLOWED, NOT_ALLOWED
    ),
    "appointment_links:reschedule": row(
        NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, DENIED, NOT_ALLOWED, NOT_ALLOWED
    ),
    # Uploaded files (retail.media), here a return photo that does not exist: staff of a
    # store or HQ (with the second factor) are let through to a 404; a kiosk sees only
    # the catalogue's pictures; nobody signed out learns whether a file exists.
    "media": row(NOT_FOUND, NOT_FOUND, NOT_FOUND, DENIED, DENIED, NOT_FOUND),
}

# Patterns whose arguments are not a customer's pk: name -> kwargs(world, name).
URL_KWARGS = {name: training_world.url_kwargs for name in MATRIX if name.startswith("training")}
URL_KWARGS["cart:line"] = lambda world, name: {"line_id": 1}
URL_KWARGS["media"] = lambda world, name: {"path": "returns/2026/01/matrix-missing.png"}
URL_KWARGS["kiosk:aisle_product"] = URL_KWARGS["kiosk:reserve"] = URL_KWARGS["kiosk:send_code"] = (
    lambda world, name: {"style_code": Product.objects.order_by("pk").first().style_code}
)
URL_KWARGS["aisle:product"] = lambda world, name: {
    "style_code": Product.objects.order_by("pk").first().style_code
}
URL_KWARGS.update({name: ship_world.url_kwargs for name in MATRIX if name.startswith("ship")})


def unsubscribe_kwargs(world, name: str) -> dict:
    """A valid unsubscribe token for the world's message."""
    from retail import unsubscribe
    from retail.models import OutboundMessage

    return {"token": unsubscribe.token_for(OutboundMessage.objects.order_by("pk").first())}


URL_KWARGS["unsubscribe"] = unsubscribe_kwargs


def appointment_link_kwargs(world, name: str) -> dict:
    """A valid signed link to the world's appointment."""
    from clienteling.appointments import links
    from clienteling.models import Appointment

    purpose = links.Purpose.RATE if name.endswith(":rate") else links.Purpose.MANAGE
    return {"token": links.token_for(Appointment.objects.get(appointment_ref="WEB-A1"), purpose)}


URL_KWARGS.update(
    {name: appointment_link_kwargs for name in MATRIX if name.startswith("appointment_links:")}
)
URL_KWARGS["returns_hq:csv"] = lambda world, name: {"table": "by_store"}
URL_KWARGS["insights_hq:csv"] = URL_KWARGS["insights_store:csv"] = lambda world, name: {
    "table": "revenue"
}


def pickup_kwargs(world, name: str) -> dict:
    """The world's pickup order (W-1 at S01) and its line."""
    from orders.models import Fulfillment

    f = Fulfillment.objects.get(order__order_ref="W-1")
    if name == "orders_store:short":
        return {"pk": f.pk, "line_id": f.lines.first().pk}
    return {"pk": f.pk}


URL_KWARGS.update({name: pickup_kwargs for name in MATRIX if name.startswith("orders_store:")})


def appointment_kwargs(world, name: str) -> dict:
    """The world's appointment (WEB-A1 at S01), its associate and their exception."""
    from clienteling.models import Appointment, WorkingException

    appointment = Appointment.objects.get(appointment_ref="WEB-A1")
    if name in ("appointments:book", "appointments:book_slots"):
        return {"customer_pk": world.customer.pk}
    if name in ("appointments:hours_edit", "appointments:exception_add"):
        return {"user_pk": appointment.associate_id}
    if name == "appointments:exception_delete":
        return {"pk": WorkingException.objects.order_by("pk").first().pk}
    if name == "appointments:set_aside_remove":
        return {"pk": appointment.pk, "row": 1}
    return {"pk": appointment.pk}


URL_KWARGS.update({name: appointment_kwargs for name in MATRIX if name.startswith("appointments:")})
URL_KWARGS.update(
    {name: returns_world.url_kwargs for name in MATRIX if name.startswith("returns_store:")}
)

# Third-party groups: a rule for every pattern of the group.
ADMIN_GROUP = "admin:*"
GROUP_RULES = {
    # Django admin: only HQ with TOTP gets in; everyone else is turned away.
    ADMIN_GROUP: "admin",
    # allauth's account and MFA pages: public login; the rest needs a login.
    "account_*": "allauth",
    "mfa_*": "allauth",
    # The integration API: API clients with a token only; the schema and docs are public.
    "api:*": "api",
}
API_PUBLIC = {"api:schema", "api:docs"}


@dataclass
class World:
    store: object
    other_store: object
    customer: object
    users: dict


def _appointment(store, customer):
    """A topic, an associate's hours and an exception, and a booking (issue #24)."""
    import datetime as dt

    from clienteling.appointments import services as appointments
    from clienteling.models import WorkingException
    from tests.clienteling.factories import TopicFactory, associate_at, offer

    topic = offer(TopicFactory(code="fitting"), store)
    ann = associate_at(store)
    tomorrow = store.local_now().date() + dt.timedelta(days=1)
    WorkingException.objects.create(
        associate=ann,
        kind="leave",
        starts_on=tomorrow,
        ends_on=tomorrow,
        starts=dt.time(16),
        ends=dt.time(17),
    )
    appointments.appointment_book(
        appointment_ref="WEB-A1",
        customer=customer,
        store=store,
        topic=topic,
        start=dt.datetime.combine(tomorrow, dt.time(10), tzinfo=store.tz),
        source="api",
    )


@pytest.fixture
def world(db):
    store = factories.StoreFactory(code="S01")
    other = factories.StoreFactory(code="S02")
    customer = factories.CustomerFactory(preferred_store=store)
    variant = factories.VariantFactory()
    # One of every kind of record, so that admin's object pages are walked too.

    from inventory import services as stock
    from orders.services import LineInput, OrderInput, order_place
    from retail import messaging

    shelf = factories.store_location(store)
    dc = factories.StockLocationFactory(code="DC1")
    factories.give_stock(shelf, variant, 5)
    factories.give_stock(dc, variant, 5)
    stock.transfer_create(from_location=dc, to_location=shelf, lines={variant: 1}, by=None)
    order_place(
        OrderInput(
            order_ref="W-1",
            channel="web",
            customer=customer,
            lines=[LineInput(variant, 1, variant.price)],
            method="pickup",
            store=store,
            tender="card",
            amount=variant.price,
        )
    )
    messaging.message_send(customer=customer, template="customer_welcome", context={}, key="w")
    factories.api_client("customers:read")
    factories.ProductTranslationFactory(product=variant.product)
    factories.CategoryTranslationFactory(category=variant.product.category)
    factories.AttributeTranslationFactory()
    _appointment(store, customer)

    users = {
        "associate": factories.StaffFactory(role="associate", home_store=store),
        # A manager working in two stores must choose one first.
        "manager": factories.StaffFactory(
            role="store_manager", home_store=store, other_stores=[other]
        ),
        "kiosk": factories.StaffFactory(role="kiosk", home_store=store),
        "hq_no_totp": factories.StaffFactory(role="hq_admin"),
        "hq_totp": factories.StaffFactory(role="hq_admin"),
    }
    return World(store, other, customer, users)


def all_patterns(resolver=None, prefix="", namespace=""):
    """(name, route regex) for every pattern, walking includes."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from all_patterns(entry, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern):
            name = entry.name
            if name and namespace:
                name = f"{namespace}:{name}"
            yield name, prefix + str(entry.pattern), entry


def rule_for(name: str | None, route: str = ""):
    if name is None and route.startswith("admin/"):
        return "admin"  # admin's unnamed redirects and its catch-all view
    if name in MATRIX:
        return MATRIX[name]
    if name:
        for pattern, rule in GROUP_RULES.items():
            if re.fullmatch(pattern.replace("*", ".*"), name):
                return rule
    return None


def test_every_url_pattern_is_in_the_matrix():
    missing = [(name, route) for name, route, _ in all_patterns() if rule_for(name, route) is None]
    assert missing == [], f"URL patterns without an access rule: {missing}"


def concrete_url(name: str, route: str, world: World, entry: URLPattern) -> str | None:
    """A real URL for the pattern, with real objects for its arguments."""
    if entry.pattern.converters and name in URL_KWARGS:
        return reverse(name, kwargs=URL_KWARGS[name](world, name))
    kwargs = {}
    for key in entry.pattern.converters:
        if key == "pk":
            kwargs[key] = world.customer.pk
        elif key == "object_id":
            return None  # admin object pages are covered by the admin walk below
        else:
            return None
    try:
        return reverse(name, kwargs=kwargs)
    except Exception:
        return None


def client_for(role: str, world: World, client):
    if role == "anonymous":
        return client
    user = world.users[role]
    if role == "hq_totp":
        factories.login_with_totp(client, user)
    else:
        client.force_login(user)
    return client


def check(response, expected: str, role: str) -> None:
    status = response.status_code
    location = response.get("Location", "")
    if expected == OK:
        assert status == 200, (status, location)
    elif expected == LOGIN:
        assert status == 302 and "/accounts/login/" in location, (status, location)
    elif expected == DENIED:
        assert status == 403, (status, location)
    elif expected == NOT_FOUND:
        assert status == 404, (status, location)
    elif expected == NOT_ALLOWED:
        assert status == 405, (status, location)
    elif expected == MFA_SETUP:
        assert status == 302 and reverse("mfa_activate_totp") in location, (status, location)
    elif expected == REDIRECT:
        assert (status in (302, 405) and "/accounts/login/" not in location) or role == "anonymous"
    else:
        raise AssertionError(expected)


@pytest.mark.parametrize("role", ROLES)
def test_own_pages_answer_each_role_as_the_matrix_says(role, world, client):
    c = client_for(role, world, client)
    walked = 0
    for name, route, entry in all_patterns():
        if name not in MATRIX:
            continue
        url = concrete_url(name, route, world, entry)
        assert url, name
        response = c.get(url)
        expected = MATRIX[name][role]
        try:
            check(response, expected, role)
        except AssertionError as exc:
            raise AssertionError(f"{role} GET {url} ({name}): expected {expected}, {exc}") from exc
        walked += 1
    assert walked == len(MATRIX)


def admin_urls(world: World):
    """Every admin pattern, with a real object for object pages."""
    from django.contrib import admin

    objects = {}
    for model in admin.site._registry:
        obj = model._default_manager.order_by("pk").first()
        objects[(model._meta.app_label, model._meta.model_name)] = obj
    urls = []
    for name, route, entry in all_patterns():
        if name is None and route.startswith("admin/"):
            if route.endswith("<path:object_id>/"):
                model_route = route.removesuffix("<path:object_id>/")
                app_label, model_name = model_route.strip("/").split("/")[-2:]
                obj = objects.get((app_label, model_name))
                if obj is not None:
                    urls.append((f"admin {model_route}", f"/{model_route}{obj.pk}/"))
            else:
                urls.append(("admin catch-all", "/admin/no-such-page/"))
            continue
        if not (name or "").startswith("admin:"):
            continue
        kwargs = {}
        m = re.match(r"admin:(\w+?)_(\w+)_(\w+)$", name)
        if name == "admin:app_list":
            kwargs = {"app_label": "retail"}
        elif "object_id" in entry.pattern.converters:
            model_key = None
            if m:
                for app_label, model_name in objects:
                    if name.startswith(f"admin:{app_label}_{model_name}_"):
                        model_key = (app_label, model_name)
            obj = objects.get(model_key)
            if obj is None:
                continue
            kwargs["object_id"] = obj.pk
        elif entry.pattern.converters:
            continue  # view_on_site: a redirect helper with content type ids
        urls.append((name, reverse(name, kwargs=kwargs)))
    return urls


@pytest.mark.parametrize("role", ROLES)
def test_admin_is_for_hq_admins_with_totp_only(role, world, client):
    c = client_for(role, world, client)
    urls = admin_urls(world)
    assert len(urls) > 20
    for name, url in urls:
        if name in ("admin:logout", "admin:login", "admin:jsi18n"):
            continue
        response = c.get(url)
        status, location = response.status_code, response.get("Location", "")
        label = f"{role} GET {url} ({name}): {status} {location}"
        if role == "hq_totp":
            assert status < 500 and "/accounts/" not in location, label
            assert status in (200, 302, 403, 404), label
        elif role == "anonymous":
            assert status == 302 and "login" in location, label
        elif role == "hq_no_totp":
            assert status == 302 and reverse("mfa_activate_totp") in location, label
        else:
            # Logged-in staff are sent to the admin login, which refuses them.
            assert status in (302, 403), label
            if status == 302:
                assert c.get(location).status_code == 403, label


@pytest.mark.parametrize("role", ROLES)
def test_allauth_pages_never_fail_and_need_login_where_private(role, world, client):
    c = client_for(role, world, client)
    for name, _route, entry in all_patterns():
        if rule_for(name) != "allauth" or entry.pattern.regex.groups:
            continue
        response = c.get(reverse(name))
        assert response.status_code < 500, (role, name, response.status_code)
        if role == "kiosk":  # a kiosk reaches no account page (#16)
            assert response.status_code == 403, (name, response.status_code)
        if role == "anonymous" and name.startswith("mfa_"):
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ROLES)
def test_api_answers_staff_sessions_and_anonymous_without_a_token_with_401_json(
    role, world, client
):
    c = client_for(role, world, client)
    walked = 0
    for name, route, entry in all_patterns():
        if rule_for(name, route) != "api":
            continue
        kwargs = dict.fromkeys(entry.pattern.converters, "WEB-1")
        url = "/api/v1/anything/" if name == "api:not_found" else reverse(name, kwargs=kwargs)
        response = c.get(url)
        walked += 1
        if name in API_PUBLIC:
            assert response.status_code == 200, (role, name)
        elif name == "api:not_found":
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"
        else:
            assert response.status_code == 401, (role, name, response.status_code)
            assert response.json()["code"] == "not_authenticated"
    assert walked >= 4


def test_the_public_pages_answer_anonymous_callers():
    from retail import access

    appointment_links = {
        "appointment_links:manage",
        "appointment_links:cancel",
        "appointment_links:reschedule",
        "appointment_links:rate",
    }
    assert {"unsubscribe"} | appointment_links == access.PUBLIC_PAGES
    # Every public page answers anonymous callers (a POST-only one a GET with 405).
    assert all(MATRIX[name]["anonymous"] in (OK, NOT_ALLOWED) for name in access.PUBLIC_PAGES)
    anonymous_ok = {n for n, r in MATRIX.items() if r["anonymous"] in (OK, NOT_ALLOWED)}
    anonymous_ok -= {"csp_report"}  # POST only, for any caller (access.PUBLIC_REPORTS)
    assert anonymous_ok == access.PUBLIC_PROBES | access.PUBLIC_PAGES | access.PUBLIC_ASSETS
    assert all(MATRIX[name]["anonymous"] == OK for name in access.PUBLIC_ASSETS)


def test_the_health_probes_are_the_only_anonymous_operations_urls():
    from retail import access

    assert {"healthz", "readyz"} == access.PUBLIC_PROBES
    assert all(MATRIX[name]["anonymous"] == OK for name in access.PUBLIC_PROBES)


@pytest.mark.parametrize("role", ROLES)
def test_metrics_need_the_bearer_token_whoever_is_signed_in(role, world, client, settings):
    settings.AISLE_METRICS_TOKEN = "operators-token"
    c = client_for(role, world, client)
    assert c.get(reverse("metrics")).status_code == 401
    answer = c.get(reverse("metrics"), HTTP_AUTHORIZATION="Bearer operators-token")
    assert answer.status_code == 200
