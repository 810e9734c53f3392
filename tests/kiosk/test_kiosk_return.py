"""Issue 17, "Returns started at the kiosk": the customer proves the order with a
one-time code e-mailed to the order's address, picks what goes back, gets a return
code and QR; the associate finishes it at the counter by scanning the code. Every
refusal is worded for the customer and writes nothing; a kiosk return not finished
within the day is cancelled by a beat task that frees its claim."""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from orders.models import OrderLine, Refund
from retail.models import OutboundMessage, User
from retail.sessions import LAST_SEEN_KEY
from returns import services, tasks
from returns.models import Return, ReturnEvent, ReturnState, StartedVia
from tests import factories
from tests.returns import world

pytestmark = pytest.mark.django_db

EMAIL = "ada@example.com"


@pytest.fixture
def net(db):
    return world.network()


@pytest.fixture
def ada(db):
    return factories.CustomerFactory(name="Ada Lovelace", email=EMAIL, phone="+447700900123")


@pytest.fixture
def order(net, ada):
    """A delivered web order: two jumpers (60.00 each) and a scarf (20.00)."""
    return world.delivered([(net["jumper"], 2), (net["scarf"], 1)], ref="WEB-1", customer=ada)


@pytest.fixture
def kiosk(net):
    client = Client()
    client.force_login(factories.StaffFactory(role="kiosk", home_store=net["s1"]))
    return client


def line(order, sku) -> OrderLine:
    return OrderLine.objects.get(order=order, sku=sku)


def send(kiosk, ref="WEB-1", email=EMAIL):
    return kiosk.post(reverse("kiosk:return_send_code"), {"ref": ref, "email": email})


def prove(kiosk, code, ref="WEB-1", email=EMAIL):
    return kiosk.post(reverse("kiosk:return_prove"), {"ref": ref, "email": email, "code": code})


def last_code() -> str:
    message = OutboundMessage.objects.filter(template="kiosk_return_code").latest("pk")
    return message.context["code"]


def proven(kiosk, **kw):
    assert send(kiosk, **kw).status_code == 200
    response = prove(kiosk, last_code(), **kw)
    assert response.status_code == 302 and response.url == reverse("kiosk:return_lines")
    return response


def picks(order, **units):
    """POST data: {sku: (units, reason)} as the lines page sends it."""
    data = {}
    for sku, (n, reason) in units.items():
        pk = line(order, sku.replace("_", "-")).pk
        data[f"qty_{pk}"], data[f"reason_{pk}"] = str(n), reason
    return data


def nonce(kiosk, order, **units) -> str:
    page = kiosk.post(reverse("kiosk:return_review"), picks(order, **units))
    assert page.status_code == 200, page.content.decode()
    return re.search(r'name="nonce" value="([0-9a-f]{32})"', page.content.decode())[1]


def confirm(kiosk, order, nonce_value, **units):
    data = {"nonce": nonce_value, **picks(order, **units)}
    return kiosk.post(reverse("kiosk:return_confirm"), data)


def message(response) -> str:
    return re.search(r'id="kiosk-message">([^<]*)<', response.content.decode())[1]


def nothing_written(order):
    assert not Return.objects.exists()
    assert not ReturnEvent.objects.exists()
    assert all(x.claimed_quantity == 0 for x in OrderLine.objects.filter(order=order))


# --- The flow -----------------------------------------------------------------------


