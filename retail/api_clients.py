"""API clients: their keys are made here, shown once, and stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from retail.models import ApiClient, default_api_channels, validate_scopes

KEY_PREFIX_LENGTH = 8


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> tuple[str, str]:
    prefix = secrets.token_hex(KEY_PREFIX_LENGTH // 2)
    return prefix, f"aisle_{prefix}_{secrets.token_urlsafe(32)}"


def split_key(key: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "aisle" or len(parts[1]) != KEY_PREFIX_LENGTH:
        return None
    return parts[1]


@transaction.atomic
def api_client_create(
    *,
    name: str,
    scopes: list[str],
    rate_limit: str = "100/s",
    webhook_url: str = "",
    channels: list[str] | None = None,
) -> tuple[ApiClient, str]:
    """Create a client; returns it and its key, which is never stored. `channels`: the
    order channels it may place orders in (default: web, app and social)."""
    validate_scopes(scopes)
    prefix, key = _new_key()
    client = ApiClient(
        name=name,
        scopes=sorted(set(scopes)),
        key_prefix=prefix,
        key_hash=key_hash(key),
        rate_limit=rate_limit,
        webhook_url=webhook_url,
        webhook_secret=secrets.token_urlsafe(32) if webhook_url else "",
        channels=sorted(set(channels)) if channels is not None else default_api_channels(),
    )
    client.full_clean()
    client.save()
    return client, key


@transaction.atomic
def api_client_rotate(*, client: ApiClient) -> str:
    """A new key for the client; the old one stops working at once."""
    old_prefix = client.key_prefix
    prefix, key = _new_key()
    client.key_prefix, client.key_hash, client.rotated_at = prefix, key_hash(key), timezone.now()
    client.save(update_fields=["key_prefix", "key_hash", "rotated_at"])
    forget(old_prefix)
    return key


def api_client_deactivate(*, client: ApiClient) -> None:
    ApiClient.objects.filter(pk=client.pk).update(is_active=False)
    forget(client.key_prefix)


def forget(prefix: str) -> None:
    """Drop a client from the authentication cache (after commit, so no request
    caches the old row again in between)."""
    from django.core.cache import cache

    def drop():
        cache.delete(f"aisle:apiclient:{prefix}")

    drop()
    transaction.on_commit(drop)
