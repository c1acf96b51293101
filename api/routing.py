"""The API blueprint and its registry: `@operation(...)` declares a route once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response

from api.dispatch import Handler, run
from api.errors import ApiError, error_response
from api.registry import Operation, Registry

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)
REGISTRY = Registry(bp)
log = logging.getLogger(__name__)


def operation(method: str, path: str, **declared: Any) -> Callable[[Handler], Handler]:
    """Declare an authenticated operation; the handler gets a Call and the path params."""

    def register(handler: Handler) -> Handler:
        op = Operation(method=method, path=path, name=handler.__name__, **declared)

        def view(**params: Any) -> Response | tuple[Response, int]:
            try:
                return run(op, handler, params)
            except ApiError as err:
                return error_response(err)

        REGISTRY.add(op, view)
        return handler

    return register


def public(method: str, path: str, **declared: Any) -> Callable[[Handler], Handler]:
    """Declare an operation that needs no token (the OpenAPI document)."""

    def register(handler: Handler) -> Handler:
        op = Operation(method=method, path=path, name=handler.__name__, scope=None, **declared)
        REGISTRY.add(op, handler)
        return handler

    return register


@bp.errorhandler(Exception)
def unexpected(exc: Exception) -> tuple[Response, int]:
    """Anything a handler did not expect: logged with its traceback, a JSON 500 out."""
    from werkzeug.exceptions import HTTPException

    from api.errors import from_http

    if isinstance(exc, HTTPException):
        return error_response(from_http(exc))
    log.exception("API request failed")
    return error_response(ApiError(500, "internal_error", "something went wrong on our side"))
