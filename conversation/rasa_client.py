"""The Rasa REST channel, over HTTP only (Rasa lives in its own Python 3.10 environment).

Several Rasa servers share one SQL tracker store. Each conversation is pinned to one
server by a consistent hash of its pseudonymous sender id, and moves to the next server
on the ring only while its own is down: connection refused, or a timeout or 5xx answer
confirmed by a failed health probe. A down server is marked in Redis for
RASA_DOWN_SECONDS, so every process routes around it; after that it gets its
conversations back. Rasa's Redis lock store is not atomic across servers and polls in
1 s steps, so one server per conversation (and the per-patient lock in
conversation/ordering.py, one turn at a time) is what keeps turns whole and in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, cast

import requests
from redis import Redis
from redis.exceptions import RedisError

from conversation.hashring import HashRing

log = logging.getLogger(__name__)
PROBE_TIMEOUT = 2.0


class RasaUnavailable(Exception):
    """Rasa did not answer, or answered with an error; the turn is retried later."""


def down_key(url: str) -> str:
    return f"medfollow:rasa:down:{url}"


class RasaServers:
    """The Rasa servers, the ring that pins conversations to them, and their down marks."""

    def __init__(self, urls: Sequence[str], redis: Redis, down_seconds: float) -> None:
        self.ring = HashRing(urls)
        self.redis = redis
        self.down_ms = max(1, int(down_seconds * 1000))

    def order(self, sender: str) -> list[str]:
        """The servers to try for `sender`: its own first, skipping any marked down
        (all of them, in ring order, if every one is marked down)."""
        prefs = self.ring.preference(sender)
        if len(prefs) == 1:
            return prefs
        try:
            marks = cast(list[bytes | None], self.redis.mget([down_key(u) for u in prefs]))
        except RedisError:  # the marks only save time; the ring alone still routes
            return prefs
        return [u for u, m in zip(prefs, marks, strict=True) if m is None] or prefs

    def mark_down(self, url: str, why: str) -> None:
        log.warning("Rasa server %s is down (%s); its conversations move on", url, why)
        try:
            self.redis.set(down_key(url), why, px=self.down_ms)
        except RedisError:
            pass

    def healthy(self, url: str) -> bool:
        """Rasa's health endpoint answers below 500 within PROBE_TIMEOUT."""
        try:
            return requests.get(f"{url}/", timeout=PROBE_TIMEOUT).status_code < 500
        except requests.RequestException:
            return False


def exchange(
    servers: RasaServers, sender: str, send: Callable[[str], requests.Response]
) -> requests.Response:
    """Send one request for `sender` to its server, moving on only from a server that is down."""
    for url in servers.order(sender):
        try:
            resp = send(url)
        except requests.ConnectionError as exc:  # refused, reset, or no connection in time
            servers.mark_down(url, type(exc).__name__)
            continue
        except requests.RequestException as exc:  # a read timeout: busy, or hung?
            if servers.healthy(url):
                raise RasaUnavailable(f"Rasa unreachable: {type(exc).__name__}") from None
            servers.mark_down(url, type(exc).__name__)
            continue
        if resp.status_code >= 500 and not servers.healthy(url):
            servers.mark_down(url, f"HTTP {resp.status_code}")
            continue
        return resp
    raise RasaUnavailable("no Rasa server answered")


def bot_texts(payload: Any) -> list[str]:
    """The texts of every message Rasa returned, in order (buttons listed as text)."""
    if not isinstance(payload, list):
        raise RasaUnavailable("Rasa returned an unexpected body")
    texts = []
    for item in payload:
        if not isinstance(item, dict):
            continue
        text = str(item.get("text") or "").strip()
        buttons = [
            str(b.get("title", "")) for b in item.get("buttons") or [] if isinstance(b, dict)
        ]
        if buttons:
            text = f"{text} ({' / '.join(b for b in buttons if b)})".strip()
        if text:
            texts.append(text)
    return texts


def converse(
    servers: RasaServers, sender: str, text: str, metadata: dict[str, Any], timeout: float
) -> list[str]:
    """Send one patient message to Rasa under a pseudonymous sender id; return its replies."""
    resp = exchange(
        servers,
        sender,
        lambda url: requests.post(
            f"{url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata},
            timeout=timeout,
        ),
    )
    if not 200 <= resp.status_code < 300:
        raise RasaUnavailable(f"Rasa answered HTTP {resp.status_code}")
    try:
        return bot_texts(resp.json())
    except ValueError:
        raise RasaUnavailable("Rasa returned a body that is not JSON") from None


def trigger(
    servers: RasaServers,
    token: str,
    sender: str,
    intent: str,
    entities: dict[str, str],
    timeout: float,
) -> list[str]:
    """Start a bot-initiated turn (a check-in) with Rasa's trigger_intent; return its texts."""
    resp = exchange(
        servers,
        sender,
        lambda url: requests.post(
            f"{url}/conversations/{sender}/trigger_intent",
            params={"output_channel": "collector", "token": token},
            json={"name": intent, "entities": entities},
            timeout=timeout,
        ),
    )
    if not 200 <= resp.status_code < 300:
        raise RasaUnavailable(f"Rasa answered HTTP {resp.status_code}")
    try:
        body = resp.json()
    except ValueError:
        raise RasaUnavailable("Rasa returned a body that is not JSON") from None
    return bot_texts(body.get("messages") if isinstance(body, dict) else None)
