"""CSRF protection: a random token per session, sent back with every changing request.

Forms carry it as the hidden field `csrf_token`; scripts send the `X-CSRF-Token`
header. A request without it is refused with 400, a wrong one with 403.
"""

from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SESSION_KEY = "csrf"


def csrf_token() -> str:
    """This session's token (made on first use); templates call it as csrf_token()."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def check_csrf() -> None:
    """Abort a POST, PUT, PATCH or DELETE whose token is missing (400) or wrong (403)."""
    if request.method in SAFE_METHODS:
        return
    sent = request.form.get(FIELD) or request.headers.get(HEADER)
    if not sent:
        abort(400, "The form's security token is missing. Reload the page and try again.")
    expected = session.get(SESSION_KEY)
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        abort(403, "The form's security token is not valid. Reload the page and try again.")
