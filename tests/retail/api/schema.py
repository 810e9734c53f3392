"""Validate real responses against the OpenAPI schema Aisle serves."""

from __future__ import annotations

import functools

import jsonschema
from django.test import Client


@functools.cache
def openapi() -> dict:
    response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    import yaml

    return yaml.safe_load(response.content)


def to_json_schema(node):
    """OpenAPI 3.0's `nullable: true` as JSON Schema's type union with null."""
    if isinstance(node, dict):
        node = {k: to_json_schema(v) for k, v in node.items()}
        if node.pop("nullable", False):
            if "type" in node:
                node["type"] = [node["type"], "null"]
            else:
                node = {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    return node


def operation(method: str, path: str) -> dict:
    return openapi()["paths"][path][method.lower()]


def assert_matches_schema(response, method: str, path: str) -> None:
    """The response's body conforms to what the schema says for its status."""
    spec = openapi()
    responses = operation(method, path)["responses"]
    assert str(response.status_code) in responses, (
        f"{method} {path} answered {response.status_code}, not documented"
    )
    content = responses[str(response.status_code)].get("content", {})
    schema = content["application/json"]["schema"]
    resolver_schema = to_json_schema({"components": spec["components"], **schema})
    jsonschema.validate(response.json(), resolver_schema)


def operations():
    """Every (method, path) of the schema."""
    for path, methods in openapi()["paths"].items():
        for method in methods:
            if method in ("get", "put", "post", "patch", "delete"):
                yield method.upper(), path
