"""The exchange page of the tablet (`/store/returns/order/<id>/exchange/`): the return
chosen on the order page, turned into an exchange — another size or colour of the
returned product, or anything the endless aisle finds — with where the new item
comes from and the difference, then confirmed in one step.

The page carries the return's fields as hidden inputs (the associate chose them on the
order page) and adds its own (`x_…`). Every POST re-checks everything; only the
confirming one writes, through `returns.exchange.exchange_at_counter`."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inventory import aisle
from inventory.sourcing import load_snapshot
from orders.errors import OrderError
from orders.models import Method as FulfillmentMethod
from orders.returning import NotReturnable
from retail.access import Area, area_required
from retail.models import Variant
from retail.views import store_or_choose
from returns import exchange, services
from returns.forms import ExchangeForm, ReturnForm, split_exchange_data
from returns.models import Return
from returns.views import _form_message, _nav, _order, _order_page, _shelf

SEARCH_PRODUCTS = 6
METHOD_LABELS = dict(FulfillmentMethod.choices)


def _candidates(store, product_ids: set[int], query: str) -> tuple[list[dict], str]:
    """The returned products' other variants and, with a query, the endless aisle's
    first matches: each with its units on this shelf and across the network (one stock
    query)."""
    error = ""
    ids = list(
        Variant.objects.filter(
            product_id__in=product_ids, active=True, product__active=True
        ).values_list("pk", flat=True)
    )
    same = set(ids)
    if query:
        try:
            page = aisle.catalog_search(query=query, store=store)
        except aisle.SearchError as exc:
            error = str(exc)
        else:
            for hit in page.hits[:SEARCH_PRODUCTS]:
                ids += [v.id for v in hit.product.variants if v.id not in same]
            if not page.hits:
                error = _("Nothing in the catalog matches “%(q)s”.") % {"q": query}
    if not ids:
        return [], error
    variants = Variant.objects.filter(pk__in=ids).select_related("product").order_by("pk")
    snapshot = load_snapshot(ids)
    shelf = _shelf(store)
    rows = []
    for variant in variants:
        anywhere = sum(n for (_loc, vid), n in snapshot.available.items() if vid == variant.pk)
        rows.append(
            {
                "variant": variant,
                "same": variant.pk in same,
                "here": snapshot.at(shelf.pk, variant.pk) if shelf else 0,
                "anywhere": anywhere,
            }
        )
    rows.sort(key=lambda r: (not r["same"], r["variant"].product.name, r["variant"].pk))
    return rows, error


def _hidden(ret_data) -> list[tuple[str, str]]:
    """The return's fields, carried on as hidden inputs (not the token, nor the
    submission's action id: each step is an action of its own)."""
    return [
        (key, value)
        for key, values in ret_data.lists()
        if key not in ("csrfmiddlewaretoken", "action_id")
        for value in values
    ]


@area_required(Area.STORE)
@require_POST
def exchange_page(request: HttpRequest, order_id: int) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    order = _order(order_id)
    ret_data, x_data = split_exchange_data(request.POST)
    if x_data.get("x_step") == "confirm":
        done = Return.objects.filter(
            return_ref=str(ret_data.get("return_ref", ""))[:64], order=order
        ).first()
        if done is not None:  # a double tap: the exchange was made the first time
            return redirect("returns_store:detail", pk=done.pk)
    views = services.explain_order(order, store=store)
    form = ReturnForm(
        ret_data, request.FILES, views=views, has_customer=order.customer_id is not None
    )
    if not form.is_valid():
        return _order_page(
            request, store, order, form=form, views=views, status=400, message=_form_message(form)
        )
    if _shelf(store) is None:
        return _order_page(
            request,
            store,
            order,
            form=form,
            views=views,
            status=409,
            message=_("This store has no stock location to take returns into."),
        )
    for name, default in (("x_qty", "1"), ("x_method", "carry_out"), ("x_tender", "card")):
        if not x_data.get(name):
            x_data[name] = default
    xform = ExchangeForm(x_data)
    xform.is_valid()
    x = xform.cleaned_data
    message, status, quote, tender_problem = "", 200, None, ""
    if xform.errors:
        message, status = " ".join(e for es in xform.errors.values() for e in es), 400
    products = {ask.order_line.variant.product_id for ask in form.asks}
    rows, search_error = _candidates(store, products, x.get("x_q", "").strip())
    chosen = None
    step = x.get("x_step") or "choose"
    if not message and x.get("x_sku"):
        chosen = (
            Variant.objects.select_related("product__category")
            .filter(sku=x["x_sku"], active=True, product__active=True)
            .first()
        )
        if chosen is None:
            message, status = _("This item is no longer sold."), 400
    want = exchange.ExchangeAsk(
        items=[exchange.ExchangeItem(chosen, x.get("x_qty") or 1)] if chosen else [],
        method=x.get("x_method") or "carry_out",
        address=xform.address() if not xform.errors else None,
        tender=x.get("x_tender") or "card",
    )
    if chosen is not None and not message:
        try:
            quote = exchange.exchange_quote(
                order=order, asks=form.asks, store=store, want=want, views=views
            )
        except NotReturnable as exc:
            message, status = exc.detail, exc.status
        except OrderError as exc:
            message, status = exc.detail, exc.status
        if quote is not None and not quote.available and step == "confirm":
            message, status = (
                _("%(skus)s cannot be had anywhere in the network now: choose another item.")
                % {"skus": ", ".join(quote.short_skus())},
                409,
            )
        if quote is not None and not message:
            try:
                exchange.check_tender(order, want.tender, quote.charged)
            except OrderError as exc:
                tender_problem = exc.detail
    elif step == "confirm" and not message:
        message, status = _("Choose the item the customer takes instead."), 400
    if step == "confirm" and not message and quote is not None:
        try:
            ret, created = exchange.exchange_at_counter(
                order=order,
                asks=form.asks,
                store=store,
                by=request.user,
                return_ref=form.cleaned_data["return_ref"],
                want=want,
                refund_to=form.cleaned_data["refund_to"],
            )
        except OrderError as exc:
            message, status = exc.detail, exc.status
        else:
            if created:
                messages.success(
                    request,
                    _("Exchanged. The new order is %(ref)s.")
                    % {"ref": ret.exchange_order.order_ref if ret.exchange_order_id else "—"},
                )
            return redirect("returns_store:detail", pk=ret.pk)
    context = _nav(
        {
            "store": store,
            "order": order,
            "form": form,
            "xform": xform,
            "hidden": _hidden(ret_data),
            "returned": [(a.quantity, a.order_line) for a in form.asks],
            "rows": rows,
            "search_error": search_error,
            "chosen": chosen,
            "quote": quote,
            "sources": [
                (line, METHOD_LABELS.get(line.fulfilment, line.fulfilment))
                for line in (quote.plan.lines if quote else [])
            ],
            "message": message,
            "method": want.method,
            "tender": want.tender,
            "tender_problem": tender_problem,
            "refund_to": form.cleaned_data.get("refund_to"),
        }
    )
    return render(request, "returns/exchange.html", context, status=status)