def test_the_customer_starts_a_return_with_the_e_mailed_code(kiosk, order, net, ada):
    sent = send(kiosk)
    assert sent.status_code == 200
    mail = OutboundMessage.objects.get(template="kiosk_return_code")
    assert (mail.customer, mail.to_address) == (ada, EMAIL)
    assert mail.context["order_ref"] == "WEB-1"
    assert mail.context["code"] not in sent.content.decode()  # never on screen

    proven(kiosk)
    page = kiosk.get(reverse("kiosk:return_lines")).content.decode()
    assert "Hello, Ada" in page
    address = (world.ADDRESS["line1"], world.ADDRESS["postcode"])
    for personal in ("Lovelace", EMAIL, ada.phone, *address, "psp"):
        assert personal not in page
    assert "You can return this until" in page
    assert "Refund €60.00 each" in page

    review = kiosk.post(
        reverse("kiosk:return_review"), picks(order, JUMPER_M=(2, "size"), SCARF_1=(0, ""))
    )
    assert review.status_code == 200
    assert 'id="kiosk-refund">€120.00<' in review.content.decode()
    assert not Return.objects.exists()  # reviewing writes nothing

    n = re.search(r'name="nonce" value="([0-9a-f]{32})"', review.content.decode())[1]
    done = confirm(kiosk, order, n, JUMPER_M=(2, "size"))
    assert done.status_code == 302 and done.url == reverse("kiosk:return_done")
    ret = Return.objects.get()
    assert (ret.state, ret.started_via, ret.store, ret.order, ret.customer) == (
        ReturnState.REQUESTED,
        StartedVia.KIOSK,
        net["s1"],
        order,
        ada,
    )
    assert ret.refund_amount == Decimal("120.00")
    assert [(x.sku, x.quantity, x.reason) for x in ret.lines.all()] == [("JUMPER-M", 2, "size")]
    assert line(order, "JUMPER-M").claimed_quantity == 2
    assert line(order, "SCARF-1").claimed_quantity == 0
    assert list(ret.events.values_list("kind", "to_state")) == [("return_requested", "requested")]

    shown = kiosk.get(reverse("kiosk:return_done")).content.decode()
    assert ret.code in shown and "<svg" in shown
    assert "http" not in re.search(r"<svg.*?</svg>", shown, re.S)[0].replace(
        "http://www.w3.org/2000/svg", ""
    )  # drawn inline, nothing fetched
    for personal in ("Lovelace", EMAIL, ada.phone):
        assert personal not in shown


def test_a_double_tap_on_confirm_starts_one_return(kiosk, order):
    proven(kiosk)
    n = nonce(kiosk, order, SCARF_1=(1, "changed_mind"))
    first = confirm(kiosk, order, n, SCARF_1=(1, "changed_mind"))
    again = confirm(kiosk, order, n, SCARF_1=(1, "changed_mind"))
    assert first.status_code == again.status_code == 302
    assert again.url == reverse("kiosk:return_done")
    assert Return.objects.count() == 1
    assert line(order, "SCARF-1").claimed_quantity == 1


def test_the_associate_finishes_it_at_the_counter_by_the_code(
    kiosk, order, net, client, assert_ledger_reconciles
):
    proven(kiosk)
    n = nonce(kiosk, order, JUMPER_M=(1, "fit"))
    confirm(kiosk, order, n, JUMPER_M=(1, "fit"))
    ret = Return.objects.get()
    associate = factories.StaffFactory(role="associate", home_store=net["s1"])
    client.force_login(associate)
    found = client.post(reverse("returns_store:find"), {"q": f"AISLE-RETURN:{ret.code}"})
    assert found.status_code == 302
    assert found.url == reverse("returns_store:detail", kwargs={"pk": ret.pk})
    typed = client.post(reverse("returns_store:find"), {"q": ret.code.lower()})
    assert typed.url == found.url
    on_hand = net["shelf1"].levels.get(variant=net["jumper"]).on_hand
    line_pk = ret.lines.get().pk
    received = client.post(
        reverse("returns_store:receive", kwargs={"pk": ret.pk}), {f"disp_{line_pk}": "restock"}
    )
    assert received.status_code == 302
    ret.refresh_from_db()
    assert ret.state == ReturnState.COMPLETED
    assert ret.refund_amount == Decimal("60.00")
    refund = Refund.objects.get(order=order)
    assert refund.amount == Decimal("60.00")
    assert net["shelf1"].levels.get(variant=net["jumper"]).on_hand == on_hand + 1
    assert line(order, "JUMPER-M").returned_quantity == 1
    assert_ledger_reconciles()


# --- Proof: the same answer, limits, single use ------------------------------------------


