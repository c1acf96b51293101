"""`medfollow triage`: the production path for one message, as JSON lines in and out.

Compliance keywords, the safety screen, Rasa's NLU on the running stack, then the risk
rules with the patient's medicines.
"""

from __future__ import annotations

from typing import Any

import requests

from compliance.keywords import classify
from education.answers import asked_about
from education.interactions import find_interactions
from education.library import Library
from escalation.rules import Event, MedicineFacts, assess
from escalation.safety import screen


class StackNotRunning(RuntimeError):
    """Rasa on the configured URL did not answer."""


def parse(rasa_url: str, token: str, text: str) -> tuple[str, float]:
    try:
        resp = requests.post(
            f"{rasa_url}/model/parse", params={"token": token}, json={"text": text}, timeout=10
        )
        resp.raise_for_status()
    except requests.RequestException:
        raise StackNotRunning(
            f"the stack is not running: Rasa at {rasa_url} did not answer (start it: make run)"
        ) from None
    intent = resp.json().get("intent") or {}
    return str(intent.get("name") or "nlu_fallback"), float(intent.get("confidence") or 0.0)


def triage(item: dict[str, Any], library: Library, rasa_url: str, token: str) -> dict[str, Any]:
    text = str(item.get("text", ""))
    names = [str(m) for m in item.get("medications") or []]
    meds = [m for m in (library.get(n) for n in names) if m is not None]
    found = screen(text, [m.name for m in meds])
    compliance = classify(text, opted_out=False)
    if compliance is not None:
        intent, confidence = compliance.value, 1.0
    else:
        intent, confidence = parse(rasa_url, token, text)
    tiers: tuple[str, ...] = ()
    if intent == "ask_interaction":
        others = asked_about(text, names, library)
        tiers = tuple(
            row.tier for other in others for row in find_interactions(names, other, library)
        )
    facts = [MedicineFacts(m.name, m.drug_class, m.never_stop_suddenly) for m in meds]
    event = Event(
        text=text,
        intent=intent,
        screen_tier=found.tier,
        screen_rules=found.rules,
        compliance=compliance.value if compliance else None,
        interaction_tiers=tiers,
    )
    result = assess(event, facts)
    return {
        "intent": intent,
        "confidence": round(confidence, 4),
        "risk": result.risk,
        "reasons": list(result.reasons),
    }
