"""The OpenAPI 3.1 document, built from the registry and the pydantic models the routes
use: a route cannot exist without its entry, nor an entry without its route."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from api import schemas as s
from api.registry import INT_MAX, Operation
from api.routing import PREFIX, REGISTRY, public
from api.tokens import SCOPES

REF = "#/components/schemas/{model}"
REASONS = {
    200: "OK",
    201: "Created",
    400: "The input is invalid (code: invalid_query, invalid_body, invalid_json, ...)",
    401: "No token, or an unknown or revoked one",
    403: "The token lacks the scope this needs (code: insufficient_scope)",
    404: "Not found",
    409: "The current state does not allow it",
    413: "The body is larger than 64 KB",
    415: "The body is not JSON",
    429: "Too many requests for this token (see Retry-After)",
    500: "Our failure (logged)",
}
HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
    429: {
        "Retry-After": {
            "description": "Seconds until the token may call again.",
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
            "required": True,
        }
    },
}


def without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or has a value; it is never null."""
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1 and "anyOf" in schema:
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**options[0], **rest}
    return {k: v for k, v in schema.items() if k != "default" or v is not None}


def path_parameter(name: str) -> dict[str, Any]:
    if name.endswith("_id"):
        schema: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": INT_MAX}
    else:
        schema = {"type": "string", "pattern": "^[A-Za-z0-9]{1,12}$"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": without_null(prop),
        }
        if description:
            param["description"] = description
        params.append(param)
    return params


def json_content(schema: dict[str, Any], *media: str) -> dict[str, Any]:
    return {m: {"schema": schema} for m in media}


def responses(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    if op.response is not None:
        success = json_content(refs[(op.response, "serialization")], op.response_media)
    else:
        success = json_content(op.response_schema or {}, op.response_media)
    out: dict[str, Any] = {str(op.status): {"description": REASONS[op.status], "content": success}}
    error = json_content(refs[(s.Error, "serialization")], "application/json")
    for status in op.statuses():
        if status != op.status:
            out[str(status)] = {"description": REASONS[status], "content": error}
            if status in HEADERS:
                out[str(status)]["headers"] = HEADERS[status]
    return out


def operation_entry(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": [path_parameter(p) for p in op.path_params] + query_parameters(op.query),
        "responses": responses(op, refs),
        "security": [{"bearer": [op.scope]}] if op.scope else [],
    }
    if op.body is not None:
        body = json_content(refs[(op.body, "validation")], op.body_media)
        entry["requestBody"] = {"required": True, "content": body}
    elif op.body_schema is not None:
        body = json_content(op.body_schema, op.body_media, "application/json")
        entry["requestBody"] = {"required": True, "content": body}
    return entry


def build(operations: list[Operation]) -> dict[str, Any]:
    """The document for these operations."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(s.Error, "serialization")]
    for op in operations:
        if op.response is not None:
            models.append((op.response, "serialization"))
        if op.body is not None:
            models.append((op.body, "validation"))
    refs, defs = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(PREFIX + op.path, {})[op.method.lower()] = operation_entry(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "medfollow API",
            "version": "1.0.0",
            "description": "Patients, plans, messages, check-ins, scores, alerts and the "
            f"audit log. Bearer tokens with scopes: {', '.join(SCOPES)}.",
        },
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@public(
    "GET",
    "/openapi.json",
    summary="This document",
    tag="meta",
    response_schema={"type": "object", "required": ["openapi", "paths"]},
)
def openapi_document() -> ResponseReturnValue:
    return jsonify(build(REGISTRY.operations))
