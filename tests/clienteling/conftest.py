import datetime as dt
import json
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories


class Api:
    def __init__(self, key):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Token {key}"}

    def post(self, url, body, content_type="application/json"):
        data = body if isinstance(body, str | bytes) else json.dumps(body, default=str)
        return self.client.post(url, data, content_type=content_type, **self.headers)


@pytest.fixture
def events_api(db):
    _client, key = factories.api_client("events:write", rate="100000/s")
    return Api(key)


def event(kind="product_view", *, sku="SKU-1", when=None, **fields):
    body = {
        "event_id": str(fields.pop("event_id", uuid.uuid4())),
        "occurred_at": (when or timezone.now() - dt.timedelta(minutes=5)).isoformat(),
        "kind": kind,
        "channel": fields.pop("channel", "web"),
    }
    if kind == "search":
        body["query"] = fields.pop("query", "linen shirt")
    else:
        body["sku"] = sku
    body.update(fields)
    if "anonymous_id" not in body and "customer_ref" not in body:
        body["anonymous_id"] = "visitor-1"
    return body