def test_a_wrong_code_and_a_foreign_order_are_refused_alike(kiosk, order, net):
    stranger = factories.CustomerFactory(name="Grace Hopper", email="grace@example.com")
    world.delivered([(net["scarf"], 1)], ref="WEB-2", customer=stranger)
    right = send(kiosk)
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    wrong_code = prove(kiosk, wrong)
    # Someone else's order (their reference with my e-mail), an unknown reference.
    foreign = send(kiosk, ref="WEB-2")
    unknown = send(kiosk, ref="NO-SUCH-ORDER")
    assert right.status_code == foreign.status_code == unknown.status_code == 200
    assert message(right) == message(foreign) == message(unknown)
    assert OutboundMessage.objects.filter(template="kiosk_return_code").count() == 1
    foreign_try = prove(kiosk, code, ref="WEB-2")
    assert wrong_code.status_code == foreign_try.status_code == 400
    assert message(wrong_code) == message(foreign_try)
    assert "not right" in message(wrong_code)
    # My order with a wrong e-mail sends nothing and proves nothing either.
    send(kiosk, email="someone@example.com")
    assert OutboundMessage.objects.filter(template="kiosk_return_code").count() == 1
    assert prove(kiosk, code, email="someone@example.com").status_code == 400
    assert kiosk.get(reverse("kiosk:return_lines")).url == reverse("kiosk:return_start")
    nothing_written(order)


def test_bad_typing_is_refused_with_a_reason(kiosk, order):
    no_ref = send(kiosk, ref="  ")
    assert no_ref.status_code == 400 and "order reference" in message(no_ref)
    bad_mail = send(kiosk, email="not-an-address")
    assert bad_mail.status_code == 400
    assert not OutboundMessage.objects.filter(template="kiosk_return_code").exists()


def test_a_receipts_qr_code_names_the_order(kiosk, order):
    send(kiosk, ref="AISLE-ORDER:WEB-1")
    assert prove(kiosk, last_code(), ref="AISLE-ORDER:WEB-1").status_code == 302


def test_codes_and_wrong_tries_are_limited_per_kiosk(kiosk, order, settings):
    settings.AISLE_KIOSK_CODES_PER_HOUR = 2
    settings.AISLE_KIOSK_CODE_TRIES_PER_HOUR = 3
    send(kiosk)
    send(kiosk)
    third = send(kiosk)
    assert third.status_code == 429 and "many codes" in message(third)
    assert OutboundMessage.objects.filter(template="kiosk_return_code").count() == 2
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _n in range(3):
        assert prove(kiosk, wrong).status_code == 400
    limited = prove(kiosk, code)  # even the right code, now
    assert limited.status_code == 429 and "many wrong codes" in message(limited)
    nothing_written(order)


def test_the_proof_is_used_up_by_the_return(kiosk, order):
    proven(kiosk)
    confirm(kiosk, order, nonce(kiosk, order, SCARF_1=(1, "other")), SCARF_1=(1, "other"))
    assert kiosk.get(reverse("kiosk:return_lines")).url == reverse("kiosk:return_start")
    again = confirm(kiosk, order, "b" * 32, JUMPER_M=(1, "size"))
    assert again.status_code == 400 and "Start again" in message(again)
    code = last_code()
    assert prove(kiosk, code).status_code == 400  # the code was used once
    assert Return.objects.count() == 1


def test_the_idle_reset_forgets_the_proven_order(kiosk, order, settings):
    proven(kiosk)
    session = kiosk.session
    session[LAST_SEEN_KEY] = time.time() - settings.AISLE_KIOSK_IDLE_SECONDS - 5
    session.save()
    after = kiosk.get(reverse("kiosk:return_lines"))
    assert after.status_code == 302 and after.url == reverse("kiosk:home")
    # The next customer finds nothing of the last one's order.
    page = kiosk.get(reverse("kiosk:return_lines"))
    assert page.url == reverse("kiosk:return_start")
    start = kiosk.get(reverse("kiosk:return_start")).content.decode()
    assert "WEB-1" not in start and EMAIL not in start


