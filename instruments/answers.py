"""Reading a patient's free-text answer to a scale or yes/no question. Pure functions."""

from __future__ import annotations

import re

NUMBER_WORDS = {
    "zero": 0,
    "none": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
}
# PHQ answer anchors (0-3) in the words patients use.
PHQ_WORDS = (
    (3, r"nearly every ?day|almost every ?day|every ?day|all the time|daily"),
    (2, r"more than half|over half|half the days|most days|half"),
    (1, r"several|some days|a few days|sometimes|a couple"),
    (0, r"not at all|never|none|nope|no\b|not really"),
)
YES = re.compile(
    r"^(?:y|ya|yes+|yeah|yea|yep|yup|sure|ok|okay|i did|i have|true|correct|✅|👍|✔️?)\b|^[✅👍✔]"
)
UNSURE = re.compile(r"\b(?:not sure|unsure|dunno|idk|maybe|don'?t know)\b")
NEGATED = re.compile(r"\b(?:not|never|didn'?t|haven'?t|don'?t|no)\b")
NO = re.compile(r"^(?:n|no+|nope|nah|not really|never|i didn'?t|i haven'?t|false|❌|👎)\b|^[❌👎✖]")


def parse_scale(text: str, low: int, high: int) -> int | None:
    """A whole number in [low, high] from digits or number words, else None."""
    words = text.lower().strip()
    digits = re.findall(r"(?<![\d.])(\d+)(?![\d.])", words)
    if len(digits) == 1 and low <= int(digits[0]) <= high:
        return int(digits[0])
    found = [v for w, v in NUMBER_WORDS.items() if re.search(rf"\b{w}\b", words)]
    if len(set(found)) == 1 and low <= found[0] <= high:
        return found[0]
    return None


def parse_phq(text: str) -> int | None:
    """A PHQ item answer, 0-3, from a digit or the anchor words."""
    value = parse_scale(text, 0, 3)
    if value is not None:
        return value
    lowered = text.lower()
    for score, pattern in PHQ_WORDS:
        if re.search(pattern, lowered):
            return score
    return None


def parse_yes_no(text: str) -> bool | None:
    """True for yes, False for no, None when unclear."""
    lowered = text.lower().strip().replace("’", "'")
    if UNSURE.search(lowered):
        return None
    if NO.search(lowered) or NEGATED.search(lowered):
        return False
    if YES.search(lowered):
        return True
    return None
