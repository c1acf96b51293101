"""Pages by signed webhook: one JSON POST per page, for a pager service or an on-call bot.

The request (what a receiver gets):

    POST <url>
    Content-Type: application/json
    X-Medfollow-Timestamp: 1767225600
    X-Medfollow-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">

    {"code": "7KQ2ZD", "tier": "urgent", "summary": "...", "patient_ref": "A.D. #12",
     "deadline": "2026-01-01T00:15:00+00:00", "sent_at": "2026-01-01T00:00:00+00:00"}

A receiver checks it with `verify_signature` (or the same few lines in its own
language) over the raw body bytes, before parsing them:

    ok = verify_signature(secret, request.headers["X-Medfollow-Timestamp"],
                          request.get_data(), request.headers["X-Medfollow-Signature"],
                          now=time.time())

The timestamp is inside the signed text, so a captured request cannot be replayed
after `tolerance` seconds. A 2xx answer may carry {"id": ...}, kept as the provider's
id. 408, 429 and 5xx are retried; other 4xx (and 3xx: redirects are not followed, so
the signed body never goes to a host nobody configured) are permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import requests

from escalation.notifiers.base import NotifyError, Page
from medfollow.settings import Settings

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Medfollow-Timestamp"
SIGNATURE_HEADER = "X-Medfollow-Signature"
RETRY_STATUSES = frozenset({408, 429})


class WebhookNotifier:
    """POSTs a signed JSON page to `to`, or to PAGER_WEBHOOK_URL when `to` is empty."""

    channel: str = "webhook"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def notify(self, page: Page, to: str) -> str:
        url = to or self.settings.pager_webhook_url
        secret = self.settings.pager_webhook_secret.reveal()
        if not url:
            raise NotifyError("no webhook URL (PAGER_WEBHOOK_URL) set", permanent=True)
        if not secret:
            # Unsigned pages would teach receivers to skip the check.
            raise NotifyError("no webhook secret (PAGER_WEBHOOK_SECRET) set", permanent=True)
        sent_at = datetime.now(UTC)
        body = json.dumps(payload(page, sent_at), separators=(",", ":")).encode()
        timestamp = str(int(sent_at.timestamp()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        }
        response = post(url, body, headers, self.settings.notify_timeout)
        check_status(response.status_code)
        page_id = response_id(response)
        log.info("webhook page %s accepted as %s", page.code, page_id)
        return page_id


def payload(page: Page, sent_at: datetime) -> dict[str, str]:
    return {
        "code": page.code,
        "tier": page.tier,
        "summary": page.summary,
        "patient_ref": page.patient_ref,
        "deadline": page.deadline.isoformat(),
        "sent_at": sent_at.isoformat(),
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify_signature(
    secret: str, timestamp: str, body: bytes, header: str, *, now: float, tolerance: int = 300
) -> bool:
    """True when `header` signs `timestamp` and the raw `body` with `secret`, and the
    timestamp is within `tolerance` seconds of `now` (either side, for clock skew).

    For receivers: pass the X-Medfollow-Timestamp and X-Medfollow-Signature headers as
    received and the body bytes before any JSON parsing. The comparison is constant-time.
    """
    if not secret:
        return False
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    expected = sign(secret, timestamp, body).encode()
    return hmac.compare_digest(expected, header.encode("utf-8", "replace"))


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> requests.Response:
    # Messages name the exception type only: webhook URLs often hold a token.
    try:
        return requests.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False
        )
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise NotifyError(f"webhook unreachable: {type(exc).__name__}") from None
    except requests.RequestException as exc:  # a malformed URL, an unsupported scheme
        raise NotifyError(
            f"webhook request invalid: {type(exc).__name__}", permanent=True
        ) from None


def check_status(status: int) -> None:
    if 200 <= status < 300:
        return
    transient = status >= 500 or status in RETRY_STATUSES
    raise NotifyError(f"webhook answered HTTP {status}", permanent=not transient)


def response_id(response: requests.Response) -> str:
    """The receiver's id for the page if its JSON answer has one, else a fresh uuid."""
    try:
        data: Any = response.json()
    except ValueError:  # requests' JSONDecodeError is a ValueError
        data = None
    if isinstance(data, dict) and isinstance(data.get("id"), str | int) and data["id"] != "":
        return str(data["id"])
    return uuid.uuid4().hex