def test_the_start_screen_forgets_a_finished_return(kiosk, order):
    proven(kiosk)
    confirm(kiosk, order, nonce(kiosk, order, SCARF_1=(1, "other")), SCARF_1=(1, "other"))
    assert kiosk.get(reverse("kiosk:return_done")).status_code == 200
    kiosk.get(reverse("kiosk:home"))
    assert kiosk.get(reverse("kiosk:return_done")).url == reverse("kiosk:home")


# --- What cannot go back --------------------------------------------------------------------


def test_an_order_already_fully_returned_is_refused(kiosk, order):
    asks = [
        services.LineAsk(quantity=x.quantity, reason="size", order_line=x)
        for x in OrderLine.objects.filter(order=order)
    ]
    services.return_request(order=order, return_ref="R-ALL", asks=asks)
    proven(kiosk)
    page = kiosk.get(reverse("kiosk:return_lines")).content.decode()
    assert "Everything in this order has already been returned" in page
    refused = confirm(kiosk, order, "a" * 32, SCARF_1=(1, "size"))
    assert refused.status_code == 409
    assert "Everything in this order has already been returned" in message(refused)
    assert Return.objects.count() == 1 and Return.objects.get().return_ref == "R-ALL"


def test_lines_past_their_window_are_refused(kiosk, order):
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=45), tick=False):
        # Weeks later the kiosk has signed in again (its session would have expired with
        # the database's session store; Redis counts its expiry in real time).
        kiosk.force_login(User.objects.get(staff_profile__role="kiosk"))
        kiosk.get(reverse("kiosk:home"))  # the kiosk was idle meanwhile: a fresh start
        proven(kiosk)
        page = kiosk.get(reverse("kiosk:return_lines")).content.decode()
        assert "The time to return this item ended on" in page
        refused = confirm(kiosk, order, "a" * 32, JUMPER_M=(1, "size"))
        assert refused.status_code == 409
        assert "The time to return this item ended on" in message(refused)
    nothing_written(order)


def test_a_final_sale_item_is_refused_in_customer_words(kiosk, order, net):
    product = net["scarf"].product
    product.final_sale = True
    product.save(update_fields=["final_sale"])
    proven(kiosk)
    page = kiosk.get(reverse("kiosk:return_lines")).content.decode()
    assert "Final sale: this item cannot be returned." in page
    refused = confirm(kiosk, order, "a" * 32, SCARF_1=(1, "other"))
    assert refused.status_code == 409 and "Final sale" in message(refused)
    nothing_written(order)


def test_quantities_above_what_can_be_returned_are_refused(kiosk, order):
    proven(kiosk)
    too_many = confirm(kiosk, order, "a" * 32, JUMPER_M=(3, "size"))
    assert too_many.status_code == 409
    assert "you can return at most 2" in message(too_many)
    review = kiosk.post(reverse("kiosk:return_review"), picks(order, JUMPER_M=(3, "size")))
    assert review.status_code == 409
    not_a_number = kiosk.post(
        reverse("kiosk:return_confirm"),
        {"nonce": "a" * 32, f"qty_{line(order, 'JUMPER-M').pk}": "-1", "reason": "size"},
    )
    assert not_a_number.status_code == 400
    no_reason = confirm(kiosk, order, "a" * 32, JUMPER_M=(1, "bogus"))
    assert no_reason.status_code == 400 and "Tell us why" in message(no_reason)
    nothing = confirm(kiosk, order, "a" * 32, JUMPER_M=(0, "size"))
    assert nothing.status_code == 400 and "at least one" in message(nothing)
    nothing_written(order)


def test_a_foreign_order_line_cannot_be_slipped_in(kiosk, order, net):
    other = world.delivered([(net["scarf"], 1)], ref="WEB-9")
    proven(kiosk)
    foreign_line = OrderLine.objects.get(order=other)
    refused = kiosk.post(
        reverse("kiosk:return_confirm"),
        {"nonce": "a" * 32, f"qty_{foreign_line.pk}": "1", f"reason_{foreign_line.pk}": "size"},
    )
    assert refused.status_code == 400
    assert not Return.objects.exists()
    assert OrderLine.objects.get(pk=foreign_line.pk).claimed_quantity == 0


