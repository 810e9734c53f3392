"""Store credit: a balance per customer, kept as an append-only ledger.

Returns issue credit (`credit_issue`); later orders spend it as tender
`store_credit` at the till, in the endless-aisle cart, through the API and at a
pickup's counter (`credit_spend`, inside the order's own transaction, so a short
balance refuses the order and nothing is written); a cancelled or expired
fulfilment of an order paid with credit gives that part back (`credit_restore`).

These functions are the only writers of `StoreCredit` and `StoreCreditEntry`. Each
locks the customer's account row, moves the balance and appends the entry that
says why, with the balance after it. The CHECK `balance >= 0` makes an overspend
impossible to commit even if a caller forgot the lock.

Locks: an order's stock rows are locked before the credit account (order placing
spends once the stock is held; a cancel restores after releasing it), so the two
never wait on each other in opposite order.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from orders.errors import OrderError
from orders.models import CreditKind, Order, StoreCredit, StoreCreditEntry
from retail.models import Customer, Store, User
from retail.money import money_text

TENDER = "store_credit"
ZERO = Decimal("0.00")
HISTORY = 10


class InsufficientCredit(OrderError):
    """The customer's store credit is below the amount; `balance` says what there is."""

    status, code = 409, "insufficient_credit"


class CreditRefused(OrderError):
    """A store credit operation that makes no sense (no customer, no amount)."""


def _cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _user(by: User | None) -> User | None:
    return by if by is not None and getattr(by, "is_authenticated", False) else None


def credit_balance(customer: Customer | None) -> Decimal:
    """The customer's store credit now (0.00 with no account)."""
    if customer is None or customer.pk is None:
        return ZERO
    balance = (
        StoreCredit.objects.filter(customer=customer).values_list("balance", flat=True).first()
    )
    return balance if balance is not None else ZERO


def _locked_account(customer: Customer, *, create: bool) -> StoreCredit | None:
    """The customer's account, its row locked for this transaction. With `create`, an
    account is made when there is none: two transactions doing it at once both end up
    locking the one row (the loser's insert fails on the unique customer and it locks
    the winner's row once that has committed)."""
    account = StoreCredit.objects.select_for_update().filter(customer=customer).first()
    if account is None and create:
        try:
            with transaction.atomic():
                StoreCredit.objects.create(customer=customer)
        except IntegrityError:
            pass  # created by another transaction a moment ago
        account = StoreCredit.objects.select_for_update().get(customer=customer)
    return account


def _append(
    account: StoreCredit,
    amount: Decimal,
    kind: str,
    *,
    reason: str,
    by: User | None = None,
    store: Store | None = None,
    order: Order | None = None,
    return_ref: str = "",
) -> StoreCreditEntry:
    account.balance = account.balance + amount
    account.save(update_fields=["balance", "updated_at"])
    return StoreCreditEntry.objects.create(
        account=account,
        amount=amount,
        balance_after=account.balance,
        kind=kind,
        order=order,
        return_ref=str(return_ref)[:64],
        reason=str(reason)[:300],
        by=_user(by),
        store=store,
    )


def _positive(amount) -> Decimal:
    try:
        amount = _cents(amount)
    except (ArithmeticError, TypeError, ValueError):
        raise CreditRefused(_("A store credit amount is a sum of money.")) from None
    if amount <= 0:
        raise CreditRefused(_("A store credit amount must be above zero."))
    return amount


def _customer(customer: Customer | None) -> Customer:
    if customer is None:
        raise CreditRefused(_("Store credit belongs to a customer: choose the customer first."))
    return customer


@transaction.atomic
def credit_issue(
    *,
    customer: Customer,
    amount: Decimal,
    reason: str,
    by: User | None = None,
    store: Store | None = None,
    order: Order | None = None,
    return_ref: str = "",
) -> StoreCreditEntry:
    """Add `amount` (> 0) to the customer's store credit (a return's refund, goodwill).
    Not idempotent by itself: the caller (a return, once) issues it once."""
    amount = _positive(amount)
    account = _locked_account(_customer(customer), create=True)
    return _append(
        account,
        amount,
        CreditKind.ISSUED,
        reason=reason,
        by=by,
        store=store,
        order=order,
        return_ref=return_ref,
    )


