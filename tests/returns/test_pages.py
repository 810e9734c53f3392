"""The returns pages on the associate's tablet: find by scan, return an order of any
channel at this store, preview then confirm once, approvals, receiving a return
started online, receipts, the home panel and the customer page's section."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.models import StockLevel, StockMovement
from orders.models import Refund
from retail.models import OutboundMessage
from returns import services, views
from returns.models import Return, ReturnState
from returns.services import LineAsk
from tests import factories
from tests.returns import world

pytestmark = pytest.mark.django_db


@pytest.fixture
def net():
    return world.network()


@pytest.fixture
def clerk(net):
    return factories.StaffFactory(role="associate", home_store=net["s1"])


@pytest.fixture
def boss(net):
    return factories.StaffFactory(role="store_manager", home_store=net["s1"])


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


def _ref_on(html: str) -> str:
    return re.search(r'name="return_ref" value="(R-[0-9a-f]{32})"', html).group(1)


def _form(order, lines: dict, *, ref: str, refund_to="original", reason="size") -> dict:
    """POST data choosing `lines` (sku -> units) of the order."""
    data = {"return_ref": ref, "refund_to": refund_to}
    for line in order.lines.all():
        units = lines.get(line.sku, 0)
        data[f"l{line.pk}_qty"] = str(units)
        data[f"l{line.pk}_reason"] = reason if units else ""
        data[f"l{line.pk}_disp"] = "restock"
    return data


def _counter(order, store, by, sku, units):
    line = order.lines.get(sku=sku)
    ret, _created = services.return_at_counter(
        order=order,
        asks=[LineAsk(quantity=units, reason="size", order_line=line)],
        store=store,
        by=by,
        return_ref=f"R-{Return.objects.count() + 1:032x}",
    )
    return ret


# --- Finding ----------------------------------------------------------------------------


def test_a_scanned_order_qr_opens_the_orders_return_page(net, clerk_client):
    order = world.delivered([(net["jumper"], 1)])
    url = reverse("returns_store:find")
    response = clerk_client.post(url, {"q": f"AISLE-ORDER:{order.order_ref}"})
    assert response.status_code == 302
    assert response["Location"] == reverse("returns_store:order", args=[order.pk])
    typed = clerk_client.post(url, {"q": order.order_ref.lower()})
    assert typed["Location"] == reverse("returns_store:order", args=[order.pk])


def test_a_return_code_opens_the_return_and_nothing_found_says_so(net, clerk, clerk_client):
    order = world.delivered([(net["scarf"], 2)])
    ret = _counter(order, net["s2"], factories.StaffFactory(home_store=net["s2"]), "SCARF-1", 1)
    url = reverse("returns_store:find")
    response = clerk_client.post(url, {"q": f"AISLE-RETURN:{ret.code}"})
    assert response["Location"] == reverse("returns_store:detail", args=[ret.pk])
    assert clerk_client.post(url, {"q": ret.code.lower()})["Location"].endswith(f"/{ret.pk}/")
    missing = clerk_client.post(url, {"q": "NOPE-404"})
    assert missing.status_code == 404
    assert "No order or return has this reference" in missing.content.decode()
    empty = clerk_client.post(url, {"q": "   "})
    assert empty.status_code == 400
    assert "Scan the QR code" in empty.content.decode()
    too_long = clerk_client.post(url, {"q": "X" * 200})
    assert too_long.status_code == 404


def test_the_find_page_lists_this_stores_waiting_and_recent_returns(net, clerk, clerk_client):
    small = world.delivered([(net["scarf"], 1)], ref="WEB-S")
    big = world.delivered([(net["jumper"], 9)], ref="WEB-B")
    done = _counter(small, net["s1"], clerk, "SCARF-1", 1)
    waiting = _counter(big, net["s1"], clerk, "JUMPER-M", 9)
    elsewhere = world.delivered([(net["scarf"], 1)], ref="WEB-E")
    other = _counter(
        elsewhere, net["s2"], factories.StaffFactory(home_store=net["s2"]), "SCARF-1", 1
    )
    html = clerk_client.get(reverse("returns_store:find")).content.decode()
    waiting_part = html.split('id="waiting"')[1].split('id="recent"')[0]
    assert waiting.code in waiting_part and done.code not in waiting_part
    recent = html.split('id="recent"')[1]
    assert done.code in recent and waiting.code in recent and other.code not in recent
    assert "autofocus" in html and 'id="scan-code"' in html


# --- The order's return page ----------------------------------------------------------


def test_each_line_says_why_it_is_or_is_not_returnable(net, clerk_client):
    final = factories.VariantFactory(sku="SALE-1", price=Decimal("10.00"))
    final.product.final_sale = True
    final.product.save()
    factories.give_stock(net["dc"], final, 2)
    order = world.delivered([(net["jumper"], 2), (final, 1)])
    html = clerk_client.get(reverse("returns_store:order", args=[order.pk])).content.decode()
    jumper = html.split('data-sku="JUMPER-M"')[1].split("</li>")[0]
    sale = html.split('data-sku="SALE-1"')[1].split("</li>")[0]
    assert "2 units returnable" in jumper and "Returnable until" in jumper
    assert 'data-unit-value="60.00"' in jumper
    assert "Final sale: this product cannot be returned" in sale and "Not returnable" in sale
    line = order.lines.get(sku="SALE-1")
    assert f'name="l{line.pk}_qty"' not in html  # nothing to choose on it
    assert re.search(r'name="return_ref" value="R-[0-9a-f]{32}"', html)


def test_store_credit_is_offered_only_when_the_order_has_a_customer(net, clerk_client):
    order = world.delivered([(net["scarf"], 1)])
    html = clerk_client.get(reverse("returns_store:order", args=[order.pk])).content.decode()
    assert 'value="store_credit"' in html
    order.customer = None
    order.save(update_fields=["customer"])
    html = clerk_client.get(reverse("returns_store:order", args=[order.pk])).content.decode()
    assert 'value="store_credit"' not in html
    data = _form(order, {"SCARF-1": 1}, ref=_ref_on(html), refund_to="store_credit")
    response = clerk_client.post(reverse("returns_store:order", args=[order.pk]), data)
    assert response.status_code == 400 and not Return.objects.exists()


def test_the_preview_shows_the_refund_and_writes_nothing(net, clerk_client):
    order = world.delivered([(net["jumper"], 2), (net["scarf"], 1)], discount=Decimal("14.00"))
    url = reverse("returns_store:order", args=[order.pk])
    ref = _ref_on(clerk_client.get(url).content.decode())
    response = clerk_client.post(
        reverse("returns_store:preview", args=[order.pk]),
        _form(order, {"JUMPER-M": 1}, ref=ref),
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="figure" id="quote-refund">€54.00</span>' in html  # 108.00 / 2
    assert 'id="confirm-return"' in html and "A manager must approve" not in html
    assert not Return.objects.exists() and not Refund.objects.exists()


def test_a_big_return_preview_says_a_manager_must_approve(net, clerk_client):
    order = world.delivered([(net["jumper"], 9)])
    url = reverse("returns_store:order", args=[order.pk])
    ref = _ref_on(clerk_client.get(url).content.decode())
    response = clerk_client.post(
        reverse("returns_store:preview", args=[order.pk]),
        _form(order, {"JUMPER-M": 9}, ref=ref),
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "540.00" in html and "A manager must approve" in html
    assert "The refund of €540.00 is above €500.00: a manager approves it" in html


def test_the_policys_conditions_are_checkboxes_and_its_fee_is_shown(net, clerk_client):
    from tests.returns.factories import ReturnPolicyFactory

    ReturnPolicyFactory(
        category=net["jumper"].product.category,
        require_unworn=True,
        require_tags=True,
        fee_kind="percent",
        fee_value=Decimal("10.00"),
    )
    order = world.delivered([(net["jumper"], 1)])
    url = reverse("returns_store:order", args=[order.pk])
    html = clerk_client.get(url).content.decode()
    line = order.lines.get()
    assert html.count(f'name="l{line.pk}_cond"') == 2
    assert 'value="Unworn"' in html and 'value="Tags attached"' in html
    data = _form(order, {"JUMPER-M": 1}, ref=_ref_on(html))
    data[f"l{line.pk}_cond"] = ["Unworn"]
    unchecked = clerk_client.post(url, data)
    assert unchecked.status_code == 400
    assert "only when you have checked: Tags attached" in unchecked.content.decode()
    assert not Return.objects.exists()
    data[f"l{line.pk}_cond"] = ["Unworn", "Tags attached"]
    preview = clerk_client.post(
        reverse("returns_store:preview", args=[order.pk]), data, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'id="quote-refund">€54.00<' in preview and 'id="quote-fee">€6.00<' in preview
    assert clerk_client.post(url, data).status_code == 302
    ret = Return.objects.get()
    assert (ret.refund_amount, ret.fee_amount) == (Decimal("54.00"), Decimal("6.00"))
    assert ret.lines.get().conditions == ["Unworn", "Tags attached"]


def test_confirming_returns_restocks_here_and_a_double_tap_returns_once(
    net, clerk_client, assert_ledger_reconciles
):
    order = world.delivered([(net["jumper"], 2)], discount=Decimal("12.00"))
    url = reverse("returns_store:order", args=[order.pk])
    data = _form(order, {"JUMPER-M": 1}, ref=_ref_on(clerk_client.get(url).content.decode()))
    shelf = StockLevel.objects.get(location=net["shelf1"], variant=net["jumper"])
    before = shelf.available
    first = clerk_client.post(url, data)
    second = clerk_client.post(url, data)
    ret = Return.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("returns_store:detail", args=[ret.pk])
    assert ret.state == ReturnState.COMPLETED and ret.refund_amount == Decimal("54.00")
    assert Refund.objects.get(order=order).amount == Decimal("54.00")
    shelf.refresh_from_db()
    assert shelf.available == before + 1
    assert StockMovement.objects.filter(kind="return", location=net["shelf1"]).count() == 1
    assert OutboundMessage.objects.filter(key=f"return_receipt:{ret.pk}").count() == 1
    page = clerk_client.get(first["Location"]).content.decode()
    assert "Returned. Refunded €54.00." in page
    assert '<strong id="return-refund">€54.00</strong>' in page
    assert_ledger_reconciles()


def test_a_photo_and_a_note_are_kept_and_a_non_image_is_refused(
    net, clerk_client, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    from PIL import Image

    order = world.delivered([(net["scarf"], 2)])
    url = reverse("returns_store:order", args=[order.pk])
    line = order.lines.get()
    data = _form(order, {"SCARF-1": 1}, ref=_ref_on(clerk_client.get(url).content.decode()))
    data[f"l{line.pk}_photo"] = SimpleUploadedFile("x.png", b"not an image", "image/png")
    refused = clerk_client.post(url, data)
    assert refused.status_code == 400 and not Return.objects.exists()
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    data[f"l{line.pk}_photo"] = SimpleUploadedFile("stain.png", buffer.getvalue(), "image/png")
    data[f"l{line.pk}_note"] = "small stain"
    assert clerk_client.post(url, data).status_code == 302
    kept = Return.objects.get().lines.get()
    assert kept.note == "small stain" and kept.photo.name.startswith("returns/")


@pytest.mark.parametrize(
    "tamper, says",
    [
        ("other_line", "A line is not part of this order."),
        ("too_many", "Only 2 unit(s) can still be returned."),
        ("unknown_reason", "Choose a reason from the list."),
        ("no_reason", "Choose why the customer returns it."),
        ("price", "prices and refunds are worked out here"),
        ("nothing", "Choose at least one unit to return."),
        ("bad_ref", "Check the highlighted fields."),
    ],
)
def test_a_tampered_post_shows_the_form_again_and_writes_nothing(net, clerk_client, tamper, says):
    order = world.delivered([(net["jumper"], 2)])
    other = world.delivered([(net["scarf"], 1)], ref="WEB-OTHER")
    url = reverse("returns_store:order", args=[order.pk])
    data = _form(order, {"JUMPER-M": 1}, ref=_ref_on(clerk_client.get(url).content.decode()))
    line = order.lines.get()
    if tamper == "other_line":
        theirs = other.lines.get()
        data.update({f"l{theirs.pk}_qty": "1", f"l{theirs.pk}_reason": "size"})
    elif tamper == "too_many":
        data[f"l{line.pk}_qty"] = "3"
    elif tamper == "unknown_reason":
        data[f"l{line.pk}_reason"] = "free_money"
    elif tamper == "no_reason":
        data[f"l{line.pk}_reason"] = ""
    elif tamper == "price":
        data["unit_price"] = "999.00"
    elif tamper == "nothing":
        data[f"l{line.pk}_qty"] = "0"
    elif tamper == "bad_ref":
        data["return_ref"] = "1; DROP TABLE"
    response = clerk_client.post(url, data)
    assert response.status_code == 400
    assert says in response.content.decode()
    assert 'id="return-form"' in response.content.decode()
    assert not Return.objects.exists() and not Refund.objects.exists()
    assert order.lines.get().claimed_quantity == 0


def test_a_second_return_of_a_returned_line_is_refused_with_its_reason(net, clerk, clerk_client):
    order = world.delivered([(net["scarf"], 1)])
    url = reverse("returns_store:order", args=[order.pk])
    stale = clerk_client.get(url).content.decode()  # drawn before the first return
    _counter(order, net["s2"], factories.StaffFactory(home_store=net["s2"]), "SCARF-1", 1)
    response = clerk_client.post(url, _form(order, {"SCARF-1": 1}, ref=_ref_on(stale)))
    assert response.status_code == 400  # the line is no longer offered
    html = response.content.decode()
    assert "Every unit already returned or claimed by another return" in html
    assert Return.objects.count() == 1
    page = clerk_client.get(url).content.decode()
    assert "Not returnable" in page and "1 returned" in page


def test_an_order_of_another_store_and_channel_is_returned_here(net, clerk_client):
    order = world.delivered([(net["scarf"], 1)])
    order.store = net["s2"]
    order.save(update_fields=["store"])
    url = reverse("returns_store:order", args=[order.pk])
    data = _form(order, {"SCARF-1": 1}, ref=_ref_on(clerk_client.get(url).content.decode()))
    assert clerk_client.post(url, data).status_code == 302
    assert Return.objects.get().store == net["s1"]


def test_an_unknown_order_or_return_is_404(clerk_client):
    assert clerk_client.get(reverse("returns_store:order", args=[999999])).status_code == 404
    assert clerk_client.get(reverse("returns_store:detail", args=[999999])).status_code == 404


# --- Approval ---------------------------------------------------------------------------


def test_a_big_return_waits_and_the_associates_page_polls_for_the_decision(
    net, clerk, boss, client
):
    order = world.delivered([(net["jumper"], 9)])
    client.force_login(clerk)
    url = reverse("returns_store:order", args=[order.pk])
    data = _form(order, {"JUMPER-M": 9}, ref=_ref_on(client.get(url).content.decode()))
    response = client.post(url, data)
    ret = Return.objects.get()
    assert ret.state == ReturnState.AWAITING_APPROVAL
    html = client.get(response["Location"]).content.decode()
    assert 'id="waiting-manager"' in html and 'hx-trigger="every 3s"' in html
    assert 'id="approve-confirm"' not in html
    # the associate cannot approve by posting
    denied = client.post(reverse("returns_store:approve", args=[ret.pk]))
    assert denied.status_code == 403
    assert "Only a manager of this store" in denied.content.decode()
    ret.refresh_from_db()
    assert ret.state == ReturnState.AWAITING_APPROVAL
    # the manager sees the decision, without polling
    client.force_login(boss)
    html = client.get(response["Location"]).content.decode()
    assert 'id="approve-confirm"' in html and 'hx-trigger="every 3s"' not in html
    approved = client.post(reverse("returns_store:approve", args=[ret.pk]), {"reason": "ok"})
    assert approved.status_code == 302
    ret.refresh_from_db()
    assert ret.state == ReturnState.COMPLETED and ret.decided_by == boss
    # the associate's poll now brings the decision, and stops polling
    client.force_login(clerk)
    part = client.get(
        reverse("returns_store:detail", args=[ret.pk]) + "?part=status", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert part.startswith('<div id="status"') and 'data-state="completed"' in part
    assert "every 3s" not in part and "<html" not in part


def test_a_refusal_needs_a_reason_and_frees_the_units(net, clerk, boss, client):
    order = world.delivered([(net["jumper"], 9)])
    ret = _counter(order, net["s1"], clerk, "JUMPER-M", 9)
    client.force_login(boss)
    url = reverse("returns_store:refuse", args=[ret.pk])
    no_reason = client.post(url, {"reason": ""})
    assert (
        no_reason.status_code == 400
        and "Say why the return is refused." in no_reason.content.decode()
    )
    assert client.post(url, {"reason": "Worn, tags removed"}).status_code == 302
    ret.refresh_from_db()
    assert ret.state == ReturnState.REFUSED and order.lines.get().claimed_quantity == 0
    assert not Refund.objects.filter(order=order).exists()


def test_an_uncertified_manager_sees_the_training_gate(net, clerk, boss, client):
    factories.OperationRuleFactory(operation="return_approve")
    order = world.delivered([(net["jumper"], 9)])
    ret = _counter(order, net["s1"], clerk, "JUMPER-M", 9)
    client.force_login(boss)
    response = client.post(reverse("returns_store:approve", args=[ret.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert "gate-refusal" in html and "Not available to you yet" in html
    ret.refresh_from_db()
    assert ret.state == ReturnState.AWAITING_APPROVAL


def test_a_manager_of_another_store_cannot_decide(net, clerk, client):
    order = world.delivered([(net["jumper"], 9)])
    ret = _counter(order, net["s1"], clerk, "JUMPER-M", 9)
    client.force_login(factories.StaffFactory(role="store_manager", home_store=net["s2"]))
    html = client.get(reverse("returns_store:detail", args=[ret.pk])).content.decode()
    assert 'id="approve-confirm"' not in html
    assert client.post(reverse("returns_store:approve", args=[ret.pk])).status_code == 403
    ret.refresh_from_db()
    assert ret.state == ReturnState.AWAITING_APPROVAL


def test_the_approval_queue_lists_this_stores_waiting_returns(net, clerk, boss, client):
    order = world.delivered([(net["jumper"], 9)])
    ret = _counter(order, net["s1"], clerk, "JUMPER-M", 9)
    client.force_login(clerk)
    html = client.get(reverse("returns_store:approvals")).content.decode()
    assert ret.code in html and "A store manager approves or refuses" in html
    assert 'hx-trigger="every 3s"' in html
    client.force_login(boss)
    part = client.get(reverse("returns_store:approvals"), HTTP_HX_REQUEST="true").content.decode()
    assert ret.code in part and "Decide" in part and "<html" not in part
    services.return_approve(ret=ret, by=boss)
    part = client.get(reverse("returns_store:approvals"), HTTP_HX_REQUEST="true").content.decode()
    assert ret.code not in part and "No return waits for approval here." in part


# --- Receiving, cancelling, receipts ---------------------------------------------------


def test_a_return_started_online_is_received_here(net, clerk_client, assert_ledger_reconciles):
    order = world.delivered([(net["jumper"], 1), (net["scarf"], 1)])
    ret, _c = services.return_request(
        order=order,
        return_ref="WEB-R-1",
        asks=[
            LineAsk(quantity=1, reason="size", order_line=order.lines.get(sku="JUMPER-M")),
            LineAsk(quantity=1, reason="quality", order_line=order.lines.get(sku="SCARF-1")),
        ],
    )
    html = clerk_client.get(reverse("returns_store:detail", args=[ret.pk])).content.decode()
    assert 'id="receive-here"' in html
    lines = {line.sku: line for line in ret.lines.all()}
    response = clerk_client.post(
        reverse("returns_store:receive", args=[ret.pk]),
        {f"disp_{lines['JUMPER-M'].pk}": "restock", f"disp_{lines['SCARF-1'].pk}": "damaged"},
    )
    assert response.status_code == 302
    ret.refresh_from_db()
    assert ret.state == ReturnState.COMPLETED and ret.store == net["s1"]
    assert ret.location == net["shelf1"]
    assert {line.sku: line.disposition for line in ret.lines.all()} == {
        "JUMPER-M": "restock",
        "SCARF-1": "damaged",
    }
    assert_ledger_reconciles()


def test_an_unknown_disposition_is_refused(net, clerk_client):
    order = world.delivered([(net["scarf"], 1)])
    ret, _c = services.return_request(
        order=order,
        return_ref="WEB-R-2",
        asks=[LineAsk(quantity=1, reason="size", order_line=order.lines.get())],
    )
    line = ret.lines.get()
    response = clerk_client.post(
        reverse("returns_store:receive", args=[ret.pk]), {f"disp_{line.pk}": "burn"}
    )
    assert response.status_code == 400
    ret.refresh_from_db()
    assert ret.state == ReturnState.REQUESTED


def test_cancelling_a_return_frees_its_units(net, clerk_client):
    order = world.delivered([(net["scarf"], 1)])
    ret, _c = services.return_request(
        order=order,
        return_ref="WEB-R-3",
        asks=[LineAsk(quantity=1, reason="size", order_line=order.lines.get())],
    )
    url = reverse("returns_store:cancel", args=[ret.pk])
    assert clerk_client.post(url, {"reason": "customer changed mind"}).status_code == 302
    ret.refresh_from_db()
    assert ret.state == ReturnState.CANCELLED and order.lines.get().claimed_quantity == 0
    again = clerk_client.post(url)
    assert again.status_code == 302  # cancelled already: unchanged
    done = _counter(order, net["s1"], factories.StaffFactory(home_store=net["s1"]), "SCARF-1", 1)
    refused = clerk_client.post(reverse("returns_store:cancel", args=[done.pk]))
    assert refused.status_code == 409 and "can no longer be cancelled" in refused.content.decode()


def test_the_printable_receipts_carry_qr_codes(net, clerk, clerk_client):
    order = world.delivered([(net["scarf"], 1)])
    ret = _counter(order, net["s1"], clerk, "SCARF-1", 1)
    html = clerk_client.get(reverse("returns_store:receipt", args=[ret.pk])).content.decode()
    assert "<svg" in html and 'class="qr"' in html and ret.code in html and "20.00" in html
    html = clerk_client.get(
        reverse("returns_store:order_receipt", args=[order.pk])
    ).content.decode()
    assert "<svg" in html and order.order_ref in html


def test_the_order_confirmation_email_has_the_order_qr():
    from retail.messaging import render_message

    _subject, text, html = render_message(
        "order_confirmation",
        {
            "first_name": "Ada",
            "order_ref": "WEB-77",
            "store": "Web",
            "lines": ["1 × X"],
            "total": "10.00",
            "delivery": "home",
        },
        "en",
    )
    assert "WEB-77" in text and "<svg" not in text
    assert html and "<svg" in html and "WEB-77" in html


# --- Panels -----------------------------------------------------------------------------


def test_the_home_panel_counts_returns_waiting_here(net, clerk, clerk_client):
    assert 'id="returns-panel"' in clerk_client.get(reverse("retail:store_home")).content.decode()
    order = world.delivered([(net["jumper"], 9)])
    ret = _counter(order, net["s1"], clerk, "JUMPER-M", 9)
    kiosk_order = world.delivered([(net["scarf"], 1)], ref="WEB-K")
    kiosk_ret, _c = services.return_request(
        order=kiosk_order,
        return_ref="KIOSK-R-1",
        asks=[LineAsk(quantity=1, reason="size", order_line=kiosk_order.lines.get())],
        via="kiosk",
        store=net["s1"],
    )
    html = clerk_client.get(reverse("returns_store:panel")).content.decode()
    assert "1 waiting for a manager" in html
    assert "1 started at the kiosk, waiting for the customer" in html
    assert ret.code in html and kiosk_ret.code in html


def test_the_customer_page_shows_returnable_purchases_and_returns(net, clerk, clerk_client):
    ada = factories.CustomerFactory(name="Ada Lovelace")
    web = world.delivered([(net["scarf"], 2)], ref="WEB-ADA", customer=ada)
    ret = _counter(web, net["s1"], clerk, "SCARF-1", 1)
    spent = world.delivered([(net["jumper"], 1)], ref="WEB-SPENT", customer=ada)
    _counter(spent, net["s1"], clerk, "JUMPER-M", 1)
    html = clerk_client.get(reverse("retail:customer_detail", args=[ada.pk])).content.decode()
    section = html.split('id="customer-returns"')[1]
    assert 'data-order="WEB-ADA"' in section
    assert reverse("returns_store:order", args=[web.pk]) in section
    assert 'data-order="WEB-SPENT"' not in section  # nothing left to return
    assert ret.code in section and "Completed" in section


# --- Fixed numbers of queries ------------------------------------------------------------


def _queries(client, url, **headers) -> int:
    client.get(url, **headers)  # warm: sessions, the clienteling section's cache
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _many_returns(net, clerk, customer, n, prefix):
    """n returns for the customer at S01 (one an order); every other waits for approval."""
    for i in range(n):
        order = world.delivered([(net["scarf"], 2)], ref=f"{prefix}-{i}", customer=customer)
        _counter(order, net["s1"], clerk, "SCARF-1", 1)
        big = world.delivered([(net["jumper"], 9)], ref=f"{prefix}-B{i}", customer=customer)
        _counter(big, net["s1"], clerk, "JUMPER-M", 9)
        for v in (net["jumper"], net["scarf"]):
            factories.give_stock(net["dc"], v, 20)


def test_the_pages_run_in_a_fixed_number_of_queries(net, clerk, clerk_client):
    one, ten = factories.CustomerFactory(), factories.CustomerFactory()
    _many_returns(net, clerk, one, 1, "ONE")
    urls = {
        "customer": reverse("retail:customer_detail", args=[one.pk]),
        "queue": reverse("returns_store:approvals"),
        "queue_part": reverse("returns_store:approvals"),
        "find": reverse("returns_store:find"),
        "panel": reverse("returns_store:panel"),
    }
    small = {name: _queries(clerk_client, url) for name, url in urls.items()}
    small_ret = Return.objects.filter(customer=one).order_by("pk").first()
    small["detail"] = _queries(clerk_client, reverse("returns_store:detail", args=[small_ret.pk]))
    _many_returns(net, clerk, ten, 10, "TEN")
    urls["customer"] = reverse("retail:customer_detail", args=[ten.pk])
    large = {name: _queries(clerk_client, url) for name, url in urls.items()}
    # a return of ten lines with its events
    lines = []
    order = None
    variants = [factories.VariantFactory(price=Decimal("5.00")) for _ in range(10)]
    for v in variants:
        factories.give_stock(net["dc"], v, 1)
    order = world.delivered([(v, 1) for v in variants], ref="TEN-LINES", customer=ten)
    lines = [LineAsk(quantity=1, reason="size", order_line=line) for line in order.lines.all()]
    big_ret, _c = services.return_at_counter(
        order=order, asks=lines, store=net["s1"], by=clerk, return_ref="R-ten-lines"
    )
    assert big_ret.lines.count() == 10
    large["detail"] = _queries(clerk_client, reverse("returns_store:detail", args=[big_ret.pk]))
    assert Return.objects.filter(customer=ten).count() == 21
    assert small == large
    section = {}
    for customer in (one, ten):
        with CaptureQueriesContext(connection) as ctx:
            html = views.customer_section(None, customer, net["s1"])
        section[customer.pk] = len(ctx.captured_queries)
        shown = min(Return.objects.filter(customer=customer).count(), views.CUSTOMER_RETURNS)
        assert html.count("return-row") == shown
    assert section[one.pk] == section[ten.pk]
    part_small = _queries(clerk_client, urls["queue"], HTTP_HX_REQUEST="true")
    assert part_small <= large["queue"]


def test_the_pages_speak_the_associates_language(net, clerk, clerk_client):
    order = world.delivered([(net["jumper"], 9)])
    ret = _counter(order, net["s1"], clerk, "JUMPER-M", 9)
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    html = clerk_client.get(reverse("returns_store:order", args=[order.pk]), **zh)
    assert 'id="preview-refund"' not in html.content.decode()  # nothing left to return
    assert "不可退货" in html.content.decode()
    html = clerk_client.get(reverse("returns_store:detail", args=[ret.pk]), **zh).content.decode()
    assert "正在等待本店经理批准" in html
    html = clerk_client.get(reverse("returns_store:panel"), **zh).content.decode()
    assert "1 个等待经理" in html


def test_a_photo_must_be_a_small_jpeg_png_or_webp():
    from types import SimpleNamespace

    from django.core.exceptions import ValidationError
    from PIL import Image

    from returns.forms import PHOTO_MAX_BYTES, photo_check

    def upload(fmt: str, size: int | None = None):
        buffer = io.BytesIO()
        Image.new("RGB", (4, 4), "blue").save(buffer, fmt)
        return SimpleNamespace(
            size=size or len(buffer.getvalue()), image=SimpleNamespace(format=fmt)
        )

    photo_check(upload("PNG"))
    photo_check(upload("JPEG"))
    with pytest.raises(ValidationError, match="JPEG, PNG or WebP"):
        photo_check(upload("GIF"))
    with pytest.raises(ValidationError, match="at most 5 MB"):
        photo_check(upload("PNG", size=PHOTO_MAX_BYTES + 1))
