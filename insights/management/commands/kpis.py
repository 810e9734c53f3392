"""`manage.py kpis [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--store CODE] [--refresh]`:
every KPI and segment for the period as one JSON document (money as strings with two
decimals, rates as numbers, segment values as customer counts)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from insights import incentives, kpis, rollups
from insights.dates import today
from retail.models import Store


def plain(value):
    """JSON-ready: Decimal → "0.00", dates → ISO, containers walked."""
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01')):.2f}"
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("%(option)s must be a date written YYYY-MM-DD, not %(text)r.")
            % {"option": option, "text": text}
        ) from None


def document(scope: kpis.Scope) -> dict:
    """The JSON document `kpis` prints (the same numbers the dashboards show)."""
    revenue = kpis.revenue(scope)
    returns = kpis.returns(scope)
    segment_figures = kpis.segments(scope)
    doc = {
        "period": {"from": scope.start, "to": scope.end},
        "store": scope.store.code if scope.store is not None else None,
        "currency": settings.AISLE_CURRENCY,
        "revenue": {
            "total": revenue["total"],
            "by_channel": revenue["by_channel"],
            "by_store": revenue["by_store"],
            "sales": revenue["sales"],
            "returns_refunded": revenue["returns_refunded"],
        },
        "returns": returns,
        "segments": {name: figures["customers"] for name, figures in segment_figures.items()},
        "segment_figures": segment_figures,
    }
    for name, function in kpis.KPIS.items():
        if name not in doc:
            doc[name] = function(scope)
    doc["incentives"] = [
        {
            "associate": item.email,
            "store": item.store,
            "total": item.total,
            "parts": item.parts,
        }
        for item in incentives.incentives(scope)
    ]
    return plain(doc)


class Command(BaseCommand):
    help = "Print every KPI and segment for a period as one JSON document."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="First day, YYYY-MM-DD (default today).")
        parser.add_argument("--to", dest="end", help="Last day, YYYY-MM-DD (default today).")
        parser.add_argument("--store", help="One store's figures, by its code.")
        parser.add_argument(
            "--refresh", action="store_true", help="Bring the rollups up to date first."
        )

    def handle(self, *args, **options):
        store = None
        if options["store"]:
            store = Store.objects.filter(code=options["store"].strip().upper()).first()
            if store is None:
                raise CommandError(
                    _("There is no store with the code %(code)s.") % {"code": options["store"]}
                )
        now = today(store)
        start = _date(options["start"], "--from") if options["start"] else None
        end = _date(options["end"], "--to") if options["end"] else None
        end = end or (start if start and start > now else now)
        start = start or (end if end < now else now)
        if start > end:
            raise CommandError(
                _("The period is reversed: --from %(start)s is after --to %(end)s.")
                % {"start": start, "end": end}
            )
        if end > now:
            raise CommandError(
                _("The period is in the future: today is %(today)s.") % {"today": now}
            )
        if options["refresh"]:
            # Progress (a first run builds everything) goes to stderr: stdout is the JSON.
            rollups.refresh(out=lambda text: self.stderr.write(text))
        scope = kpis.Scope(start=start, end=end, store=store)
        self.stdout.write(json.dumps(document(scope), ensure_ascii=False, indent=2))
