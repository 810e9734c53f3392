"""Stores put at real places of the euro-area demo network, for sourcing tests."""

from decimal import Decimal

PLACES = {
    "Paris": ("75001", "48.860600", "2.337600", "FR", "Europe/Paris"),
    "Saint-Denis": ("93200", "48.936200", "2.357400", "FR", "Europe/Paris"),
    "Lyon": ("69002", "45.764000", "4.835700", "FR", "Europe/Paris"),
    "Berlin": ("10117", "52.520000", "13.405000", "DE", "Europe/Berlin"),
}


def place(store, city: str):
    """Move `store` to `city` (postcode, coordinates, country, time zone) and save it."""
    postcode, lat, lon, country, tz = PLACES[city]
    store.city, store.postcode, store.country, store.time_zone = city, postcode, country, tz
    store.latitude, store.longitude = Decimal(lat), Decimal(lon)
    store.save()
    return store