# --- The day-end sweep --------------------------------------------------------------------


def _kiosk_return(kiosk, order, **units):
    proven(kiosk)
    confirm(kiosk, order, nonce(kiosk, order, **units), **units)
    return Return.objects.get(started_via=StartedVia.KIOSK, state=ReturnState.REQUESTED)


def test_a_kiosk_return_not_finished_within_the_day_is_cancelled_and_frees_its_claim(
    kiosk, order, net
):
    # Started at 11:00 in Paris (the kiosk store's zone, UTC+1 in March).
    start = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        ret = _kiosk_return(kiosk, order, JUMPER_M=(1, "size"))
        counter = services.return_request(
            order=order,
            return_ref="ONLINE-1",
            asks=[services.LineAsk(1, "size", order_line=line(order, "SCARF-1"))],
        )[0]
    assert line(order, "JUMPER-M").claimed_quantity == 1
    with time_machine.travel(dt.datetime(2026, 3, 10, 22, 30, tzinfo=dt.UTC), tick=False):
        assert tasks.kiosk_returns_expire() == 0  # still the same local day (23:30)
    with time_machine.travel(dt.datetime(2026, 3, 10, 23, 15, tzinfo=dt.UTC), tick=False):
        assert tasks.kiosk_returns_expire() == 1
        assert tasks.kiosk_returns_expire() == 0  # idempotent
    ret.refresh_from_db()
    assert ret.state == ReturnState.CANCELLED
    assert line(order, "JUMPER-M").claimed_quantity == 0
    event = ret.events.get(to_state=ReturnState.CANCELLED)
    assert event.reason == "Started at the kiosk and not finished at the counter the same day"
    assert ret.events.filter(to_state=ReturnState.CANCELLED).count() == 1
    # An online return is not the sweep's business.
    counter.refresh_from_db()
    assert counter.state == ReturnState.REQUESTED
    assert line(order, "SCARF-1").claimed_quantity == 1


def test_the_sweep_leaves_a_kiosk_return_the_counter_finished_or_passed_to_a_manager(
    kiosk, order, net
):
    start = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        ret = _kiosk_return(kiosk, order, JUMPER_M=(1, "size"))
        services.return_receive(ret=ret, location=net["shelf1"], store=net["s1"])
    with time_machine.travel(start + dt.timedelta(days=2), tick=False):
        assert tasks.kiosk_returns_expire() == 0
    ret.refresh_from_db()
    assert ret.state == ReturnState.COMPLETED
    # A return the sweep sees but the counter moved on meanwhile is left as it is.
    with time_machine.travel(start, tick=False):
        Return.objects.filter(pk=ret.pk).update(state=ReturnState.AWAITING_APPROVAL)
        assert services.return_cancel(ret=ret, only_if=ReturnState.REQUESTED).state == (
            ReturnState.AWAITING_APPROVAL
        )


def test_the_sweep_is_in_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["returns-kiosk-expire"]
    assert entry["task"] == "returns.tasks.kiosk_returns_expire"
    assert tasks.kiosk_returns_expire.name == entry["task"]


# --- Queries and language -------------------------------------------------------------


def _order_of(net, customer, n: int, ref: str):
    variants = []
    for i in range(n):
        v = factories.VariantFactory(
            sku=f"{ref}-{i}",
            price=Decimal("10.00"),
            product__category=net["jumper"].product.category,
        )
        factories.give_stock(net["dc"], v, 5)
        variants.append((v, 1))
    return world.delivered(variants, ref=ref, customer=customer)


