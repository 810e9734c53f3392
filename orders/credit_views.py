"""Store credit on the tablet: the customer page's section (registered in `apps.py`)."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from orders import credit

#: The section changes only with a new entry (the ledger is append-only); the page asks
#: this in its one query and keeps the render (`retail.customer_page`).
CUSTOMER_SECTION_VERSIONS = (
    "SELECT MAX(e.id) FROM orders_storecreditentry e"
    " JOIN orders_storecredit a ON a.id = e.account_id WHERE a.customer_id = %(c)s",
)
CUSTOMER_SECTION_SECONDS = 600


def customer_section(request, customer, store) -> SafeString:
    """The balance and the latest entries, one query. The customer page has checked
    access and written the audit row before it renders its sections."""
    entries = credit.credit_history(customer)
    with timezone.override(store.tz):
        return render_to_string(
            "orders/_store_credit.html",
            {
                "customer": customer,
                "entries": entries,
                "balance": entries[0].balance_after if entries else credit.ZERO,
                "currency": settings.AISLE_CURRENCY,
            },
        )
