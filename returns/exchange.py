"""Exchanges: a return at the counter turned into a new order.

The customer gives back units of an order and takes other items instead: another
size or colour of the same product, or anything from the endless aisle, carried out
from this store's shelf or sourced through `inventory.sourcing` like any order
(picked up here, or shipped to the customer).

Money, in ONE transaction, with the ordinary rules on both sides:

- the return completes as any counter return does (restock through the ledger, the
  refund recorded through `orders.returning`, capped at what was paid), except that
  the part of its refund the new order takes (`min(returned, new total)`) goes onto
  the customer's store credit (`store_credit_first`), the rest as the associate
  chose (original payment or store credit);
- the exchange order is an ordinary order (`orders.services.order_place`, channel
  `store`, placed and credited to the associate), paid with that store credit and,
  when the new items cost more, with the tender the customer pays the difference
  in (card, cash or store credit within the balance).

So an even swap moves no money to or from a customer tender (credit issued and
spent in the same instant), a cancelled exchange order refunds by the normal order
rules (the store-credit part back as store credit, the difference to its tender),
and the return stays as it was. Any refusal — nothing to return, an item nobody can
promise, a tender the customer cannot use, a short balance — raises before or
inside the transaction, so nothing is written. The return holds the link
(`Return.exchange_order`); `orders` never knows about it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clienteling.cart import TENDERS
from inventory.locks import stock_levels_for_update
from inventory.sourcing import Address, Plan, SourcingRequest, plan_sourcing
from inventory.sourcing import Method as SourcingMethod
from orders import credit
from orders.models import Order
from orders.services import LineInput, OrderInput, PaymentInput, money, order_place
from retail import access, catalogue, messaging
from retail.models import Store, User, Variant
from retail.money import money_text
from returns import services
from returns.models import Disposition, RefundTo, Return, ReturnState
from returns.services import LineAsk, NotAllowed, Quote, ReturnError, ReturnRefConflict

METHODS = (SourcingMethod.CARRY_OUT, SourcingMethod.PICKUP, SourcingMethod.SHIP)
MAX_ITEMS = 10
MAX_QUANTITY = 20
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postcode", "country")
ZERO = Decimal("0.00")


class ExchangeRefused(ReturnError):
    status, code = 400, "exchange_refused"


class ExchangeUnavailable(ReturnError):
    status, code = 409, "insufficient_stock"


@dataclass
class ExchangeItem:
    variant: Variant
    quantity: int


@dataclass
class ExchangeAsk:
    """What the customer takes instead, how they get it, and how they pay a difference."""

    items: Sequence[ExchangeItem]
    method: str = SourcingMethod.CARRY_OUT
    address: dict | None = None
    tender: str = "card"


@dataclass
class ExchangeQuote:
    returned: Quote
    items: list[ExchangeItem]
    total: Decimal  # the new items at catalog price
    plan: Plan
    method: str

    @property
    def returned_value(self) -> Decimal:
        return self.returned.refund

    @property
    def credit(self) -> Decimal:
        """The part of the refund that pays for the new order."""
        return min(self.returned_value, self.total)

    @property
    def difference(self) -> Decimal:
        """Above zero: the customer pays it; below: it is refunded."""
        return self.total - self.returned_value

    @property
    def charged(self) -> Decimal:
        return max(ZERO, self.difference)

    @property
    def refunded(self) -> Decimal:
        return max(ZERO, -self.difference)

    @property
    def even(self) -> bool:
        return self.difference == 0

    @property
    def available(self) -> bool:
        return self.plan.complete

    def short_skus(self) -> list[str]:
        return sorted(i.variant.sku for i in self.items if i.variant.pk in self.plan.short)


def clean_address(raw: dict | None) -> dict:
    """A delivery address as the endless aisle's cart takes it (country as ISO code)."""
    given = {k: " ".join(str((raw or {}).get(k, "")).split())[:120] for k in ADDRESS_FIELDS}
    if any(not given[k] for k in ("name", "line1", "city", "postcode", "country")):
        raise ExchangeRefused(
            _("Give the name, street, city, postcode and country."), field="address"
        )
    given["country"] = given["country"].upper()
    if len(given["country"]) != 2 or not given["country"].isalpha():
        raise ExchangeRefused(_("The country is its two-letter code, e.g. FR."), field="address")
    return {k: v for k, v in given.items() if v}


def _check_items(items: Sequence[ExchangeItem]) -> list[ExchangeItem]:
    if not items:
        raise ExchangeRefused(_("Choose the item the customer takes instead."), field="items")
    if len(items) > MAX_ITEMS:
        raise ExchangeRefused(
            _("An exchange takes at most %(n)s items.") % {"n": MAX_ITEMS}, field="items"
        )
    merged: dict[int, ExchangeItem] = {}
    for item in items:
        if not 1 <= item.quantity <= MAX_QUANTITY:
            raise ExchangeRefused(
                _("A quantity is from 1 to %(n)s.") % {"n": MAX_QUANTITY}, field="quantity"
            )
        if not item.variant.active or not item.variant.product.active:
            raise ExchangeRefused(
                _("%(sku)s is no longer sold.") % {"sku": item.variant.sku}, field="items"
            )
        if item.variant.pk in merged:
            merged[item.variant.pk].quantity += item.quantity
        else:
            merged[item.variant.pk] = ExchangeItem(item.variant, item.quantity)
    return list(merged.values())


