"""Carrier and FCC compliance keywords: opt-out, opt-in and help. Pure functions.

The FCC revocation rule (in force April 2025) says consent may be revoked by any
reasonable means: the carrier keywords and plain-language requests alike. A
request to stop a *medicine* ("I want to stop my lithium") is not an opt-out.
"""

from __future__ import annotations

import re
from enum import Enum


class Compliance(Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


OPT_OUT_WORDS = frozenset(
    {
        "stop",
        "stopall",
        "stop all",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "revoke",
        "optout",
        "opt out",
        "opt-out",
        "alto",
        "parar",
    }
)
OPT_IN_WORDS = frozenset({"start", "unstop", "opt in", "optin", "opt-in", "resume"})
HELP_WORDS = frozenset({"help", "info", "ayuda", "who is this", "whos this", "who dis"})

_TEXTS = r"(?:texts?|txts?|messages?|msgs?|sms|reminders?|check[- ]?ins?|these)"
_PLAIN_OPT_OUT = [
    r"\bstop (?:texting|txting|messaging|msging|sending|contacting|bothering) me\b",
    rf"\bstop (?:sending|the|all|your|these|ur) {_TEXTS}\b",
    r"\b(?:don'?t|do not|dont|pls don'?t|please don'?t) (?:text|txt|message|msg|contact) me\b",
    rf"\bno more {_TEXTS}\b",
    r"\bunsubscribe me\b",
    r"\b(?:remove|take) me (?:off|from)\b",
    r"^remove me$",
    r"\bopt me out\b",
    rf"\bi (?:want|wanna|would like) to (?:stop|quit) (?:getting|receiving) {_TEXTS}\b",
    r"\bno m[aá]s (?:mensajes|textos)\b",
]
_PLAIN = re.compile("|".join(_PLAIN_OPT_OUT))
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")


def normalise(text: str) -> str:
    """Lower-case, collapse spaces, strip punctuation and emoji at both ends."""
    return _EDGE.sub("", " ".join(text.lower().split()))


def classify(text: str, *, opted_out: bool, opt_out_type: str = "") -> Compliance | None:
    """What compliance action this inbound message asks for, if any.

    1. Twilio's Advanced Opt-Out field wins when present.
    2. A message that is exactly a keyword (ignoring case, punctuation, emoji).
    3. A plain-language revocation anywhere in the message.
    YES re-subscribes only a patient who has opted out; otherwise it is an answer.
    """
    kind = opt_out_type.strip().upper()
    if kind in ("STOP", "START", "HELP"):
        return {"STOP": Compliance.OPT_OUT, "START": Compliance.OPT_IN}.get(kind, Compliance.HELP)
    word = normalise(text)
    word = re.sub(r"\s+(?:please|pls|plz|now|thanks|thx)$", "", word)
    if word in OPT_OUT_WORDS:
        return Compliance.OPT_OUT
    if word in OPT_IN_WORDS or (opted_out and word in ("yes", "y")):
        return Compliance.OPT_IN
    if word in HELP_WORDS:
        return Compliance.HELP
    if _PLAIN.search(" ".join(text.lower().replace("’", "'").split())):
        return Compliance.OPT_OUT
    return None