@transaction.atomic
def credit_spend(
    *,
    customer: Customer,
    amount: Decimal,
    order: Order,
    by: User | None = None,
    store: Store | None = None,
    reason: str = "",
) -> StoreCreditEntry:
    """Pay `amount` of `order` from the customer's store credit. Call it inside the
    order's transaction: `InsufficientCredit` (409, with the balance) when the balance
    is short, and the caller's transaction then writes nothing."""
    amount = _positive(amount)
    account = _locked_account(_customer(customer), create=False)
    balance = account.balance if account is not None else ZERO
    if account is None or balance < amount:
        raise InsufficientCredit(
            _("Not enough store credit: %(amount)s is due and the balance is %(balance)s.")
            % {
                "amount": money_text(amount, order.currency),
                "balance": money_text(balance, order.currency),
            },
            balance=f"{balance:.2f}",
        )
    return _append(
        account,
        -amount,
        CreditKind.SPENT,
        reason=reason or _("order %(ref)s") % {"ref": order.order_ref},
        by=by,
        store=store,
        order=order,
    )


def credit_restorable(order: Order) -> Decimal:
    """What store credit paid for `order` and has not been given back yet (one query).
    Counted on the ledger by order, so it holds after the customer was merged."""
    figures = StoreCreditEntry.objects.filter(order=order).aggregate(
        spent=Sum("amount", filter=Q(kind=CreditKind.SPENT)),
        restored=Sum("amount", filter=Q(kind=CreditKind.RESTORED)),
    )
    return max(ZERO, -(figures["spent"] or ZERO) - (figures["restored"] or ZERO))


@transaction.atomic
def credit_restore(
    *,
    customer: Customer | None,
    amount: Decimal,
    order: Order,
    reason: str,
    by: User | None = None,
    store: Store | None = None,
) -> StoreCreditEntry | None:
    """A refund of `order` (a cancelled or expired fulfilment) gives back, as credit,
    up to what store credit paid for the order less what was restored already. None
    when the order spent no credit (or all of it came back already)."""
    if customer is None or amount is None or amount <= 0:
        return None
    back = min(_cents(amount), credit_restorable(order))
    if back <= 0:
        return None
    account = _locked_account(customer, create=True)
    # Counted again under the lock: two refunds of one order never restore it twice.
    back = min(back, credit_restorable(order))
    if back <= 0:
        return None
    return _append(
        account, back, CreditKind.RESTORED, reason=reason, by=by, store=store, order=order
    )


def credit_history(customer: Customer, limit: int = HISTORY) -> list[StoreCreditEntry]:
    """The customer's latest entries, newest first (one query). The first one's
    `balance_after` is the balance: the writers keep them in step under the lock."""
    return list(
        StoreCreditEntry.objects.filter(account__customer=customer)
        .select_related("order", "store")
        .order_by("-pk")[:limit]
    )


# --- Customer data ---------------------------------------------------------------------


def merge_customer(*, survivor: Customer, duplicate: Customer) -> None:
    """Registered with `retail.customer_data`: the duplicate's balance moves to the
    survivor as a pair of `adjusted` entries (the ledger is append-only, so its older
    entries stay on the duplicate's account, where admin still shows them). Runs inside
    the merge's transaction; both accounts are locked in customer order."""
    first, second = sorted((survivor, duplicate), key=lambda c: c.pk)
    accounts = {c.pk: _locked_account(c, create=False) for c in (first, second)}
    theirs = accounts[duplicate.pk]
    if theirs is None or theirs.balance <= 0:
        return
    ours = accounts[survivor.pk] or _locked_account(survivor, create=True)
    moved = theirs.balance
    _append(
        theirs,
        -moved,
        CreditKind.ADJUSTED,
        reason=_("moved to customer #%(id)s (profiles merged)") % {"id": survivor.pk},
    )
    _append(
        ours,
        moved,
        CreditKind.ADJUSTED,
        reason=_("moved from customer #%(id)s (profiles merged)") % {"id": duplicate.pk},
    )


def count_customer(customer: Customer) -> int:
    return StoreCreditEntry.objects.filter(account__customer=customer).count()
