"""The risk thresholds as clinic configuration: typed loader for escalation/thresholds.yaml.

Every cut-off the rules over time (:mod:`escalation.patterns`) use lives in the YAML
file, with a version. The file is read only when :func:`load_thresholds` is called,
never at import. Every field is required and unknown fields are rejected, so a typo is
an error naming the field (:class:`ThresholdError`), never a silent default.

Two safety floors are enforced here rather than left to configuration: a positive PHQ-9
item 9 (>= 1) always raises at least an urgent tier, and the missed-days rules always end
with a rule that matches any medicine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import yaml

from escalation.rules import RISKS
from medfollow.datafiles import DataFileError

DEFAULT_THRESHOLDS = Path(__file__).resolve().parent / "thresholds.yaml"
# The tiers a threshold may raise ("none" is not a finding).
FINDING_TIERS = RISKS[1:]
# Instrument ranges: fixed by the instruments, not configuration.
PHQ2_MAX = 6
PHQ9_MAX = 27
ITEM9_MAX = 3
GAD7_MAX = 21
FIBSER_MAX = 6


class ThresholdError(DataFileError):
    """The thresholds file is invalid; names the file and the field."""


@dataclass(frozen=True)
class Step:
    """A score at least ``at_least`` raises ``tier`` under ``rule``."""

    at_least: int
    tier: str
    rule: str


@dataclass(frozen=True)
class Rise:
    """A rise of at least ``by`` points over the comparison score."""

    by: int
    tier: str
    rule: str


@dataclass(frozen=True)
class Band:
    at_least: int
    label: str


def first_step(steps: tuple[Step, ...], value: int) -> Step | None:
    """The step with the highest ``at_least`` that ``value`` reaches (steps are sorted)."""
    return next((s for s in steps if value >= s.at_least), None)


@dataclass(frozen=True)
class Phq9:
    bands: tuple[Band, ...]  # ascending
    item9: tuple[Step, ...]  # descending
    total: tuple[Step, ...]  # descending
    rise: Rise

    def band(self, total: int) -> str:
        return next(b.label for b in reversed(self.bands) if total >= b.at_least)


@dataclass(frozen=True)
class Gad7:
    total: tuple[Step, ...]
    rise: Rise


@dataclass(frozen=True)
class Fibser:
    burden: tuple[Step, ...]


@dataclass(frozen=True)
class Adherence:
    window_days: int
    below: float
    min_scheduled: int
    tier: str
    rule: str

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.window_days)


@dataclass(frozen=True)
class MissedDaysRule:
    """Matches a medicine by name, class, never-stop flag or ``any`` (any one suffices)."""

    names: frozenset[str]
    classes: frozenset[str]
    never_stop_suddenly: bool
    any: bool
    at_least: int
    tier: str
    rule: str

    def matches(self, name: str, drug_class: str, never_stop_suddenly: bool) -> bool:
        return (
            self.any
            or name.strip().lower() in self.names
            or drug_class.strip().lower() in self.classes
            or (self.never_stop_suddenly and never_stop_suddenly)
        )


@dataclass(frozen=True)
class Silence:
    unanswered_checkins: int
    min_days: int
    tier: str
    rule: str
    recent_tiers: frozenset[str]
    recent_within_days: int
    recent_tier: str
    # High-risk also: one of these medicines started within the days (R19's "clozapine or
    # lithium start"); "age < 25 starting an antidepressant" is the modifiers' rule.
    start_names: frozenset[str]
    start_within_days: int


@dataclass(frozen=True)
class Combine:
    at_least: int
    min_tier: str
    within_hours: int
    tier: str
    rule: str


@dataclass(frozen=True)
class YoungAntidepressant:
    under_age: int
    classes: frozenset[str]
    start_within_days: int
    change_within_days: int


@dataclass(frozen=True)
class RecentTier:
    tier: str
    within_days: int


@dataclass(frozen=True)
class MedicineStart:
    id: str
    names: frozenset[str]
    within_days: int


@dataclass(frozen=True)
class Modifiers:
    raise_by: int
    stack: bool
    young_antidepressant: YoungAntidepressant
    recent_emergency: RecentTier
    medicine_start: tuple[MedicineStart, ...]


@dataclass(frozen=True)
class AgeBands:
    """The age bands enrolment accepts, each with its youngest age, and the band an
    unrecorded (or unlisted) one is treated as."""

    youngest_ages: tuple[tuple[str, int], ...]  # youngest first
    unknown: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.youngest_ages)

    def youngest(self, band: str | None) -> int:
        """The youngest age in the band; an unknown band counts as ``unknown``."""
        ages = dict(self.youngest_ages)
        return ages[band] if band in ages else ages[self.unknown]


@dataclass(frozen=True)
class Thresholds:
    version: str
    phq2_trigger: int
    phq9: Phq9
    gad7: Gad7
    fibser: Fibser
    adherence: Adherence
    missed_days: tuple[MissedDaysRule, ...]
    silence: Silence
    combine: Combine
    modifiers: Modifiers
    age_bands: AgeBands

    def missed_days_rule(
        self, name: str, drug_class: str, never_stop_suddenly: bool
    ) -> MissedDaysRule:
        """The first missed-days rule that matches (the loader guarantees one does)."""
        return next(r for r in self.missed_days if r.matches(name, drug_class, never_stop_suddenly))


class _Parser:
    """Field readers that name the failing field in their errors."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, field: str, problem: str) -> ThresholdError:
        return ThresholdError(self.file, field, problem)

    def mapping(
        self, value: object, field: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> Mapping[str, object]:
        if not isinstance(value, dict):
            raise self.fail(field or "(document)", "must be a mapping")
        for key in value:
            if key not in required and key not in optional:
                raise self.fail(_join(field, str(key)), "is not a known field")
        for key in required:
            if key not in value:
                raise self.fail(_join(field, key), "is missing")
        return value

    def integer(self, m: Mapping[str, object], key: str, field: str, lo: int, hi: int) -> int:
        value = m[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(_join(field, key), f"must be a whole number, not {value!r}")
        if not lo <= value <= hi:
            raise self.fail(_join(field, key), f"must be between {lo} and {hi}, not {value}")
        return value

    def fraction(self, m: Mapping[str, object], key: str, field: str) -> float:
        value = m[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(_join(field, key), f"must be a number, not {value!r}")
        if not 0 < value <= 1:
            raise self.fail(_join(field, key), f"must be above 0 and at most 1, not {value}")
        return float(value)

    def boolean(self, m: Mapping[str, object], key: str, field: str) -> bool:
        value = m[key]
        if not isinstance(value, bool):
            raise self.fail(_join(field, key), f"must be true or false, not {value!r}")
        return value

    def text(self, m: Mapping[str, object], key: str, field: str) -> str:
        value = m[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(_join(field, key), f"must be a non-empty string, not {value!r}")
        return value.strip()

    def tier(self, m: Mapping[str, object], key: str, field: str) -> str:
        value = m[key]
        if value not in FINDING_TIERS:
            raise self.fail(_join(field, key), f"must be one of {', '.join(FINDING_TIERS)}")
        assert isinstance(value, str)
        return value

    def names(self, m: Mapping[str, object], key: str, field: str) -> frozenset[str]:
        value = m[key]
        if not isinstance(value, list) or not value:
            raise self.fail(_join(field, key), "must be a non-empty list")
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{_join(field, key)}[{i}]", "must be a non-empty string")
            out.append(item.strip().lower())
        return frozenset(out)

    def items(self, value: object, field: str) -> list[object]:
        if not isinstance(value, list) or not value:
            raise self.fail(field, "must be a non-empty list")
        return list(value)

    def steps(self, value: object, field: str, hi: int) -> tuple[Step, ...]:
        steps: list[Step] = []
        for i, raw in enumerate(self.items(value, field)):
            where = f"{field}[{i}]"
            m = self.mapping(raw, where, ("at_least", "tier", "rule"))
            step = Step(
                self.integer(m, "at_least", where, 1, hi),
                self.tier(m, "tier", where),
                self.text(m, "rule", where),
            )
            if any(s.at_least == step.at_least for s in steps):
                raise self.fail(f"{where}.at_least", f"{step.at_least} is listed twice")
            steps.append(step)
        return tuple(sorted(steps, key=lambda s: -s.at_least))

    def rise(self, value: object, field: str, hi: int) -> Rise:
        m = self.mapping(value, field, ("by", "tier", "rule"))
        return Rise(
            self.integer(m, "by", field, 1, hi),
            self.tier(m, "tier", field),
            self.text(m, "rule", field),
        )


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def _phq9(p: _Parser, raw: object) -> Phq9:
    m = p.mapping(raw, "phq9", ("bands", "item9", "total", "rise"))
    bands: list[Band] = []
    for i, item in enumerate(p.items(m["bands"], "phq9.bands")):
        where = f"phq9.bands[{i}]"
        b = p.mapping(item, where, ("at_least", "label"))
        band = Band(p.integer(b, "at_least", where, 0, PHQ9_MAX), p.text(b, "label", where))
        if bands and band.at_least <= bands[-1].at_least:
            raise p.fail(f"{where}.at_least", "bands must go up, lowest first")
        if not bands and band.at_least != 0:
            raise p.fail(f"{where}.at_least", "the first band must start at 0")
        bands.append(band)
    item9 = p.steps(m["item9"], "phq9.item9", ITEM9_MAX)
    if item9[-1].at_least != 1:
        raise p.fail("phq9.item9", "the lowest step must be 1 (any positive answer escalates)")
    if any(RISKS.index(s.tier) < RISKS.index("urgent") for s in item9):
        raise p.fail("phq9.item9", "every step must be urgent or emergency (same-day contact)")
    return Phq9(
        tuple(bands),
        item9,
        p.steps(m["total"], "phq9.total", PHQ9_MAX),
        p.rise(m["rise"], "phq9.rise", PHQ9_MAX),
    )


def _missed_days(p: _Parser, raw: object) -> tuple[MissedDaysRule, ...]:
    rules: list[MissedDaysRule] = []
    matchers = ("names", "classes", "never_stop_suddenly", "any")
    items = p.items(raw, "missed_days")
    for i, item in enumerate(items):
        where = f"missed_days[{i}]"
        m = p.mapping(item, where, ("at_least", "tier", "rule"), matchers)
        if not any(k in m for k in matchers):
            raise p.fail(where, f"needs at least one of {', '.join(matchers)}")
        rules.append(
            MissedDaysRule(
                names=p.names(m, "names", where) if "names" in m else frozenset(),
                classes=p.names(m, "classes", where) if "classes" in m else frozenset(),
                never_stop_suddenly=(
                    p.boolean(m, "never_stop_suddenly", where)
                    if "never_stop_suddenly" in m
                    else False
                ),
                any=p.boolean(m, "any", where) if "any" in m else False,
                at_least=p.integer(m, "at_least", where, 1, 366),
                tier=p.tier(m, "tier", where),
                rule=p.text(m, "rule", where),
            )
        )
    if not rules[-1].any:
        raise p.fail(f"missed_days[{len(rules) - 1}].any", "the last rule must match any medicine")
    return tuple(rules)


def _silence(p: _Parser, raw: object) -> Silence:
    keys = ("unanswered_checkins", "min_days", "tier", "rule", "recent_tiers")
    m = p.mapping(raw, "silence", (*keys, "recent_within_days", "recent_tier", "high_risk_starts"))
    where = "silence.high_risk_starts"
    starts = p.mapping(m["high_risk_starts"], where, ("names", "within_days"))
    recent = p.names(m, "recent_tiers", "silence")
    raw_tiers = m["recent_tiers"]
    assert isinstance(raw_tiers, list)
    for i, name in enumerate(raw_tiers):
        if name not in FINDING_TIERS:
            raise p.fail(f"silence.recent_tiers[{i}]", f"{name!r} is not a tier")
    return Silence(
        unanswered_checkins=p.integer(m, "unanswered_checkins", "silence", 1, 100),
        min_days=p.integer(m, "min_days", "silence", 0, 366),
        tier=p.tier(m, "tier", "silence"),
        rule=p.text(m, "rule", "silence"),
        recent_tiers=recent,
        recent_within_days=p.integer(m, "recent_within_days", "silence", 1, 366),
        recent_tier=p.tier(m, "recent_tier", "silence"),
        start_names=p.names(starts, "names", where),
        start_within_days=p.integer(starts, "within_days", where, 1, 3660),
    )


def _modifiers(p: _Parser, raw: object) -> Modifiers:
    keys = ("raise_by", "stack", "young_antidepressant", "recent_emergency", "medicine_start")
    m = p.mapping(raw, "modifiers", keys)
    where = "modifiers.young_antidepressant"
    y = p.mapping(
        m["young_antidepressant"],
        where,
        ("under_age", "classes", "start_within_days", "change_within_days"),
    )
    young = YoungAntidepressant(
        under_age=p.integer(y, "under_age", where, 1, 150),
        classes=p.names(y, "classes", where),
        start_within_days=p.integer(y, "start_within_days", where, 1, 3660),
        change_within_days=p.integer(y, "change_within_days", where, 1, 3660),
    )
    where = "modifiers.recent_emergency"
    r = p.mapping(m["recent_emergency"], where, ("tier", "within_days"))
    recent = RecentTier(p.tier(r, "tier", where), p.integer(r, "within_days", where, 1, 3660))
    starts: list[MedicineStart] = []
    for i, item in enumerate(p.items(m["medicine_start"], "modifiers.medicine_start")):
        where = f"modifiers.medicine_start[{i}]"
        s = p.mapping(item, where, ("id", "names", "within_days"))
        start = MedicineStart(
            p.text(s, "id", where),
            p.names(s, "names", where),
            p.integer(s, "within_days", where, 1, 3660),
        )
        if start.id in {"young_antidepressant", "recent_emergency"} | {x.id for x in starts}:
            raise p.fail(f"{where}.id", f"{start.id!r} is already a modifier id")
        starts.append(start)
    return Modifiers(
        raise_by=p.integer(m, "raise_by", "modifiers", 1, len(FINDING_TIERS) - 1),
        stack=p.boolean(m, "stack", "modifiers"),
        young_antidepressant=young,
        recent_emergency=recent,
        medicine_start=tuple(starts),
    )


_BAND_NAME = re.compile(r"^[a-z0-9_]{1,16}$")


def _age_bands(p: _Parser, raw: object) -> AgeBands:
    m = p.mapping(raw, "age_bands", ("bands", "unknown"))
    bands: list[tuple[str, int]] = []
    for i, item in enumerate(p.items(m["bands"], "age_bands.bands")):
        where = f"age_bands.bands[{i}]"
        b = p.mapping(item, where, ("band", "youngest"))
        name = b["band"]
        if not isinstance(name, str) or not _BAND_NAME.match(name):
            raise p.fail(f"{where}.band", "must be 1-16 of a-z, 0-9 and _ (quote it)")
        youngest = p.integer(b, "youngest", where, 0, 150)
        if any(name == n for n, _ in bands):
            raise p.fail(f"{where}.band", f"{name!r} is listed twice")
        if bands and youngest <= bands[-1][1]:
            raise p.fail(f"{where}.youngest", "bands must go up, youngest first")
        if not bands and youngest != 0:
            raise p.fail(f"{where}.youngest", "the first band must start at 0")
        bands.append((name, youngest))
    unknown = m["unknown"]
    if unknown not in {n for n, _ in bands}:
        raise p.fail("age_bands.unknown", "must be one of the bands")
    assert isinstance(unknown, str)
    return AgeBands(tuple(bands), unknown)


SECTIONS = (
    "version",
    "phq2",
    "phq9",
    "gad7",
    "fibser",
    "adherence",
    "missed_days",
    "silence",
    "combine",
    "modifiers",
    "age_bands",
)


def parse_thresholds(doc: object, file: str = "<thresholds>") -> Thresholds:
    """Validate a loaded YAML document; raises :class:`ThresholdError` naming the field."""
    p = _Parser(file)
    top = p.mapping(doc, "", SECTIONS)
    version = top["version"]
    if not isinstance(version, str) or not version.strip():
        raise p.fail("version", "must be a non-empty string (quote it)")
    phq2 = p.mapping(top["phq2"], "phq2", ("trigger",))
    gad7 = p.mapping(top["gad7"], "gad7", ("total", "rise"))
    fibser = p.mapping(top["fibser"], "fibser", ("burden",))
    adh = p.mapping(
        top["adherence"], "adherence", ("window_days", "below", "min_scheduled", "tier", "rule")
    )
    comb = p.mapping(
        top["combine"], "combine", ("at_least", "min_tier", "within_hours", "tier", "rule")
    )
    combine = Combine(
        at_least=p.integer(comb, "at_least", "combine", 2, 100),
        min_tier=p.tier(comb, "min_tier", "combine"),
        within_hours=p.integer(comb, "within_hours", "combine", 1, 24 * 366),
        tier=p.tier(comb, "tier", "combine"),
        rule=p.text(comb, "rule", "combine"),
    )
    if RISKS.index(combine.tier) <= RISKS.index(combine.min_tier):
        raise p.fail("combine.tier", "must be higher than combine.min_tier")
    return Thresholds(
        version=version.strip(),
        phq2_trigger=p.integer(phq2, "trigger", "phq2", 1, PHQ2_MAX),
        phq9=_phq9(p, top["phq9"]),
        gad7=Gad7(
            p.steps(gad7["total"], "gad7.total", GAD7_MAX),
            p.rise(gad7["rise"], "gad7.rise", GAD7_MAX),
        ),
        fibser=Fibser(p.steps(fibser["burden"], "fibser.burden", FIBSER_MAX)),
        adherence=Adherence(
            window_days=p.integer(adh, "window_days", "adherence", 1, 366),
            below=p.fraction(adh, "below", "adherence"),
            min_scheduled=p.integer(adh, "min_scheduled", "adherence", 1, 10_000),
            tier=p.tier(adh, "tier", "adherence"),
            rule=p.text(adh, "rule", "adherence"),
        ),
        missed_days=_missed_days(p, top["missed_days"]),
        silence=_silence(p, top["silence"]),
        combine=combine,
        modifiers=_modifiers(p, top["modifiers"]),
        age_bands=_age_bands(p, top["age_bands"]),
    )


@lru_cache(maxsize=4)
def load_thresholds(path: str = "") -> Thresholds:
    """Load and validate the thresholds file (default: the packaged thresholds.yaml).

    Cached per path; raises :class:`ThresholdError` for a missing, unreadable or invalid
    file.
    """
    file = Path(path) if path else DEFAULT_THRESHOLDS
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ThresholdError(str(file), "(file)", f"cannot read: {exc.strerror}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ThresholdError(str(file), "(file)", f"not valid YAML: {exc}") from None
    return parse_thresholds(doc, str(file))
