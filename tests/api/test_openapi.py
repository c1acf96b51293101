"""The OpenAPI document matches the routes: every /api/v1 route is in it, and only those."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from api.routing import PREFIX


def routes(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            found.add((method.lower(), path))
    return found


def test_it_documents_every_api_route_and_nothing_else(app: Flask, client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").json
    assert doc is not None and doc["openapi"].startswith("3.1")
    documented = {(m, p) for p, item in doc["paths"].items() for m in item}
    assert documented == routes(app)
    assert len(documented) >= 14


def test_it_requires_a_scoped_token_for_everything_but_the_document(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").json
    assert doc is not None
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if path.endswith("/openapi.json"):
                assert op["security"] == []
                continue
            (requirement,) = op["security"]
            assert requirement["bearer"][0] in ("read", "write", "audit"), (method, path)
            assert {"401", "403", "429"} <= set(op["responses"]), (method, path)


def test_it_describes_error_bodies_with_a_stable_code(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").json
    assert doc is not None
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message"]
    limited = doc["paths"]["/api/v1/patients"]["get"]["responses"]["429"]
    assert "Retry-After" in limited["headers"]
