"""The deterministic safety screen: crisis language, checked on every inbound message.

A versioned lexicon of patterns, independent of any classifier. This first cut
covers suicidal ideation, intent, self-harm and overdose; the escalation work grows
it with red-flag symptoms by medicine. The patterns are specific enough that idioms
("lol im dead", "this meeting is killing me") do not match them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LEXICON_VERSION = "2026.11-2"

# (reason, pattern) pairs. Patterns run on normalised text (lower case, straight quotes,
# letters repeated three or more times squeezed to two: "soooo" -> "soo").
_PILLS = r"(?:pills|meds|medicine|medication|medications|tablets|capsules)"
_UNITS = r"(?:mg|mcg|ml|milligrams?|micrograms?)"
# "took all my pills this morning" answers a check-in: an adherence qualifier clears it.
_ON_SCHEDULE = (
    r"(?! ?(?:this morning|this evening|today|tonight like|at \d|on time|on schedule|like "
    r"you|as prescribed|for today|yesterday|this week|every day))"
)
_IDIOM_DEATH = (
    r"(?! (?:of|from) (?:embarrassment|laughter|laughing|boredom|cuteness|shame))(?! if\b)"
)
CRISIS_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "ideation",
        r"\b(?:want|wanna|going|gonna|ready|need|plan(?:ning)?|thinking about|should just|"
        r"might as well|rather) (?:to )?die\b" + _IDIOM_DEATH,
    ),
    ("ideation", r"\bwish(?:ing)? (?:i was|i were|i'?d|to be) dead\b|\brather be dead\b"),
    ("ideation", r"\bkill(?:ing)? my ?self\b|\bkms\b|\bkys\b"),
    ("ideation", r"\bend(?:ing)? (?:my life|it all|things|it tonight|it today)\b|\bto end it\b"),
    ("ideation", r"\bwant (?:it all|everything|this|my life) to (?:end|be over)\b"),
    ("ideation", r"\bsuicid(?:e|al)\b|\bunalive\b"),
    ("ideation", r"\b(?:better off|be better) (?:dead|without me)\b"),
    ("ideation", r"\b(?:don'?t|do not) want to (?:live|be alive|be here|wake up|exist)\b"),
    ("ideation", r"\bno (?:reason|point) (?:to|in) (?:live|living|going on)\b"),
    ("ideation", r"\bcan'?t go on\b|\b(?:nobody|no one|noone) (?:would|will) miss me\b"),
    ("ideation", r"\bjump(?:ing)? (?:off|from) (?:a |the )?(?:bridge|building|roof|cliff)\b"),
    ("ideation", r"\bbought (?:a )?(?:gun|rope)\b"),
    (
        "self_injury",
        r"\b(?:cut|cutting|hurt|hurting|harm|harming|harmed|burn|burned|burnt|burning) "
        r"my ?self\b(?!-)|\bself[- ]?harm(?:ing|ed)?\b",
    ),
    (
        "overdose",
        r"\b(?:took|swallowed|taken) (?:way |like )?(?:(?:too many|a handful of|a bunch of)"
        r"(?: of)? (?:my |the )?(?:\w+ )?" + _PILLS + r"|the whole bottle|every pill"
        r"|all (?:of )?(?:my|the) " + _PILLS + r" at once)",
    ),
    ("overdose", r"\b(?:took|swallowed|taken) all (?:of )?(?:my|the) \w+\b" + _ON_SCHEDULE),
    (
        "overdose",
        r"\b(?:took|swallowed|taken) (?:like |about |around |maybe )?\d{2,} (?!"
        + _UNITS
        + r"\b)(?:of (?:my|the) )?\w+",
    ),
    (
        "overdose",
        r"\b(?:gonna|going to|about to|want to|wanna|plan to) (?:take|swallow) "
        r"(?:all|every|the whole bottle(?! back)|too many)\b",
    ),
    (
        "overdose",
        r"\b(?:i|i'?ve|i have|i just|just|he|she|they|my \w+) (?:overdosed|od'?d)\b"
        r"|\boverdosing\b|\b(?:took|take|taken) an? overdose\b"
        r"|\boverdose on (?:my|his|her|their|all)\b|💊💊",
    ),
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
