"""The Rasa REST channel, over HTTP only (Rasa lives in its own Python 3.10 environment)."""

from __future__ import annotations

from typing import Any

import requests


class RasaUnavailable(Exception):
    """Rasa did not answer, or answered with an error; the turn is retried later."""


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
    base_url: str, sender: str, text: str, metadata: dict[str, Any], timeout: float
) -> list[str]:
    """Send one patient message to Rasa under a pseudonymous sender id; return its replies."""
    try:
        resp = requests.post(
            f"{base_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise RasaUnavailable(f"Rasa unreachable: {type(exc).__name__}") from None
    if not 200 <= resp.status_code < 300:
        raise RasaUnavailable(f"Rasa answered HTTP {resp.status_code}")
    try:
        return bot_texts(resp.json())
    except ValueError:
        raise RasaUnavailable("Rasa returned a body that is not JSON") from None


def trigger(
    base_url: str, token: str, sender: str, intent: str, entities: dict[str, str], timeout: float
) -> list[str]:
    """Start a bot-initiated turn (a check-in) with Rasa's trigger_intent; return its texts."""
    try:
        resp = requests.post(
            f"{base_url}/conversations/{sender}/trigger_intent",
            params={"output_channel": "collector", "token": token},
            json={"name": intent, "entities": entities},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise RasaUnavailable(f"Rasa unreachable: {type(exc).__name__}") from None
    if not 200 <= resp.status_code < 300:
        raise RasaUnavailable(f"Rasa answered HTTP {resp.status_code}")
    try:
        body = resp.json()
    except ValueError:
        raise RasaUnavailable("Rasa returned a body that is not JSON") from None
    return bot_texts(body.get("messages") if isinstance(body, dict) else None)
