"""Mount the API on the Flask app."""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from api.errors import error_response, from_http


def register(app: Flask) -> None:
    # The modules below declare their operations on the blueprint when imported.
    from api import alerts, audit_log, fhir, openapi, patients  # noqa: F401
    from api.routing import bp

    app.register_blueprint(bp)


def http_error(exc: HTTPException) -> tuple[Response, int]:
    """Routing errors under /api/ (unknown path, wrong method) in the API's JSON shape."""
    return error_response(from_http(exc))
