"""API errors: JSON bodies with a stable `code` and a plain `message`, for every status."""

from __future__ import annotations

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException

# The stable codes clients can branch on, by HTTP status (a route may use a more precise
# code of its own, e.g. alert_state for a 409).
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
}


class ApiError(Exception):
    """An answer other than success: status, stable code, message, extra headers."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"no {what} with that id")


def error_response(err: ApiError) -> tuple[Response, int]:
    response = jsonify(code=err.code, message=err.message)
    for name, value in err.headers.items():
        response.headers[name] = value
    return response, err.status


def from_http(exc: HTTPException) -> ApiError:
    """Werkzeug's own errors (unknown path, wrong method, body too large) as API errors."""
    status = exc.code or 500
    headers = {}
    if status == 405:
        allowed = [h for h in exc.get_headers() if h[0] == "Allow"]
        headers = dict(allowed)
    message = (exc.description or exc.name).strip()
    return ApiError(status, CODES.get(status, "error"), message, headers)
