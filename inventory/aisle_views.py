"""The endless aisle on the tablet (`/store/aisle/`): search the whole catalog as
you type, then one product's availability across the network."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from inventory import aisle
from inventory.network import nearby_km
from retail.access import Area, area_required
from retail.views import store_or_choose


class AisleSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search the catalog"),
        required=False,
        max_length=aisle.MAX_QUERY,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Name, brand, SKU, barcode, size or colour"),
                "autocomplete": "off",
                "autofocus": True,
            }
        ),
    )
    category = forms.CharField(label=_("Category"), required=False, max_length=50)
    brand = forms.CharField(label=_("Brand"), required=False, max_length=100)
    size = forms.CharField(label=_("Size"), required=False, max_length=20)
    colour = forms.CharField(label=_("Colour"), required=False, max_length=40)
    here = forms.BooleanField(label=_("On the shelf here"), required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def __init__(self, *args, options, **kwargs):
        super().__init__(*args, **kwargs)
        # Checked against the catalog's own lists (not as choices: building a few
        # hundred choices on every keystroke costs more than the search).
        self.allowed = {
            "category": {code for code, _name in options.categories},
            "brand": set(options.brands),
            "size": set(options.sizes),
            "colour": set(options.colours),
        }

    def clean(self):
        data = super().clean()
        for name, allowed in self.allowed.items():
            if data.get(name) and data[name] not in allowed:
                self.add_error(name, _("There is no such choice in the catalog."))
        return data

    def filters(self) -> aisle.Filters:
        data = self.cleaned_data
        return aisle.Filters(
            category=data["category"],
            brand=data["brand"],
            size=data["size"],
            colour=data["colour"],
            here_only=data["here"],
        )

    def wants_results(self) -> bool:
        data = self.cleaned_data
        return bool(
            data["q"].strip()
            or data["category"]
            or data["brand"]
            or data["size"]
            or data["colour"]
            or data["here"]
        )


@area_required(Area.STORE)
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    index = aisle.search_options()
    form = AisleSearchForm(request.GET or None, options=index)
    page, error, status = None, None, 200
    if form.is_bound and form.is_valid() and form.wants_results():
        try:
            page = aisle.catalog_search(
                query=form.cleaned_data["q"],
                store=store,
                filters=form.filters(),
                page=form.cleaned_data["page"] or 1,
            )
        except aisle.SearchError as exc:
            error, status = str(exc), 400
    elif form.is_bound and not form.is_valid():
        status = 400
    context = {
        "store": store,
        "nav": "aisle",
        "form": form,
        "options": index,
        "page": page,
        "error": error,
        "query_string": _query_without_page(request),
        "cards": index.rendered.setdefault(("cards", translation.get_language()), {}),
    }
    template = "inventory/aisle/search.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context, status=status)


def _back_to_search(request: HttpRequest) -> str:
    """The search the associate came from (its query string), when they came from one."""
    referer = urlsplit(request.headers.get("Referer", ""))
    same_site = not referer.netloc or referer.netloc == request.get_host()
    if same_site and referer.path == reverse("aisle:search") and referer.query:
        return "?" + referer.query
    return ""


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@area_required(Area.STORE)
@require_GET
def product(request: HttpRequest, style_code: str) -> HttpResponse:
    store, choose = store_or_choose(request)
    if choose:
        return choose
    entry = aisle.product_by_style(style_code)
    if entry is None:
        raise Http404(_("This product is not in the catalog, or no longer sold."))
    rows = aisle.product_availability(product=entry, store=store)
    context = {
        "store": store,
        "nav": "aisle",
        "product": entry,
        "rows": rows,
        "nearby_km": nearby_km(),
        "back": _back_to_search(request),
        "nonce": uuid.uuid4().hex,  # one per page: a double tap on "Add" adds once
    }
    return render(request, "inventory/aisle/product.html", context)
