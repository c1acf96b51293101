"""escalation/thresholds.yaml and its loader: the packaged values, caching, clinic copies
and every kind of invalid file (the error names the field)."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from education.library import DRUG_CLASSES, load_library
from escalation.thresholds import (
    DEFAULT_THRESHOLDS,
    Band,
    Rise,
    Step,
    ThresholdError,
    Thresholds,
    load_thresholds,
    parse_thresholds,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def t() -> Thresholds:
    return load_thresholds()


def raw() -> dict[str, Any]:
    doc = yaml.safe_load(DEFAULT_THRESHOLDS.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return copy.deepcopy(doc)


def missed(t: Thresholds, name: str, drug_class: str, never_stop: bool) -> tuple[int, str, str]:
    rule = t.missed_days_rule(name, drug_class, never_stop)
    return rule.at_least, rule.tier, rule.rule


PACKAGED: list[tuple[str, Callable[[Thresholds], object], object]] = [
    ("version", lambda t: t.version, "2026.11-2"),
    (
        "age bands",
        lambda t: (t.age_bands.youngest_ages, t.age_bands.unknown),
        ((("under_25", 0), ("25_64", 25), ("65_plus", 65)), "under_25"),
    ),
    (
        "unknown age band",
        lambda t: (t.age_bands.youngest(None), t.age_bands.youngest("18-24")),
        (0, 0),
    ),
    ("phq2 trigger", lambda t: t.phq2_trigger, 2),
    (
        "phq9 item 9",
        lambda t: t.phq9.item9,
        (Step(2, "urgent", "R5"), Step(1, "urgent", "R6")),
    ),
    (
        "phq9 total",
        lambda t: t.phq9.total,
        (Step(20, "prompt", "R16"), Step(10, "prompt", "R17")),
    ),
    ("phq9 rise", lambda t: t.phq9.rise, Rise(5, "prompt", "R16")),
    (
        "phq9 bands",
        lambda t: t.phq9.bands,
        (
            Band(0, "minimal"),
            Band(5, "mild"),
            Band(10, "moderate"),
            Band(15, "moderately severe"),
            Band(20, "severe"),
        ),
    ),
    ("gad7 total", lambda t: t.gad7.total, (Step(15, "prompt", "R17"),)),
    ("gad7 rise", lambda t: t.gad7.rise, Rise(5, "prompt", "R17")),
    (
        "fibser burden",
        lambda t: t.fibser.burden,
        (Step(5, "prompt", "R14"), Step(3, "prompt", "R15")),
    ),
    ("adherence window", lambda t: t.adherence.window_days, 14),
    ("adherence below", lambda t: t.adherence.below, 0.80),
    ("adherence minimum", lambda t: t.adherence.min_scheduled, 7),
    ("adherence rule", lambda t: (t.adherence.tier, t.adherence.rule), ("prompt", "R18")),
    (
        "missed clozapine",
        lambda t: missed(t, "clozapine", "antipsychotic", True),
        (1, "urgent", "R12"),
    ),
    (
        "missed lithium",
        lambda t: missed(t, "lithium", "mood_stabiliser", True),
        (2, "urgent", "R13"),
    ),
    (
        "missed lamotrigine",
        lambda t: missed(t, "lamotrigine", "mood_stabiliser", True),
        (3, "urgent", "R13"),
    ),
    (
        "missed valproate",
        lambda t: missed(t, "valproate", "mood_stabiliser", True),
        (2, "prompt", "R18"),
    ),
    (
        "missed carbamazepine",
        lambda t: missed(t, "Carbamazepine", "mood_stabiliser", True),
        (2, "prompt", "R18"),
    ),
    (
        "missed benzodiazepine not flagged",
        lambda t: missed(t, "alprazolam", "benzodiazepine", False),
        (2, "prompt", "R18"),
    ),
    (
        "missed never-stop",
        lambda t: missed(t, "guanfacine", "non_stimulant_adhd", True),
        (2, "prompt", "R18"),
    ),
    (
        "missed other",
        lambda t: missed(t, "bupropion", "atypical_antidepressant", False),
        (2, "prompt", "R18"),
    ),
    ("missed unknown", lambda t: missed(t, "newdrug", "", False), (2, "prompt", "R18")),
    ("silence count", lambda t: t.silence.unanswered_checkins, 3),
    ("silence min days", lambda t: t.silence.min_days, 0),
    ("silence rule", lambda t: (t.silence.tier, t.silence.rule), ("prompt", "R19")),
    (
        "silence recent",
        lambda t: (t.silence.recent_tiers, t.silence.recent_within_days, t.silence.recent_tier),
        (frozenset({"emergency", "urgent"}), 14, "urgent"),
    ),
    (
        "silence high-risk starts",
        lambda t: (t.silence.start_names, t.silence.start_within_days),
        (frozenset({"clozapine", "lithium"}), 56),
    ),
    (
        "combine",
        lambda t: (t.combine.at_least, t.combine.min_tier, t.combine.within_hours, t.combine.tier),
        (2, "urgent", 24, "emergency"),
    ),
    ("modifiers raise", lambda t: (t.modifiers.raise_by, t.modifiers.stack), (1, False)),
    (
        "modifier young",
        lambda t: (
            t.modifiers.young_antidepressant.under_age,
            t.modifiers.young_antidepressant.start_within_days,
            t.modifiers.young_antidepressant.change_within_days,
        ),
        (25, 56, 28),
    ),
    (
        "modifier young classes",
        lambda t: t.modifiers.young_antidepressant.classes,
        frozenset({"ssri", "snri", "atypical_antidepressant", "tricyclic", "maoi"}),
    ),
    (
        "modifier recent emergency",
        lambda t: (t.modifiers.recent_emergency.tier, t.modifiers.recent_emergency.within_days),
        ("emergency", 30),
    ),
    (
        "modifier medicine starts",
        lambda t: [(m.id, m.names, m.within_days) for m in t.modifiers.medicine_start],
        [
            ("clozapine_start", frozenset({"clozapine"}), 56),
            ("lamotrigine_start", frozenset({"lamotrigine"}), 56),
        ],
    ),
]


@pytest.mark.parametrize(
    ("get", "expected"), [(g, e) for _, g, e in PACKAGED], ids=[i for i, _, _ in PACKAGED]
)
def test_it_loads_the_packaged_values(
    t: Thresholds, get: Callable[[Thresholds], object], expected: object
) -> None:
    assert get(t) == expected


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate")]
    + [(14, "moderate"), (15, "moderately severe"), (19, "moderately severe")]
    + [(20, "severe"), (27, "severe")],
)
def test_it_bands_phq9_totals_at_their_edges(t: Thresholds, total: int, band: str) -> None:
    assert t.phq9.band(total) == band


def test_it_caches_and_never_reads_at_import() -> None:
    assert load_thresholds() is load_thresholds()
    assert load_thresholds(str(DEFAULT_THRESHOLDS)) == load_thresholds()
    code = (
        "import escalation.thresholds as t\nassert t.load_thresholds.cache_info().currsize == 0\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_it_names_only_library_medicines_and_classes(t: Thresholds) -> None:
    library = set(load_library().names())
    names = {n for r in t.missed_days for n in r.names}
    names |= {n for m in t.modifiers.medicine_start for n in m.names} | t.silence.start_names
    classes = {c for r in t.missed_days for c in r.classes}
    classes |= t.modifiers.young_antidepressant.classes
    assert names <= library, names - library
    assert classes <= set(DRUG_CLASSES), classes - set(DRUG_CLASSES)


def test_it_loads_a_clinic_copy(tmp_path: Path) -> None:
    doc = raw()
    doc["version"] = "clinic-7"
    doc["missed_days"][0]["at_least"] = 2
    doc["modifiers"]["stack"] = True
    file = tmp_path / "clinic.yaml"
    file.write_text(yaml.safe_dump(doc), encoding="utf-8")
    t = load_thresholds(str(file))
    assert t.version == "clinic-7"
    assert t.missed_days_rule("clozapine", "antipsychotic", True).at_least == 2
    assert t.modifiers.stack is True


def _keys(path: str) -> list[str | int]:
    """ "a.b[0].c" -> ["a", "b", 0, "c"]."""
    keys: list[str | int] = []
    for part in path.split("."):
        name, _, index = part.partition("[")
        keys.append(name)
        if index:
            keys.append(int(index.rstrip("]")))
    return keys


def _node(doc: dict[str, Any], keys: list[str | int]) -> Any:
    node: Any = doc
    for key in keys:
        node = node[key]
    return node


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """A mutation that sets a dotted path ("a.b[0].c") in the document."""

    def mutate(doc: dict[str, Any]) -> None:
        keys = _keys(path)
        _node(doc, keys[:-1])[keys[-1]] = value

    return mutate


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        keys = _keys(path)
        del _node(doc, keys[:-1])[keys[-1]]

    return mutate


def _drop_last_item9(doc: dict[str, Any]) -> None:
    doc["phq9"]["item9"].pop()


def _no_any_rule(doc: dict[str, Any]) -> None:
    doc["missed_days"].pop()


INVALID: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("version missing", _delete("version"), "version"),
    ("version a number", _set("version", 2026.11), "version"),
    ("unknown section", _set("phq10", {}), "phq10"),
    ("phq2 trigger a word", _set("phq2.trigger", "two"), "phq2.trigger"),
    ("phq2 trigger above 6", _set("phq2.trigger", 7), "phq2.trigger"),
    ("phq2 trigger a bool", _set("phq2.trigger", True), "phq2.trigger"),
    ("phq9 not a mapping", _set("phq9", [1, 2]), "phq9"),
    ("item9 tier misspelt", _set("phq9.item9[0].tier", "urgnet"), "phq9.item9[0].tier"),
    ("item9 below urgent", _set("phq9.item9[1].tier", "prompt"), "phq9.item9"),
    ("item9 lowest step not 1", _drop_last_item9, "phq9.item9"),
    ("item9 above 3", _set("phq9.item9[0].at_least", 4), "phq9.item9[0].at_least"),
    ("phq9 total above 27", _set("phq9.total[0].at_least", 28), "phq9.total[0].at_least"),
    ("phq9 total twice", _set("phq9.total[1].at_least", 20), "phq9.total[1].at_least"),
    ("phq9 step without rule", _delete("phq9.rise.rule"), "phq9.rise.rule"),
    ("phq9 rule empty", _set("phq9.total[0].rule", " "), "phq9.total[0].rule"),
    ("bands not from 0", _set("phq9.bands[0].at_least", 1), "phq9.bands[0].at_least"),
    ("bands going down", _set("phq9.bands[2].at_least", 4), "phq9.bands[2].at_least"),
    ("gad7 rise of 0", _set("gad7.rise.by", 0), "gad7.rise.by"),
    ("gad7 total above 21", _set("gad7.total[0].at_least", 22), "gad7.total[0].at_least"),
    ("fibser empty", _set("fibser.burden", []), "fibser.burden"),
    ("fibser above 6", _set("fibser.burden[0].at_least", 7), "fibser.burden[0].at_least"),
    ("adherence as a percentage", _set("adherence.below", 80), "adherence.below"),
    ("adherence zero", _set("adherence.below", 0), "adherence.below"),
    ("adherence a bool", _set("adherence.below", True), "adherence.below"),
    ("adherence window missing", _delete("adherence.window_days"), "adherence.window_days"),
    ("adherence window float", _set("adherence.window_days", 14.5), "adherence.window_days"),
    ("adherence tier none", _set("adherence.tier", "none"), "adherence.tier"),
    ("missed days no catch-all", _no_any_rule, "missed_days[4].any"),
    ("missed days no matcher", _delete("missed_days[0].names"), "missed_days[0]"),
    (
        "missed days names a string",
        _set("missed_days[0].names", "clozapine"),
        "missed_days[0].names",
    ),
    (
        "missed days blank name",
        _set("missed_days[0].names", ["clozapine", ""]),
        "missed_days[0].names[1]",
    ),
    ("missed days typo", _set("missed_days[1].min_days", 2), "missed_days[1].min_days"),
    ("missed days zero", _set("missed_days[1].at_least", 0), "missed_days[1].at_least"),
    (
        "missed days flag a word",
        _set("missed_days[4].never_stop_suddenly", "yes"),
        "missed_days[4].never_stop_suddenly",
    ),
    (
        "silence recent tier",
        _set("silence.recent_tiers", ["emergency", "T2"]),
        "silence.recent_tiers[1]",
    ),
    (
        "silence zero check-ins",
        _set("silence.unanswered_checkins", 0),
        "silence.unanswered_checkins",
    ),
    ("silence min days negative", _set("silence.min_days", -1), "silence.min_days"),
    (
        "silence starts missing",
        _delete("silence.high_risk_starts"),
        "silence.high_risk_starts",
    ),
    (
        "silence starts window 0",
        _set("silence.high_risk_starts.within_days", 0),
        "silence.high_risk_starts.within_days",
    ),
    ("combine of one", _set("combine.at_least", 1), "combine.at_least"),
    ("combine not higher", _set("combine.tier", "urgent"), "combine.tier"),
    ("modifiers stack a word", _set("modifiers.stack", "no"), "modifiers.stack"),
    ("modifiers raise by 0", _set("modifiers.raise_by", 0), "modifiers.raise_by"),
    (
        "modifier classes empty",
        _set("modifiers.young_antidepressant.classes", []),
        "modifiers.young_antidepressant.classes",
    ),
    (
        "modifier id twice",
        _set("modifiers.medicine_start[1].id", "clozapine_start"),
        "modifiers.medicine_start[1].id",
    ),
    (
        "modifier id reserved",
        _set("modifiers.medicine_start[0].id", "recent_emergency"),
        "modifiers.medicine_start[0].id",
    ),
    ("age bands empty", _set("age_bands.bands", []), "age_bands.bands"),
    ("age band unquoted", _set("age_bands.bands[1].band", 2564), "age_bands.bands[1].band"),
    ("age band spaces", _set("age_bands.bands[0].band", "under 25"), "age_bands.bands[0].band"),
    ("age band twice", _set("age_bands.bands[1].band", "under_25"), "age_bands.bands[1].band"),
    (
        "age bands not from 0",
        _set("age_bands.bands[0].youngest", 18),
        "age_bands.bands[0].youngest",
    ),
    (
        "age bands going down",
        _set("age_bands.bands[2].youngest", 20),
        "age_bands.bands[2].youngest",
    ),
    ("unknown band not listed", _set("age_bands.unknown", "child"), "age_bands.unknown"),
    ("age bands missing", _delete("age_bands"), "age_bands"),
    (
        "recent emergency missing",
        _delete("modifiers.recent_emergency.within_days"),
        "modifiers.recent_emergency.within_days",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "field"), [(m, f) for _, m, f in INVALID], ids=[i for i, _, _ in INVALID]
)
def test_it_rejects_an_invalid_file_naming_the_field(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], field: str
) -> None:
    doc = raw()
    mutate(doc)
    file = tmp_path / "thresholds.yaml"
    file.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ThresholdError) as caught:
        load_thresholds(str(file))
    assert caught.value.field == field
    assert caught.value.file == str(file)
    assert str(caught.value).startswith(f"{file}: {field}: ")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("- just\n- a list\n", "(document)"),
        ("version: [unclosed\n", "(file)"),
        ("", "(document)"),
    ],
    ids=["not a mapping", "not yaml", "empty"],
)
def test_it_rejects_a_file_that_is_not_a_thresholds_document(
    tmp_path: Path, text: str, field: str
) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ThresholdError) as caught:
        load_thresholds(str(file))
    assert caught.value.field == field


def test_it_rejects_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ThresholdError, match="cannot read"):
        load_thresholds(str(tmp_path / "nowhere.yaml"))


def test_it_parses_a_document_in_memory() -> None:
    assert parse_thresholds(raw()) == load_thresholds()
    with pytest.raises(ThresholdError, match="^<thresholds>: version: "):
        parse_thresholds({**raw(), "version": ""})
