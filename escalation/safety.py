"""The deterministic safety screen, checked on every inbound message.

The patterns live in data, ``escalation/lexicon.yaml``: a versioned lexicon of entries,
each tied to a rule of the research summary's table (R1, R2, R8 crisis language; R9, R10
red-flag side effects) with its tier and a short label for clinicians. Entries may apply
only to patients on given medicines or drug classes (classes come from the education
library). The lexicon is read and validated on first use, never at import.

Matching, per entry, on the normalised message (and on a copy with stretched letters
squeezed to one):

1. ``unless`` regexes are masked out first (idioms, adherence answers, questions about
   a symptom rather than reports of it), so what is left can still match.
2. A pattern matches; if the entry has ``also`` regexes, one of them must match too.
3. For red-flag entries only, a match inside a negation ("no rash", "i dont have chest
   pain"; for urgent entries also "my rash cleared up") does not count: see
   :class:`Negation`. It never applies to crisis entries: "im not suicidal" still
   reaches a person.

The highest tier wins. ``Screen.crisis`` (suicide, self-harm or overdose: the crisis
reply) and ``Screen.red_flag`` (a red-flag symptom) are reported separately.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal, TypeVar, get_args

import yaml

from medfollow.datafiles import DataFileError

Tier = Literal["emergency", "urgent", "none"]
EntryTier = Literal["emergency", "urgent"]
Rule = Literal["R1", "R2", "R8", "R9", "R10"]

LEXICON_FILE = Path(__file__).resolve().parent / "lexicon.yaml"
RULES: tuple[Rule, ...] = get_args(Rule)
ENTRY_TIERS: tuple[EntryTier, ...] = get_args(EntryTier)
CRISIS_RULES: tuple[Rule, ...] = ("R1", "R2", "R8")
RED_FLAG_RULES: tuple[Rule, ...] = ("R9", "R10")
# The tier each rule stands for in the research summary's table (§7.2), as the screen
# uses it. R8 (self-injury) is T2 there; the screen has always treated it as a crisis.
RULE_TIERS: dict[Rule, EntryTier] = {
    "R1": "emergency",
    "R2": "emergency",
    "R8": "emergency",
    "R9": "emergency",
    "R10": "urgent",
}
# Crisis entries keep these reasons: rules.assess and the intake store them as they are.
CRISIS_REASONS = ("ideation", "self_injury", "overdose")
TOP_FIELDS = ("version", "macros", "negation", "entries")
ENTRY_FIELDS = ("id", "rule", "tier", "reason", "patterns")
OPTIONAL_ENTRY_FIELDS = ("medicines", "classes", "unless", "also")
NEGATION_FIELDS = (
    "window",
    "breaks",
    "subjects",
    "before",
    "pseudo",
    "after",
    "after_rules",
    "blockers",
)

_L = TypeVar("_L", bound=str)
_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")
_MACRO = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")
_REPEATS = re.compile(r"(.)\1{2,}")
_OD = re.compile(r"\bo\.?d\.?'e?d\b")
_MASK = " \u2298 "  # what an `unless` match is replaced with: matches no pattern


class LexiconError(DataFileError):
    """The lexicon does not match its schema; names the file, the entry and the field."""


@dataclass(frozen=True)
class Entry:
    """One lexicon entry: when its patterns match, its rule fires at its tier."""

    id: str
    rule: Rule
    tier: EntryTier
    reason: str
    patterns: tuple[re.Pattern[str], ...]
    medicines: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()
    unless: tuple[re.Pattern[str], ...] = ()
    also: tuple[re.Pattern[str], ...] = ()

    @property
    def crisis(self) -> bool:
        return self.rule in CRISIS_RULES

    def applies(self, medicines: frozenset[str], classes: frozenset[str]) -> bool:
        """True when the entry is for everyone or for one of the patient's medicines."""
        if not self.medicines and not self.classes:
            return True
        return bool(self.medicines & medicines or self.classes & classes)


