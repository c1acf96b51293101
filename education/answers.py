"""Choosing the education text that answers a question. Pure functions over the library."""

from __future__ import annotations

import re

from education.library import Library, Medication, TextKey

# Checked in order: the first topic whose words appear answers the question.
TOPICS: tuple[tuple[TextKey, str], ...] = (
    ("missed_dose", r"\b(?:miss(?:ed)?|forgot|skip(?:ped)?)\b"),
    ("alcohol", r"\b(?:alcohol|drink(?:ing)?|beer|wine|liquor|drunk|booze|shots?)\b"),
    (
        "otc",
        r"\b(?:cold medicine|cough|ibuprofen|advil|tylenol|sudafed|otc|over the counter|"
        r"supplements?|vitamins?|st\.? john)\b",
    ),
    ("stopping", r"\b(?:stop(?:ping)?|quit(?:ting)?|come off|coming off|taper)\b"),
    ("red_flags", r"\b(?:danger(?:ous)?|warning|emergency|serious|worry|worried|911)\b"),
    ("side_effect_tips", r"\b(?:help with|deal with|cope|manage|what (?:do|can) i do)\b"),
    ("common_side_effects", r"\bside ?effects?\b|\bcause\b"),
    ("onset", r"\b(?:how long|kick in|start working|take to work|when will|work yet|weeks?)\b"),
    (
        "food_timing",
        r"\b(?:food|eat|meal|empty stomach|morning|night|bedtime|what time|"
        r"when should i take)\b",
    ),
    ("purpose", r"\b(?:what is|what's|whats|for|why|used for|treat)\b"),
)


def choose_topic(text: str) -> TextKey:
    lowered = text.lower()
    for key, pattern in TOPICS:
        if re.search(pattern, lowered):
            return key
    return "purpose"


def mentioned(text: str, library: Library) -> list[Medication]:
    """Medicines named in free text (generic, brand or common misspelling)."""
    words = re.findall(r"[a-z][a-z\-]+", text.lower())
    found: dict[str, Medication] = {}
    for size in (3, 2, 1):
        for i in range(len(words) - size + 1):
            med = library.get(" ".join(words[i : i + size]))
            if med is not None:
                found.setdefault(med.name, med)
    return list(found.values())


def unnamed(text: str, med: Medication, instead: str = "this medicine") -> str:
    """The text with the medicine's names replaced, for patients who chose unnamed texts."""
    for name in sorted((med.name, *med.brands), key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}\b", instead, text, flags=re.IGNORECASE)
    return text


def other_products(text: str) -> list[str]:
    """Words after "with", "take" or "and": products the library may not hold (advil)."""
    return re.findall(
        r"\b(?:with|take|taking|and)\s+(?:some\s+|an?\s+)?([a-z][a-z' \-]{2,30}?)"
        r"(?:\?|$|\s+(?:with|and|on|while)\b)",
        text.lower(),
    )


def asked_about(text: str, current: list[str], library: Library) -> list[str]:
    """What the patient asks to combine with their current medicines."""
    named = [m.name for m in mentioned(text, library) if m.name not in current]
    return named or other_products(text)
