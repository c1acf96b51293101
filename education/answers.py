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


def asked_about(text: str, current: list[str], library: Library) -> list[str]:
    """What the patient asks to combine with their current medicines: every name in the
    text that the library or the interaction table knows (advil, sudafed, st johns wort),
    other than the medicines they already take."""
    from education.interactions import load_interactions

    table = load_interactions(library=library)
    mine = {t for name in current for t in table.terms_for(name, library)}
    words = re.findall(r"[a-z0-9][a-z0-9'\-]*", text.lower())
    found: list[str] = []
    taken: set[int] = set()
    for size in (3, 2, 1):
        for i in range(len(words) - size + 1):
            span = set(range(i, i + size))
            if span & taken:
                continue
            phrase = " ".join(words[i : i + size])
            terms = table.terms_for(phrase, library)
            if terms and not terms <= mine:
                found.append(phrase)
                taken |= span
            elif terms:
                taken |= span
    return found
