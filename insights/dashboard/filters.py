"""The dashboards' filters: a period of store-local days (with quick choices), a store,
a region (the stores of one country) and a channel. Anything unknown, reversed, in
the future or too long is a form error: the page says why and shows no figures."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from insights import dates
from insights.kpis import Scope
from orders.models import Channel
from retail.forms import PeriodFilterForm

DEFAULT_DAYS = 30
MAX_DAYS = 730  # two years: a year against the year before
#: No figures before this day (and a previous period, a year back, stays a real date).
EARLIEST = dt.date(2000, 1, 1)


@dataclass(frozen=True)
class RegionScope(Scope):
    """A scope over the stores of one region (`stores`: their ids) — what the KPI
    functions read through `Scope.days()`; orders with no store are in no region."""

    stores: tuple[int, ...] = ()
    region: str = ""

    def days(self, prefix: str = "") -> Q:
        q = Q(**{f"{prefix}day__gte": self.start, f"{prefix}day__lte": self.end})
        q &= Q(**{f"{prefix}store__in": self.stores})
        if self.channel:
            q &= Q(**{f"{prefix}channel": self.channel})
        return q


def year_before(day: dt.date) -> dt.date:
    """The first day of the 12 months ending on `day`."""
    year = day.year - 1
    same = dt.date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))
    return same + dt.timedelta(days=1)


def quick_periods(today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """(label, first day, last day) of the quick choices, each ending today."""
    return [
        (_("Last 7 days"), today - dt.timedelta(days=6), today),
        (_("Last 30 days"), today - dt.timedelta(days=29), today),
        (_("Last 90 days"), today - dt.timedelta(days=89), today),
        (_("Last 12 months"), year_before(today), today),
    ]


def previous(scope: Scope) -> Scope:
    """The period of the same length just before `scope`'s, with the same filters."""
    import dataclasses

    length = scope.end - scope.start
    end = scope.start - dt.timedelta(days=1)
    return dataclasses.replace(scope, start=end - length, end=end)


class DashboardForm(PeriodFilterForm):
    """HQ's filters; a store manager's form has only the period and the channel
    (`stores=None`: the store is theirs, fixed by the view). The period's first and
    last day, and its checks (reversed, too long), are `PeriodFilterForm`'s."""

    max_period_days = MAX_DAYS
    store = forms.ChoiceField(
        label=gettext_lazy("Store"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("That store code is unknown.")},
    )
    region = forms.ChoiceField(
        label=gettext_lazy("Region"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("That region is unknown.")},
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        choices=[("", gettext_lazy("Every channel")), *Channel.choices],
        required=False,
        error_messages={"invalid_choice": gettext_lazy("That channel is unknown.")},
    )

    def __init__(self, data=None, *, stores=None, store=None):
        """`stores`: the stores HQ may filter on (a queryset); or `store`: the one
        store of a manager's dashboard."""
        super().__init__(data)
        self.fixed_store = store
        self._latest_today: dt.date | None = None
        if stores is None:
            del self.fields["store"], self.fields["region"]
            self.stores = []
        else:
            self.stores = list(stores.order_by("code"))
            self.fields["store"].choices = [("", _("Every store"))] + [
                (s.code, f"{s.code} · {s.name}") for s in self.stores
            ]
            regions = sorted({s.country for s in self.stores if s.country})
            self.fields["region"].choices = [("", _("Every region"))] + [(r, r) for r in regions]

    def clean_store(self):
        code = self.cleaned_data.get("store")
        return next((s for s in self.stores if s.code == code), None)

    def today(self, store=None) -> dt.date:
        """The last day that is over or under way: the store's, else the latest among
        the reporting time zone and the stores' (a store east of HQ is a day ahead)."""
        if store is not None:
            return dates.today(store)
        if self._latest_today is None:
            zones = {s.time_zone: s for s in self.stores}.values()  # one store per zone
            self._latest_today = max([dates.today(), *(dates.today(s) for s in zones)])
        return self._latest_today

    def clean(self):
        data = self.cleaned_data
        if self.errors:
            return data
        store = self.fixed_store or data.get("store")
        region = data.get("region") or ""
        if store is not None and region and store.country != region:
            raise forms.ValidationError(_("That store is not in the region chosen."))
        today = self.today(store)
        end = data.get("end") or today
        if min(end, data.get("start") or end) < EARLIEST:
            raise forms.ValidationError(
                _("Choose a period from %(day)s on.") % {"day": EARLIEST.isoformat()}
            )
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if end > today:
            raise forms.ValidationError(
                _("The period ends in the future: the last day with figures is %(today)s.")
                % {"today": today.isoformat()}
            )
        data.update(start=start, end=end)
        data = super().clean()  # reversed or too long, now that both days are known
        channel = data.get("channel") or None
        if region and store is None:
            ids = tuple(s.pk for s in self.stores if s.country == region)
            data["scope"] = RegionScope(start, end, None, channel, stores=ids, region=region)
        else:
            data["scope"] = Scope(start, end, store, channel)
        # The fields show the period the figures are for (the default one too).
        self.data.update(start=start.isoformat(), end=end.isoformat())
        return data


def form_for(request, *, stores=None, store=None) -> DashboardForm:
    """The filters from the query string, empty values left out."""
    params = {k: v for k, v in request.GET.items() if v != "" and k != "format"}
    return DashboardForm(params, stores=stores, store=store)