def test_the_lines_and_review_pages_run_a_fixed_number_of_queries(kiosk, net, ada):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n, ref in ((2, "SMALL"), (8, "LARGE")):
        order = _order_of(net, ada, n, ref)
        proven(kiosk, ref=ref)
        units = {f"{ref}_{i}": (1, "size") for i in range(n)}
        with CaptureQueriesContext(connection) as lines_page:
            assert kiosk.get(reverse("kiosk:return_lines")).status_code == 200
        with CaptureQueriesContext(connection) as review:
            page = kiosk.post(reverse("kiosk:return_review"), picks(order, **units))
            assert page.status_code == 200
        n_value = re.search(r'name="nonce" value="([0-9a-f]{32})"', page.content.decode())[1]
        confirm(kiosk, order, n_value, **units)
        with CaptureQueriesContext(connection) as done:
            assert kiosk.get(reverse("kiosk:return_done")).status_code == 200
        counts.append((len(lines_page), len(review), len(done)))
        kiosk.get(reverse("kiosk:home"))
    assert counts[0] == counts[1], counts


def test_the_kiosk_speaks_chinese_to_the_customer(kiosk, order):
    page = kiosk.get(reverse("kiosk:return_start"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "请输入或扫描您的订单号" in page.content.decode()
    proven(kiosk)
    refused = kiosk.post(
        reverse("kiosk:return_confirm"),
        {"nonce": "a" * 32, **picks(order, JUMPER_M=(3, "size"))},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert refused.status_code == 409 and "最多可以退回 2 件" in message(refused)


def test_the_counter_checks_the_policys_conditions_before_taking_it_back(kiosk, order, net, client):
    from tests.returns.factories import ReturnPolicyFactory

    ReturnPolicyFactory(
        category=net["jumper"].product.category, require_unworn=True, require_tags=True
    )
    proven(kiosk)
    confirm(kiosk, order, nonce(kiosk, order, JUMPER_M=(1, "fit")), JUMPER_M=(1, "fit"))
    ret = Return.objects.get()
    line_pk = ret.lines.get().pk
    client.force_login(factories.StaffFactory(role="associate", home_store=net["s1"]))
    page = client.get(reverse("returns_store:detail", kwargs={"pk": ret.pk})).content.decode()
    assert f'name="cond_{line_pk}" value="Unworn"' in page
    url = reverse("returns_store:receive", kwargs={"pk": ret.pk})
    half = client.post(url, {f"disp_{line_pk}": "restock", f"cond_{line_pk}": ["Unworn"]})
    assert half.status_code == 400
    assert "only when you have checked: Tags attached" in half.content.decode()
    ret.refresh_from_db()
    assert ret.state == ReturnState.REQUESTED and not Refund.objects.exists()
    assert ret.lines.get().conditions == []
    done = client.post(
        url, {f"disp_{line_pk}": "restock", f"cond_{line_pk}": ["Unworn", "Tags attached"]}
    )
    assert done.status_code == 302
    ret.refresh_from_db()
    assert ret.state == ReturnState.COMPLETED
    assert ret.lines.get().conditions == ["Unworn", "Tags attached"]
    assert Refund.objects.get(order=order).amount == Decimal("60.00")


def test_a_return_the_policy_gives_to_a_manager_says_so_and_waits_at_the_counter(kiosk, order, net):
    from tests.returns.factories import ReturnPolicyFactory

    ReturnPolicyFactory(category=net["jumper"].product.category, approval_threshold=Decimal("50"))
    proven(kiosk)
    review = kiosk.post(reverse("kiosk:return_review"), picks(order, JUMPER_M=(1, "size")))
    assert "A manager confirms this return at the counter." in review.content.decode()
    n = re.search(r'name="nonce" value="([0-9a-f]{32})"', review.content.decode())[1]
    confirm(kiosk, order, n, JUMPER_M=(1, "size"))
    ret = Return.objects.get()
    assert ret.state == ReturnState.REQUESTED and ret.approval_reasons
    ret = services.return_receive(
        ret=ret, location=net["shelf1"], store=net["s1"], check_approval=True
    )
    assert ret.state == ReturnState.AWAITING_APPROVAL
    assert not Refund.objects.exists()
    # Waiting for a manager, it is no longer the day-end sweep's to cancel.
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=2), tick=False):
        assert tasks.kiosk_returns_expire() == 0
    ret.refresh_from_db()
    assert ret.state == ReturnState.AWAITING_APPROVAL