def _request(want: ExchangeAsk, items: list[ExchangeItem], store: Store) -> SourcingRequest:
    address = want.address or {}
    return SourcingRequest(
        method=want.method,
        lines={i.variant.pk: i.quantity for i in items},
        store=None if want.method == SourcingMethod.SHIP else store,
        address=Address(postcode=address.get("postcode", ""), country=address.get("country", ""))
        if want.method == SourcingMethod.SHIP
        else None,
    )


def exchange_quote(
    *, order: Order, asks: Sequence[LineAsk], store: Store, want: ExchangeAsk, views=None
) -> ExchangeQuote:
    """What the exchange would do: the returned value, the new items' total, the
    difference, and where the new items would come from. Nothing written; raises
    `ReturnError` (or `NotReturnable`) with the reason when it cannot be made."""
    if order.customer_id is None:
        raise ExchangeRefused(
            _(
                "An exchange pays the new items with the returned value as store credit, "
                "which needs a customer: this sale has none. Take it as a return and sell "
                "the new item from the endless aisle."
            ),
            field="customer",
        )
    if want.method not in METHODS:
        raise ExchangeRefused(_("Choose how the customer gets the new item."), field="method")
    if want.method == SourcingMethod.SHIP:
        want.address = clean_address(want.address)
    items = _check_items(want.items)
    returned = services.quote(order=order, asks=asks, store=store, views=views)
    if returned.approval_reasons:
        raise ExchangeRefused(
            _(
                "This return needs a manager's approval (%(why)s), so it cannot become an "
                "exchange at once. Take it as a return."
            )
            % {"why": "; ".join(str(r) for r in returned.approval_reasons)},
            field="lines",
        )
    total = sum((money(i.variant.price * i.quantity) for i in items), ZERO)
    plan = plan_sourcing(_request(want, items, store))
    return ExchangeQuote(returned, items, total, plan, want.method)


def check_tender(order: Order, tender: str, charged: Decimal) -> None:
    if charged <= 0:
        return
    if tender not in TENDERS:
        raise ExchangeRefused(_("Choose how the customer pays the difference."), field="tender")
    if tender == credit.TENDER:
        balance = credit.credit_balance(order.customer)
        if balance < charged:
            raise credit.InsufficientCredit(
                _(
                    "Not enough store credit for the difference: %(amount)s is due and the "
                    "balance is %(balance)s."
                )
                % {
                    "amount": money_text(charged, order.currency),
                    "balance": money_text(balance, order.currency),
                },
                balance=f"{balance:.2f}",
            )


def _lock_stock(priced: ExchangeQuote, asks: Sequence[LineAsk], store: Store) -> None:
    """Lock every stock row the exchange will move, in pk order, before anything else:
    the return issues store credit and the new order spends it, and every credit
    writer locks stock rows before the customer's credit account. Without this the new
    order's stock rows would be locked after the account, the other way round."""
    keys = {(line.location.pk, vid) for line in priced.plan.lines for vid in line.quantities}
    shelf = services._shelf(store)
    keys |= {
        (shelf.pk, ask.order_line.variant_id)
        for ask in asks
        if ask.order_line is not None and ask.disposition in ("", Disposition.RESTOCK)
    }
    stock_levels_for_update(keys)


def exchange_ref(ret: Return, store: Store) -> str:
    """The exchange order's reference: the store and the return, short enough to read
    out at a pickup counter (as the cart's `S01-C12`)."""
    return f"{store.code}-X{ret.pk}"


