"""A dashboard's figures for one scope: the KPI functions it reads, each run once and
only when a headline or a table asks for it (a CSV of one table computes only its own)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language

from insights import kpis, rollups
from insights.dashboard.filters import RegionScope, previous
from insights.dashboard.headlines import SPECS, Headline, notes, ready_hours
from insights.dashboard.tables import TABLES, Table, table_keys

#: The KPI functions the dashboards read.
KPIS = (
    "revenue",
    "store_influenced_online",
    "fulfilment_mix",
    "conversion",
    "clv",
    "loyalty",
    "fulfilment",
    "returns",
    "webrooming",
    "showrooming",
    "segments",
    "appointments",
)
#: The KPIs a store's dashboard leaves out: customers belong to the network, not a store.
NETWORK_ONLY = ("conversion", "clv", "loyalty", "segments")


class Figures(dict):
    """KPI name -> `kpis.KPIS[name](scope)`, computed on first use and kept; "ready"
    is `ready_hours(scope)`. Only the `names` given may be asked for."""

    def __init__(self, scope: kpis.Scope, names: tuple[str, ...]):
        super().__init__()
        self.scope = scope
        self.names = names

    def __missing__(self, name: str):
        if name != "ready" and name not in self.names:
            raise KeyError(name)
        value = kept(
            self._cache_key(name),
            lambda: ready_hours(self.scope) if name == "ready" else kpis.KPIS[name](self.scope),
        )
        self[name] = value
        return value

    def _cache_key(self, name: str) -> str:
        return cache_key("fig", name, self.scope)


def cache_key(kind: str, name: str, scope: kpis.Scope, *extra) -> str:
    """Where something computed from `scope`'s rollups is kept until their next
    generation; "" when the dashboards compute every time. Labels are in the reader's
    language, so the language is part of the key; `extra`: whatever else shapes it."""
    if settings.AISLE_INSIGHTS_CACHE_SECONDS <= 0:
        return ""
    parts = (
        scope.start,
        scope.end,
        getattr(scope.store, "pk", None),
        scope.channel or "",
        tuple(sorted(getattr(scope, "stores", None) or ())),
        get_language(),
        *extra,
    )
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"insights:{kind}:{rollups.generation()}:{name}:{digest}"


def kept(key: str, make):
    """`make()`, or what it gave last time under `key` (kept while the figures are)."""
    value = cache.get(key) if key else None
    if value is None:
        value = make()
        if key:
            cache.set(key, value, settings.AISLE_INSIGHTS_CACHE_SECONDS)
    return value


class Dashboard:
    """The figures of one scope (and of its previous period, for the headlines), each
    computed once when first asked for. `network`: HQ's version (with the customers'
    figures); `store_names`: code -> name of the stores in the scope."""

    def __init__(self, scope: kpis.Scope, *, network: bool, store_names: dict | None = None):
        self.scope = scope
        self.network = network
        self.store_names = store_names or {}
        self.names = tuple(n for n in KPIS if network or n not in NETWORK_ONLY)
        self.figures = Figures(scope, self.names)
        self._headlines: list[Headline] | None = None

    @property
    def headlines(self) -> list[Headline]:
        if self._headlines is None:
            before = Figures(previous(self.scope), self.names)
            explained = notes(self.figures)
            self._headlines = [
                Headline(
                    key=spec.key,
                    label=str(spec.label),
                    kind=spec.kind,
                    value=spec.value(self.figures),
                    previous=spec.value(before),
                    definition=str(kpis.DEFINITIONS[spec.kpi]),
                    network_wide=spec.network_wide,
                    note=explained.get(spec.key, ""),
                )
                for spec in SPECS
                if spec.kpi in self.names
            ]
        return self._headlines

    def per_store_fulfilment(self) -> dict:
        per_store = self.figures["fulfilment"]
        if isinstance(self.scope, RegionScope):
            per_store = {c: f for c, f in per_store.items() if c in self.store_names}
        return per_store

    def table(self, key: str) -> Table:
        return TABLES[key][0](self)

    def tables(self) -> list[Table]:
        return [self.table(key) for key in table_keys(network=self.network) if key != "headlines"]
