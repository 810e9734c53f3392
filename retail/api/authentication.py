"""`Authorization: Token <key>`: one indexed query by prefix, a constant-time hash check."""

from __future__ import annotations

import datetime as dt
import hmac

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from retail.api_clients import key_hash, split_key
from retail.models import ApiClient

LAST_USED_EVERY = dt.timedelta(minutes=1)
# Every API call needs its client: the row is kept in the cache for a few seconds.
# Rotating or deactivating a client deletes the entry (`retail.api_clients`), which
# takes effect at once with the shared Redis cache of a deployment.
CACHE_SECONDS = 10
CLIENT_BY_PREFIX = (
    "SELECT id, key_prefix, key_hash, is_active, scopes, channels, rate_limit, last_used_at "
    "FROM retail_apiclient WHERE key_prefix = %s"
)


def cache_key(prefix: str) -> str:
    return f"aisle:apiclient:{prefix}"


def client_by_prefix(prefix: str) -> ApiClient | None:
    """The client with this key prefix: from the cache, else one indexed query."""
    client = cache.get(cache_key(prefix))
    if client is None:
        found = list(ApiClient.objects.raw(CLIENT_BY_PREFIX, [prefix]))
        client = found[0] if found else False
        cache.set(cache_key(prefix), client, CACHE_SECONDS)
    return client or None


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Write the header as: Token <key>."))
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("The key is not valid.")) from None
        prefix = split_key(key)
        client = client_by_prefix(prefix) if prefix else None
        if (
            client is None
            or not client.is_active
            or not hmac.compare_digest(client.key_hash, key_hash(key))
        ):
            raise exceptions.AuthenticationFailed(_("The key is not valid or was revoked."))
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at > LAST_USED_EVERY:
            # Written at most once a minute, not on every request.
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
            cache.set(cache_key(prefix), client, CACHE_SECONDS)
        return client, client

    def authenticate_header(self, request):
        return self.keyword


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "retail.api.authentication.TokenAuthentication"
    name = "TokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`, the key printed by `manage.py create_api_client`.",
        }
