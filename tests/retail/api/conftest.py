import json

import pytest
from django.test import Client

from tests import factories


class ApiClientHelper:
    """A test client speaking JSON with a token."""

    def __init__(self, key: str | None):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Token {key}"} if key else {}

    def get(self, url, params=None):
        return self.client.get(url, params or {}, **self.headers)

    def put(self, url, body, content_type="application/json"):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.put(url, data, content_type=content_type, **self.headers)

    def post(self, url, body, content_type="application/json"):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(url, data, content_type=content_type, **self.headers)


@pytest.fixture
def api(db):
    """Call as api("scope", ...) for a JSON client whose key has those scopes."""

    def make(*scopes, rate="100/s"):
        _client, key = factories.api_client(*scopes, rate=rate)
        return ApiClientHelper(key)

    return make


@pytest.fixture
def anonymous_api(db):
    return ApiClientHelper(None)
