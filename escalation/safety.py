"""The deterministic safety screen: crisis language, checked on every inbound message.

A versioned lexicon of patterns, independent of any classifier. This first cut
covers suicidal ideation, intent, self-harm and overdose; the escalation work grows
it with red-flag symptoms by medicine. The patterns are specific enough that idioms
("lol im dead", "this meeting is killing me") do not match them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LEXICON_VERSION = "2026.11-1"

# (reason, pattern) pairs. Patterns run on normalised text (lower case, straight quotes,
# letters repeated three or more times squeezed to two: "soooo" -> "soo").
CRISIS_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "ideation",
        r"\b(?:want|wanna|going|gonna|ready|need|plan(?:ning)?|thinking about) (?:to )?die\b",
    ),
    ("ideation", r"\bwish(?:ing)? (?:i was|i were|i'?d|to be) dead\b"),
    ("ideation", r"\bkill(?:ing)? my ?self\b|\bkms\b|\bkys\b"),
    ("ideation", r"\bend(?:ing)? (?:my life|it all|things|it tonight|it today)\b"),
    ("ideation", r"\bsuicid(?:e|al)\b|\bunalive\b|\bself[- ]?harm\b"),
    ("ideation", r"\b(?:better off|be better) (?:dead|without me)\b"),
    ("ideation", r"\bdon'?t want to (?:live|be alive|be here|wake up)\b"),
    ("ideation", r"\bno (?:reason|point) (?:to|in) (?:live|living|going on)\b"),
    ("self_injury", r"\b(?:cut|cutting|hurt|hurting|harm|harming|burn|burning) my ?self\b"),
    (
        "overdose",
        r"\b(?:took|take|swallowed|taking|gonna take|going to take) "
        r"(?:all|the whole|a bunch of|a lot of|too many|all of) "
        r"(?:my |the |of my )?(?:pills|meds|tablets|medicine|bottle)\b",
    ),
    ("overdose", r"\boverdos(?:e|ed|ing)\b|\bod'?d\b|💊💊"),
)
_COMPILED = tuple((reason, re.compile(p)) for reason, p in CRISIS_PATTERNS)
_REPEATS = re.compile(r"(.)\1{2,}")


@dataclass(frozen=True)
class Screen:
    """The screen's finding: tier "emergency" or "none", with the reasons that fired."""

    tier: str
    reasons: tuple[str, ...] = field(default_factory=tuple)
    version: str = LEXICON_VERSION

    @property
    def crisis(self) -> bool:
        return self.tier == "emergency"


def normalise(text: str, keep: int = 2) -> str:
    """Lower case, straight quotes, single spaces, runs of 3+ letters cut to `keep`."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    return _REPEATS.sub(r"\1" * keep, " ".join(text.split()))


def screen(text: str) -> Screen:
    """Screen one message against the lexicon."""
    norm = normalise(text)
    # Stretched words ("dieee") are matched once squeezed to one letter as well.
    squeezed = normalise(text, keep=1)
    reasons = tuple(
        sorted({reason for reason, rx in _COMPILED if rx.search(norm) or rx.search(squeezed)})
    )
    return Screen("emergency", reasons) if reasons else Screen("none")


def crisis_reply() -> str:
    """The crisis reply: the action line first, short and warm (safe-messaging guidance)."""
    return (
        "If you are thinking about suicide or might hurt yourself, call or text 988 now "
        "(free, 24/7). If you are in danger right now, call 911. If you took too much "
        "medicine, call Poison Control at 1-800-222-1222. Thank you for telling us."
    )
