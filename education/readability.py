"""Flesch-Kincaid grade level with a small, documented syllable heuristic. Pure functions.

    grade = 0.39 * (words / sentences) + 11.8 * (syllables / words) - 15.59

Counting rules (an approximation; dictionary-based tools will differ by a few tenths):

* Words are runs of letters, digits and apostrophes. A hyphenated compound counts as
  separate words ("over-the-counter" is three words), because that is how it is read.
* Sentences end at ``.``, ``!`` or ``?`` (runs count once); a text without any counts as
  one sentence. Write texts without abbreviations such as "e.g." or "St." so this holds.
* Syllables of a word made of letters:
  1. words of three letters or fewer have one syllable;
  2. a silent ending is dropped first: "-es" (unless after s, x, z, c, g, ch or sh:
     "doses", "changes"), "-ed" (unless after t or d: "needed") and a final "e"
     (unless it is consonant + "le": "table");
  3. each run of vowels (a, e, i, o, u, y) counts once;
  4. some vowel runs are read as two syllables and add one: "ia" (not after c, t or
     g: "special", "partial"), "iu" ("lithium"), "ua" (not after q or g: "usual"),
     "iet" ("quiet", "anxiety"), a final "ea" ("area", "nausea"), a final "-ier" or
     "-iest" after a consonant ("easier") and a vowel before a final "-ing"
     ("being", "going");
  5. every word has at least one syllable.
* An all-capitals word of two or more letters ("ADHD", "OCD", "DM") is read letter by
  letter, so each letter is one syllable.
* A number is read digit by digit ("911" is "nine one one"), so each digit is one
  syllable; this slightly overstates long numbers, which the texts rarely use.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z0-9']+")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_VOWEL_RUN = re.compile(r"[aeiouy]+")
_SPLIT_PAIRS = (
    re.compile(r"(?<![ctg])ia"),
    re.compile(r"iu"),
    re.compile(r"(?<![qg])ua"),
    re.compile(r"iet"),
    re.compile(r"ea$"),
    re.compile(r"(?<=[^aeiouy])i(?:er|est)$"),
    re.compile(r"[aeiouy]ing(?:s|ly)?$"),
)


def words(text: str) -> list[str]:
    """The words of a text, as counted for the grade (hyphens split words)."""
    return _WORD.findall(text.replace("-", " "))


def sentence_count(text: str) -> int:
    return max(1, len(_SENTENCE_END.findall(text.strip())))


def syllables(word: str) -> int:
    """Estimated syllables in one word (see the module docstring for the rules)."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    if not letters:
        return sum(c.isdigit() for c in word)
    if len(letters) >= 2 and word.isupper():
        return len(letters)
    if len(letters) <= 3:
        return 1
    stem = letters
    if stem.endswith("es") and not re.search(r"(?:[sxzcg]|ch|sh)es$", stem):
        stem = stem[:-2]
    elif stem.endswith("ed") and not re.search(r"[td]ed$", stem):
        stem = stem[:-2]
    elif stem.endswith("e") and not re.search(r"[^aeiouy]le$", stem):
        stem = stem[:-1]
    count = len(_VOWEL_RUN.findall(stem))
    count += sum(len(pattern.findall(stem)) for pattern in _SPLIT_PAIRS)
    return max(1, count)


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade level of a text; 0.0 for a text without words."""
    found = words(text)
    if not found:
        return 0.0
    syllable_total = sum(syllables(w) for w in found)
    return 0.39 * (len(found) / sentence_count(text)) + 11.8 * (syllable_total / len(found)) - 15.59