@dataclass(frozen=True)
class Negation:
    """The negation layer for red-flag entries (a small NegEx). Crisis entries never use it.

    A match is negated when a `before` cue sits within `window` words before it, in the
    same clause (`breaks`), with no new subject in between ("no xanax im seeing things"
    does not negate "seeing things"); `pseudo` phrases are not cues ("not sure", "cant
    stop"). For entries of `after_rules` only, a match is also negated by an `after` cue
    ("my rash cleared up"), unless a `blocker` is anywhere in the message ("came back").
    """

    window: int
    breaks: re.Pattern[str]
    subjects: re.Pattern[str]
    before: re.Pattern[str]
    pseudo: re.Pattern[str]
    after: re.Pattern[str]
    after_rules: frozenset[str]
    blockers: re.Pattern[str]

    def negated(self, text: str, start: int, end: int, rule: str) -> bool:
        """Whether the match text[start:end] of an entry of `rule` sits inside a negation."""
        head = text[:start]
        breaks = list(self.breaks.finditer(head))
        clause = self.pseudo.sub(_MASK, head[breaks[-1].end() if breaks else 0 :])
        words = clause.split()[-self.window :]
        for i in range(len(words) - 1, -1, -1):
            if self.subjects.fullmatch(words[i]):
                words = words[i + 1 :]
                break
        if self.before.search(" ".join(words)):
            return True
        if rule not in self.after_rules:
            return False
        tail = text[end:]
        stop = self.breaks.search(tail)
        after = " ".join(tail[: stop.start() if stop else len(tail)].split()[: self.window])
        return bool(self.after.search(after)) and not self.blockers.search(text)


@dataclass(frozen=True)
class Lexicon:
    version: str
    entries: tuple[Entry, ...]
    negation: Negation

    def entry(self, entry_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)


def load_lexicon(path: Path | None = None) -> Lexicon:
    """Load and validate the lexicon (default: the packaged one). Cached per file.

    Raises :class:`LexiconError` naming the entry and field on any schema problem.
    """
    return _load((path or LEXICON_FILE).resolve())


