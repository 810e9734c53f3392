"""API clients: made by a command or in admin; the key is shown once and kept hashed."""

import hashlib

import pytest
from django.core.management import CommandError, call_command

from retail.models import ApiClient
from tests.retail.api.conftest import ApiClientHelper

pytestmark = pytest.mark.django_db


def test_command_prints_the_key_alone_on_its_last_line(capsys):
    call_command("create_api_client", "web-shop", "--scopes", "customers:read", "orders:write")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    client = ApiClient.objects.get(name="web-shop")
    assert key.startswith(f"aisle_{client.key_prefix}_")
    assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(ApiClient.objects.values())
    assert client.scopes == ["customers:read", "orders:write"]
    assert ApiClientHelper(key).get("/api/v1/customers/NONE/").status_code == 404


def test_command_refuses_an_unknown_scope_and_writes_nothing():
    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("create_api_client", "x", "--scopes", "everything")
    assert not ApiClient.objects.exists()


def test_hq_rotates_a_key_in_admin_and_the_old_one_stops(hq_client, capsys):
    call_command("create_api_client", "app", "--scopes", "customers:read")
    old_key = capsys.readouterr().out.strip().splitlines()[-1]
    client = ApiClient.objects.get()
    response = hq_client.post(
        "/admin/retail/apiclient/",
        {"action": "rotate_keys", "_selected_action": [client.pk]},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    new_key = messages[0].rsplit(" ", 1)[-1]
    assert ApiClientHelper(old_key).get("/api/v1/customers/X/").status_code == 401
    assert ApiClientHelper(new_key).get("/api/v1/customers/X/").status_code == 404
    hq_client.post(
        "/admin/retail/apiclient/",
        {"action": "deactivate_clients", "_selected_action": [client.pk]},
    )
    assert ApiClientHelper(new_key).get("/api/v1/customers/X/").status_code == 401
