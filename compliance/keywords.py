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
HELP_WORDS = frozenset(
    {"help", "info", "ayuda", "who is this", "whos this", "who dis", "who r u", "who are you"}
)

_TEXTS = r"(?:texts?|txts?|messages?|msgs?|sms|reminders?|check[- ]?ins?|these)"
_LIST = r"(?:list|texts?|txts?|messages?|msgs?|program(?:me)?|service|reminders?|these)"
_PLAIN_OPT_OUT = [
    r"\b(?:stop|quit) (?:texting|txting|messaging|msging|contacting|bothering)\b",
    rf"\bstop (?:sending (?:me )?)?(?:the|all|your|these|ur|any) {_TEXTS}\b",
    rf"\bstop sending (?:me )?(?:the |all |your |these |ur |any )?{_TEXTS}\b",
    rf"\b(?:want|wanna|would like|like) to (?:stop|quit) (?:getting|receiving) "
    rf"(?:any |these |your |the |ur )?{_TEXTS}\b",
    r"\b(?:don'?t|do not|dont|never) (?:text|txt|message|msg|contact) me\b",
    rf"\b(?:don'?t|do not|dont|no longer) (?:want|wish)(?: to (?:receive|get))? "
    rf"(?:any |these |your |the |ur |more )?{_TEXTS}\b",
    rf"\bno more {_TEXTS}\b",
    r"\bunsubscribe me\b",
    rf"\b(?:remove|take) me (?:off|from) (?:this|the|your|ur|all|these) {_LIST}\b",
    r"^(?:please |pls )?(?:remove|take) me(?: off)?$",
    r"\bopt(?:ing)?[- ]?(?:me )?out\b",
    r"\bcancel (?:my |the |this )?(?:subscription|texts|messages)\b",
    r"\bno m[aá]s (?:mensajes|textos)\b",
    rf"\b(?:these|the|your|ur) {_TEXTS} (?:to|must|should|need to) stop\b",
    rf"\benough (?:with )?(?:the |these |your )?{_TEXTS}\b",
    r"^(?:just |please |pls )?leave me alone$",
]
_PLAIN = re.compile("|".join(_PLAIN_OPT_OUT))
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_WORDS = re.compile(r"[a-z]+")
# A message made only of opt-out keywords and politeness ("please stop", "STOP STOP").
_KEYWORD_TOKENS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
)
_POLITE = frozenset({"please", "pls", "plz", "now", "thanks", "thx", "thank", "you", "ok"})


def normalise(text: str) -> str:
    """Lower-case, collapse spaces, strip punctuation and emoji at both ends."""
    return _EDGE.sub("", " ".join(text.lower().split()))


def classify(
    text: str, *, opted_out: bool, opt_out_type: str = "", invited: bool = False
) -> Compliance | None:
    """What compliance action this inbound message asks for, if any.

    1. Twilio's Advanced Opt-Out field wins when present.
    2. A message that is exactly a keyword (ignoring case, punctuation, emoji).
    3. A plain-language revocation anywhere in the message.
    YES opts in only a patient who has opted out, or who was invited and has not yet
    opted in; otherwise it is an answer.
    """
    kind = opt_out_type.strip().upper()
    if kind in ("STOP", "START", "HELP"):
        return {"STOP": Compliance.OPT_OUT, "START": Compliance.OPT_IN}.get(kind, Compliance.HELP)
    word = normalise(text).replace("'", "").replace("’", "")
    tokens = _WORDS.findall(word)
    if word in OPT_OUT_WORDS or (
        tokens and set(tokens) <= _KEYWORD_TOKENS | _POLITE and set(tokens) & _KEYWORD_TOKENS
    ):
        return Compliance.OPT_OUT
    if word in OPT_IN_WORDS or ((opted_out or invited) and word in ("yes", "y")):
        return Compliance.OPT_IN
    if word in HELP_WORDS:
        return Compliance.HELP
    if _PLAIN.search(" ".join(text.lower().replace("’", "'").split())):
        return Compliance.OPT_OUT
    return None