@lru_cache(maxsize=8)
def _load(path: Path) -> Lexicon:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LexiconError(path.name, "*", f"cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise LexiconError(path.name, "*", f"not valid YAML: {exc}") from exc
    return parse_lexicon(path.name, data)


def lexicon_version() -> str:
    return load_lexicon().version


def __getattr__(name: str) -> str:
    # LEXICON_VERSION stays importable; it is read from the lexicon on first use.
    if name == "LEXICON_VERSION":
        return lexicon_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Screen:
    """The screen's finding: the highest tier that fired, with what fired."""

    tier: Tier
    reasons: tuple[str, ...] = ()  # labels for clinicians; crisis ones as in CRISIS_REASONS
    version: str = field(default_factory=lexicon_version)
    rules: tuple[str, ...] = ()  # R-numbers, in table order
    entries: tuple[str, ...] = ()  # lexicon entry ids, in lexicon order

    @property
    def crisis(self) -> bool:
        """Suicide, self-harm or overdose content: the crisis reply is due."""
        return any(reason in CRISIS_REASONS for reason in self.reasons)

    @property
    def red_flag(self) -> bool:
        """A red-flag side effect (R9/R10), whatever else fired."""
        return any(rule in RED_FLAG_RULES for rule in self.rules)


def normalise(text: str, keep: int = 2) -> str:
    """Lower case, straight quotes, single spaces, runs of 3+ letters cut to `keep`."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return _REPEATS.sub(r"\1" * keep, " ".join(text.split()))


def matchable(text: str, keep: int = 2) -> str:
    """What the lexicon's patterns run on: normalised, apostrophes dropped ("dont").

    "od'd" is spelled out first: without its apostrophe it would read as "odd".
    """
    return _OD.sub("overdosed", normalise(text, keep)).replace("'", "")


def screen(text: str, medicines: Sequence[str] = ()) -> Screen:
    """Screen one message against the lexicon.

    `medicines` are the patient's medicines (generic names; brands and known misspellings
    resolve too); names the education library does not know are ignored.
    """
    lexicon = load_lexicon()
    names, classes = _resolve((medicines,) if isinstance(medicines, str) else medicines)
    # Stretched words ("dieee") are matched once squeezed to one letter as well.
    variants = dict.fromkeys((matchable(text), matchable(text, keep=1)))
    fired = [
        entry
        for entry in lexicon.entries
        if entry.applies(names, classes)
        and any(_fires(entry, variant, lexicon.negation) for variant in variants)
    ]
    if not fired:
        return Screen("none", version=lexicon.version)
    tier: Tier = "emergency" if any(e.tier == "emergency" for e in fired) else "urgent"
    rules = sorted({e.rule for e in fired}, key=RULES.index)
    return Screen(
        tier,
        tuple(sorted({e.reason for e in fired})),
        lexicon.version,
        tuple(rules),
        tuple(e.id for e in fired),
    )


def crisis_reply() -> str:
    """The crisis reply: the action line first, short and warm (safe-messaging guidance)."""
    return (
        "If you are thinking about suicide or might hurt yourself, call or text 988 now "
        "(free, 24/7). If you are in danger right now, call 911. If you took too much "
        "medicine, call Poison Control at 1-800-222-1222. Thank you for telling us."
    )


def _resolve(medicines: Sequence[str]) -> tuple[frozenset[str], frozenset[str]]:
    if not medicines:
        return frozenset(), frozenset()
    from education.library import load_library

    library = load_library()
    found = [med for med in (library.get(name) for name in medicines) if med is not None]
    return frozenset(m.name for m in found), frozenset(m.drug_class for m in found)


def _fires(entry: Entry, text: str, negation: Negation) -> bool:
    for rx in entry.unless:
        text = rx.sub(_MASK, text)
    layer = None if entry.crisis else negation
    if not _matches(entry.patterns, text, layer, entry.rule):
        return False
    return not entry.also or _matches(entry.also, text, layer, entry.rule)


def _matches(
    patterns: Sequence[re.Pattern[str]], text: str, negation: Negation | None, rule: str
) -> bool:
    for rx in patterns:
        for m in rx.finditer(text):
            if negation is None or not negation.negated(text, m.start(), m.end(), rule):
                return True
    return False


# --- validation ---------------------------------------------------------------------


def parse_lexicon(source: str, data: object) -> Lexicon:
    """Validate parsed YAML against the schema and build the Lexicon."""
    top = _mapping(source, "*", data, TOP_FIELDS, ())
    version = top["version"]
    if not isinstance(version, str) or not version.strip():
        raise LexiconError(source, "version", "must be a non-empty string")
    macros = _macros(source, top["macros"])
    negation = _negation(source, top["negation"], macros)
    raw_entries = top["entries"]
    if not isinstance(raw_entries, list) or not raw_entries:
        raise LexiconError(source, "entries", "must be a non-empty list")
    entries: list[Entry] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_entries):
        entry = _entry(source, i, raw, macros)
        if entry.id in seen:
            raise LexiconError(source, f"entries[{i}] ({entry.id})", "duplicate id")
        seen.add(entry.id)
        entries.append(entry)
    return Lexicon(version.strip(), tuple(entries), negation)


def _mapping(
    source: str, where: str, value: object, required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, object]:
    if not isinstance(value, dict):
        raise LexiconError(source, where, f"must be a mapping, not {type(value).__name__}")
    unknown = sorted(str(k) for k in value if k not in required + optional)
    if unknown:
        raise LexiconError(source, _sub(where, unknown[0]), "unknown field")
    missing = [k for k in required if k not in value]
    if missing:
        raise LexiconError(source, _sub(where, missing[0]), "missing field")
    return {str(k): v for k, v in value.items()}


def _sub(where: str, key: str) -> str:
    return key if where == "*" else f"{where}.{key}"


def _macros(source: str, value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise LexiconError(source, "macros", "must be a mapping of NAME: regex")
    out: dict[str, str] = {}
    for name, body in value.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            raise LexiconError(source, f"macros.{name}", "names are UPPER_CASE")
        if not isinstance(body, str) or not body:
            raise LexiconError(source, f"macros.{name}", "must be a non-empty string")
        out[name] = _expand(source, f"macros.{name}", body, out)
    return out


def _expand(source: str, where: str, pattern: str, macros: Mapping[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in macros:
            raise LexiconError(source, where, f"unknown macro {{{m.group(1)}}}")
        return macros[m.group(1)]

    return _MACRO.sub(sub, pattern)


def _regex(source: str, where: str, value: object, macros: Mapping[str, str]) -> re.Pattern[str]:
    if not isinstance(value, str) or not value.strip():
        raise LexiconError(source, where, "must be a non-empty string")
    pattern = _expand(source, where, value, macros)
    if "'" in pattern:
        raise LexiconError(source, where, "has an apostrophe; messages are matched without")
    if re.search(r"[A-Z]", re.sub(r"\\.|\(\?P?<[^>]*>|\(\?P=[^)]*\)", "", pattern)):
        raise LexiconError(source, where, "has upper-case letters; messages are lower case")
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise LexiconError(source, where, f"not a valid regex: {exc}") from exc
    if rx.search("") is not None:
        raise LexiconError(source, where, "matches an empty message")
    return rx


def _regex_list(
    source: str, where: str, value: object, macros: Mapping[str, str]
) -> tuple[re.Pattern[str], ...]:
    if not isinstance(value, list) or not value:
        raise LexiconError(source, where, "must be a non-empty list of regexes")
    return tuple(_regex(source, f"{where}[{i}]", v, macros) for i, v in enumerate(value))


def _joined(source: str, where: str, value: object, macros: Mapping[str, str]) -> re.Pattern[str]:
    regexes = _regex_list(source, where, value, macros)
    return re.compile("|".join(f"(?:{rx.pattern})" for rx in regexes))


def _negation(source: str, value: object, macros: Mapping[str, str]) -> Negation:
    data = _mapping(source, "negation", value, NEGATION_FIELDS, ())
    window = data["window"]
    if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 12:
        raise LexiconError(source, "negation.window", "must be a whole number from 1 to 12")
    after_rules = _strings(source, "negation.after_rules", data["after_rules"])
    for rule in after_rules:
        if rule not in RED_FLAG_RULES:
            raise LexiconError(
                source,
                "negation.after_rules",
                f"{rule!r} is not one of {', '.join(RED_FLAG_RULES)}",
            )

    def joined(key: str) -> re.Pattern[str]:
        return _joined(source, f"negation.{key}", data[key], macros)

    return Negation(
        window=window,
        breaks=joined("breaks"),
        subjects=joined("subjects"),
        before=joined("before"),
        pseudo=joined("pseudo"),
        after=joined("after"),
        after_rules=frozenset(after_rules),
        blockers=joined("blockers"),
    )


def _entry(source: str, index: int, value: object, macros: Mapping[str, str]) -> Entry:
    where = f"entries[{index}]"
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        where = f"{where} ({value['id']})"
    data = _mapping(source, where, value, ENTRY_FIELDS, OPTIONAL_ENTRY_FIELDS)
    entry_id = data["id"]
    if not isinstance(entry_id, str) or not _ID.match(entry_id):
        raise LexiconError(source, f"{where}.id", "must look like 'group.name' (lower case)")
    rule = _choice(source, f"{where}.rule", data["rule"], RULES)
    tier = _choice(source, f"{where}.tier", data["tier"], ENTRY_TIERS)
    if tier != RULE_TIERS[rule]:
        raise LexiconError(source, f"{where}.tier", f"{rule} is {RULE_TIERS[rule]}, not {tier}")
    reason = data["reason"]
    if not isinstance(reason, str) or not reason.strip():
        raise LexiconError(source, f"{where}.reason", "must be a non-empty string")
    if (rule in CRISIS_RULES) != (reason in CRISIS_REASONS):
        raise LexiconError(
            source,
            f"{where}.reason",
            f"crisis rules ({', '.join(CRISIS_RULES)}) and only they use the reasons "
            f"{', '.join(CRISIS_REASONS)}",
        )
    entry = Entry(
        id=entry_id,
        rule=rule,
        tier=tier,
        reason=reason.strip(),
        patterns=_regex_list(source, f"{where}.patterns", data["patterns"], macros),
        medicines=_medicines(source, f"{where}.medicines", data.get("medicines", [])),
        classes=_classes(source, f"{where}.classes", data.get("classes", [])),
        unless=_optional_regexes(source, f"{where}.unless", data, "unless", macros),
        also=_optional_regexes(source, f"{where}.also", data, "also", macros),
    )
    return entry


def _optional_regexes(
    source: str, where: str, data: Mapping[str, object], key: str, macros: Mapping[str, str]
) -> tuple[re.Pattern[str], ...]:
    return _regex_list(source, where, data[key], macros) if key in data else ()


def _choice(source: str, where: str, value: object, allowed: tuple[_L, ...]) -> _L:
    for option in allowed:
        if value == option:
            return option
    raise LexiconError(source, where, f"{value!r} is not one of {', '.join(allowed)}")


def _strings(source: str, where: str, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise LexiconError(source, where, "must be a list of names")
    return [str(v) for v in value]


def _medicines(source: str, where: str, value: object) -> frozenset[str]:
    names = _strings(source, where, value)
    if not names:
        return frozenset()
    from education.library import load_library

    library = load_library()
    for name in names:
        med = library.get(name)
        if med is None or med.name != name:
            raise LexiconError(
                source, where, f"{name!r} is not a generic name in the education library"
            )
    return frozenset(names)


def _classes(source: str, where: str, value: object) -> frozenset[str]:
    from education.library import DRUG_CLASSES

    names = _strings(source, where, value)
    for name in names:
        if name not in DRUG_CLASSES:
            raise LexiconError(source, where, f"{name!r} is not one of {', '.join(DRUG_CLASSES)}")
    return frozenset(names)
