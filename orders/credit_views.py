"""Store credit on the tablet: the customer page's section (registered in `apps.py`)."""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from orders import credit


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