def exchange_at_counter(
    *,
    order: Order,
    asks: Sequence[LineAsk],
    store: Store,
    by: User,
    return_ref: str,
    want: ExchangeAsk,
    refund_to: str = RefundTo.ORIGINAL,
) -> tuple[Return, bool]:
    """Return the asked units and place the exchange order, all or nothing. The same
    `return_ref` again (a double tap) answers with the return made the first time."""
    existing = Return.objects.filter(return_ref=return_ref).first()
    if existing is not None:
        if existing.order_id != order.pk:
            raise ReturnRefConflict(_("This return reference belongs to another return."))
        return existing, False
    if not access.can_act_in(by, store):
        raise NotAllowed(_("You cannot take returns at this store."))
    if refund_to not in RefundTo.values:
        raise ReturnError(_("Choose how the refund is paid."), field="refund_to")
    priced = exchange_quote(order=order, asks=asks, store=store, want=want)
    if not priced.available:
        raise ExchangeUnavailable(
            _("%(skus)s cannot be had anywhere in the network now: choose another item.")
            % {"skus": ", ".join(priced.short_skus())},
            skus=priced.short_skus(),
        )
    check_tender(order, want.tender, priced.charged)
    with transaction.atomic():
        _lock_stock(priced, asks, store)
        ret, _created = services.return_at_counter(
            order=order,
            asks=asks,
            store=store,
            by=by,
            return_ref=return_ref,
            refund_to=refund_to,
            store_credit_first=priced.credit,
        )
        if ret.state != ReturnState.COMPLETED:
            raise ExchangeRefused(
                _("This return waits for a manager, so it cannot become an exchange at once.")
            )
        # What the return really refunded (capped at what was paid) pays first.
        used = min(ret.refund_amount, priced.total)
        due = priced.total - used
        payments = []
        if used > 0:
            payments.append(PaymentInput(credit.TENDER, used, f"exchange:{ret.return_ref}"[:64]))
        if due > 0:
            payments.append(PaymentInput(want.tender, due, f"exchange-due:{ret.return_ref}"[:64]))
        method = want.method
        content = "|".join(f"{i.variant.pk}x{i.quantity}" for i in priced.items)
        new, _placed = order_place(
            OrderInput(
                order_ref=exchange_ref(ret, store),
                channel="store",
                customer=order.customer,
                lines=[LineInput(i.variant, i.quantity, i.variant.price) for i in priced.items],
                method=method,
                store=None if method == SourcingMethod.SHIP else store,
                address=want.address if method == SourcingMethod.SHIP else None,
                split=payments,
                by=by,
                credited_to=by,
                fingerprint=hashlib.sha256(
                    f"{content}|{method}|{want.tender}|{ret.return_ref}".encode()
                ).hexdigest(),
            )
        )
        ret.exchange_order = new
        ret.save(update_fields=["exchange_order", "updated_at"])
        services._event(
            ret,
            "return_exchanged",
            ret.state,
            ret.state,
            by=by,
            store=store,
            reason=_describe(new, priced, used, due, want.tender),
        )
        messaging.message_send(
            customer=order.customer,
            template="order_confirmation",
            context={
                "first_name": order.customer.first_name,
                "order_ref": new.order_ref,
                "store": store.name,
                # Formatted in the customer's language when the message is rendered.
                "amount": f"{new.total:.2f}",
                "currency": new.currency,
                "lines": [
                    f"{i.quantity} × "
                    f"{catalogue.product_name(i.variant.product, order.customer.language or None)}"
                    f" ({i.variant.sku})"
                    for i in priced.items
                ],
                "delivery": method,
                "pickup_store": store.name if method != SourcingMethod.SHIP else "",
            },
            key=f"order-confirmation:{new.order_ref}",
        )
    return ret, True


def _describe(new: Order, priced: ExchangeQuote, used: Decimal, due: Decimal, tender) -> str:
    items = ", ".join(f"{i.quantity} × {i.variant.sku}" for i in priced.items)
    text = _("exchange order %(ref)s: %(items)s; %(used)s paid by the return") % {
        "ref": new.order_ref,
        "items": items,
        "used": used,
    }
    if due > 0:
        text += "; " + _("difference %(amount)s charged (%(tender)s)") % {
            "amount": due,
            "tender": tender,
        }
    elif priced.refunded > 0:
        text += "; " + _("difference refunded")
    return text


# --- What the return screen and receipt show ---------------------------------------------


@dataclass
class ExchangeView:
    order: Order
    lines: list
    fulfillments: list
    credit: Decimal  # the returned value that paid for it
    charged: Decimal  # the difference the customer paid
    charged_tenders: list[tuple[str, Decimal]]
    refunded: Decimal  # the returned value left over, refunded by the returns rules
    placed_at: object

    @property
    def even(self) -> bool:
        return self.charged == 0 and self.refunded == 0


def exchange_view(ret: Return) -> ExchangeView | None:
    """The exchange of a return, as its page and receipt show it (a few queries)."""
    if not ret.exchange_order_id:
        return None
    order = (
        Order.objects.filter(pk=ret.exchange_order_id)
        .prefetch_related("lines", "payments", "fulfillments__location", "fulfillments__lines")
        .first()
    )
    if order is None:
        return None
    payments = list(order.payments.all())
    credit_ref = f"exchange:{ret.return_ref}"[:64]
    used = sum((p.amount for p in payments if p.reference == credit_ref), ZERO)
    charged = [(p.tender, p.amount) for p in payments if p.reference != credit_ref]
    return ExchangeView(
        order=order,
        lines=list(order.lines.all()),
        fulfillments=list(order.fulfillments.all()),
        credit=used,
        charged=sum((a for _t, a in charged), ZERO),
        charged_tenders=charged,
        refunded=max(ZERO, ret.refund_amount - used),
        placed_at=timezone.localtime(order.created_at, ret.store.tz)
        if ret.store_id
        else order.created_at,
    )
