"""System checks for Aisle's deployment (`manage.py check --deploy`) and for its network
(every store inside the currency's zone)."""

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError

from retail.geography import configured_countries, network_countries
from retail.validators import validate_country_served

LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
)


@register("security", "caches")
def rate_limits_shared(app_configs=None, **kwargs):
    """Rate limits (sign-in, password reset, pickup codes) count in the cache: with
    DEBUG off and several processes, a per-process cache would let each count alone."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.DEBUG or settings.AISLE_WEB_CONCURRENCY <= 1 or backend not in LOCAL_CACHES:
        return []
    return [
        Error(
            "Rate limits need a shared cache: WEB_CONCURRENCY is "
            f"{settings.AISLE_WEB_CONCURRENCY} but the cache is per process ({backend}).",
            hint="Set CACHE_URL to Redis (redis://…), or run one process.",
            id="aisle.E016",
        )
    ]


@register()
def currency_zone_known(app_configs=None, **kwargs):
    """With a currency whose countries Aisle does not know and no AISLE_COUNTRIES, no
    country can be refused: say so rather than let any country in silently."""
    if network_countries():
        return []
    return [
        Warning(
            f"Aisle does not know which countries use {settings.AISLE_CURRENCY!r}, so it "
            "accepts stores and locations in any country.",
            hint="Set AISLE_COUNTRIES to the countries the network serves (e.g. FR,DE,NL).",
            id="aisle.W018",
        )
    ]


@register(Tags.database)
def network_inside_currency_zone(app_configs=None, databases=None, **kwargs):
    """Every store and every active stock location lies in a country the network serves
    (the currency's zone, or AISLE_COUNTRIES): prices in one currency mean nothing
    across its border. It looks at every model whose country field carries
    `validate_country_served`, so retail needs no import of the apps above it. Runs
    with the database checks (`check --database default`, `migrate`)."""
    served = network_countries()
    if not databases or "default" not in databases or not served:
        return []
    warnings = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if validate_country_served not in field.validators:
                continue
            names = {f.name for f in model._meta.concrete_fields}
            rows = model._default_manager.exclude(**{f"{field.name}__in": [*served, ""]})
            if "active" in names:
                rows = rows.filter(active=True)
            key = "code" if "code" in names else "pk"
            try:
                outside = list(rows.order_by(key).values_list(key, field.name)[:11])
                count = rows.count() if len(outside) > 10 else len(outside)
            except DatabaseError:  # not migrated yet: nothing to look at
                return []
            if not outside:
                continue
            listed = ", ".join(f"{code} ({country})" for code, country in outside[:10])
            warnings.append(
                Warning(
                    f"{count} {model._meta.verbose_name_plural} outside the countries the "
                    f"network serves ({_zone_name()}): {listed}"
                    + (", …" if count > 10 else "")
                    + ".",
                    hint="Move or close them, or set AISLE_COUNTRIES to serve their countries.",
                    obj=model,
                    id="aisle.W017",
                )
            )
    return warnings


def _zone_name() -> str:
    if configured_countries():
        return "AISLE_COUNTRIES " + ",".join(sorted(configured_countries()))
    return f"the {settings.AISLE_CURRENCY} zone"
