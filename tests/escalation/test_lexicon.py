"""escalation/lexicon.yaml and the screen's API: loading, validation, medicines, tiers."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from education.library import load_library
from escalation import safety
from escalation.safety import (
    CRISIS_REASONS,
    LEXICON_FILE,
    LexiconError,
    Screen,
    load_lexicon,
    parse_lexicon,
    screen,
)
from tests.escalation.test_screen_regression import CASES

REPO = Path(__file__).resolve().parents[2]
NMS = "so stiff and i have a fever"


def test_it_loads_the_packaged_lexicon() -> None:
    lexicon = load_lexicon()
    assert lexicon.version
    assert lexicon.version == safety.LEXICON_VERSION == Screen("none").version
    assert len(lexicon.entries) >= 30
    assert len({entry.id for entry in lexicon.entries}) == len(lexicon.entries)
    assert load_lexicon() is lexicon  # cached
    assert load_lexicon(LEXICON_FILE) is lexicon


def test_it_never_reads_the_lexicon_at_import() -> None:
    code = (
        "import sys, escalation.safety as s\n"
        "assert s._load.cache_info().currsize == 0\n"
        "assert 'education.library' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_it_covers_every_entry_with_at_least_three_regression_phrasings() -> None:
    counts = Counter(entry for case in CASES for entry in case.entries or ())
    thin = {e.id: counts[e.id] for e in load_lexicon().entries if counts[e.id] < 3}
    assert not thin, f"entries with fewer than 3 regression phrasings: {thin}"


def test_it_names_only_real_entries_in_the_regression_file() -> None:
    ids = {entry.id for entry in load_lexicon().entries}
    named = {entry for case in CASES for entry in case.entries or ()}
    assert named <= ids, named - ids


def test_it_has_regression_false_alarms() -> None:
    assert sum(case.tier == "none" for case in CASES) >= 20


def test_it_ignores_an_unknown_medicine() -> None:
    assert screen("i have a rash", ["notamedicine"]) == Screen("none")
    assert screen("i have a rash", ["notamedicine", "lamotrigine"]).tier == "urgent"
    assert screen("i want to die", ["notamedicine"]).crisis


@pytest.mark.parametrize("name", ["lamotrigine", "Lamictal", "lamictol", " LAMOTRIGINE "])
def test_it_resolves_brands_and_misspellings_through_the_library(name: str) -> None:
    assert screen("i have a rash", [name]).entries == ("redflag.lamotrigine_rash",)


@pytest.mark.parametrize("med", load_library().names())
def test_it_resolves_classes_through_the_library(med: str) -> None:
    medication = load_library().get(med)
    assert medication is not None
    found = screen(NMS, [med])
    assert ("redflag.antipsychotic_nms" in found.entries) == (
        medication.drug_class == "antipsychotic"
    )


def test_it_accepts_a_single_medicine_name() -> None:
    assert screen(NMS, "haloperidol").tier == "emergency"


def test_it_applies_medicine_entries_only_to_patients_on_them() -> None:
    assert screen("i have a sore throat").tier == "none"
    assert screen("i have a sore throat", ["sertraline"]).tier == "none"
    assert screen("i have a sore throat", ["clozapine"]).tier == "urgent"


def test_it_applies_any_medicine_entries_without_medicines() -> None:
    for text in ("i had a seizure", "i fainted", "my throat is closing", "i cant breathe"):
        found = screen(text)
        assert (found.tier, found.rules, found.red_flag, found.crisis) == (
            "emergency",
            ("R9",),
            True,
            False,
        ), text


@pytest.mark.parametrize(
    "text",
    [
        "i'm not suicidal",
        "no i'm not going to kill myself",
        "i dont want to die",
        "never said i took all my pills",
        "not cutting myself anymore",
    ],
)
def test_it_never_lets_a_negation_clear_a_crisis_entry(text: str) -> None:
    found = screen(text)
    assert found.tier == "emergency"
    assert found.crisis


def test_it_reports_crisis_and_red_flag_separately() -> None:
    crisis = screen("i want to die")
    assert (crisis.crisis, crisis.red_flag, crisis.rules) == (True, False, ("R1",))
    assert crisis.reasons == ("ideation",)
    red_flag = screen("rash with blisters", ["lamotrigine"])
    assert (red_flag.crisis, red_flag.red_flag, red_flag.tier) == (False, True, "emergency")
    both = screen("i took all my pills and now i had a seizure")
    assert (both.crisis, both.red_flag, both.rules) == (True, True, ("R2", "R9"))
    assert both.reasons == ("overdose", "seizure")


def test_it_lets_the_highest_tier_win() -> None:
    urgent = screen("i have a rash", ["lamotrigine"])
    assert urgent.tier == "urgent"
    both = screen("i have a rash and i fainted", ["lamotrigine"])
    assert both.tier == "emergency"
    assert both.rules == ("R9", "R10")
    assert both.entries == ("redflag.syncope", "redflag.lamotrigine_rash")


def test_it_keeps_crisis_reasons_and_labels_red_flags_for_clinicians() -> None:
    for entry in load_lexicon().entries:
        assert (entry.reason in CRISIS_REASONS) == entry.crisis, entry.id
    assert screen("rash and a fever", ["lamotrigine"]).reasons == tuple(
        sorted(
            (
                load_lexicon().entry("redflag.lamotrigine_rash").reason,
                load_lexicon().entry("redflag.lamotrigine_rash_fever").reason,
            )
        )
    )


def test_it_reads_an_empty_message_as_nothing() -> None:
    assert screen("", ["lithium", "clozapine"]) == Screen("none")
    assert not Screen("none").crisis and not Screen("none").red_flag


# --- validation ---------------------------------------------------------------------------

VALID: dict[str, Any] = {
    "version": "test-1",
    "macros": {"PILLS": "(?:pills|meds)"},
    "negation": {
        "window": 4,
        "breaks": ["[.,]"],
        "subjects": ["(?:i|he|she)"],
        "before": [r"\bno\b"],
        "pseudo": [r"\bno idea\b"],
        "after": [r"^gone\b"],
        "after_rules": ["R10"],
        "blockers": [r"\bagain\b"],
    },
    "entries": [
        {
            "id": "overdose.test",
            "rule": "R2",
            "tier": "emergency",
            "reason": "overdose",
            "patterns": [r"\btook all my {PILLS}"],
        },
        {
            "id": "redflag.test",
            "rule": "R10",
            "tier": "urgent",
            "reason": "rash on lamotrigine",
            "patterns": [r"\brash\b"],
            "medicines": ["lamotrigine"],
            "classes": ["mood_stabiliser"],
            "unless": [r"\brash decision\b"],
            "also": [r"\bitchy\b"],
        },
    ],
}


def _with(path: str, value: object) -> dict[str, Any]:
    """VALID with one field set (value None: removed); path like 'entries.1.rule'."""
    data = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is None:
        del node[int(last) if isinstance(node, list) else last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


def test_it_accepts_the_valid_example() -> None:
    lexicon = parse_lexicon("test.yaml", VALID)
    assert [e.id for e in lexicon.entries] == ["overdose.test", "redflag.test"]
    assert lexicon.entry("overdose.test").patterns[0].pattern == r"\btook all my (?:pills|meds)"


INVALID: list[tuple[str, object, str]] = [
    ("version", None, "version: missing field"),
    ("version", "", "version: must be a non-empty string"),
    ("extra", 1, "extra: unknown field"),
    ("negation.window", 0, "negation.window: must be a whole number"),
    ("negation.before", [], "negation.before: must be a non-empty list"),
    ("negation.subjects", None, "negation.subjects: missing field"),
    ("negation.after_rules", ["R1"], "negation.after_rules: 'R1' is not one of R9, R10"),
    ("macros", {"pills": "x"}, "macros.pills: names are UPPER_CASE"),
    ("entries", [], "entries: must be a non-empty list"),
    ("entries.1.patterns", None, "entries[1] (redflag.test).patterns: missing field"),
    ("entries.1.patterns", [], "entries[1] (redflag.test).patterns: must be a non-empty list"),
    ("entries.1.patterns", ["(rash"], "(redflag.test).patterns[0]: not a valid regex"),
    ("entries.1.patterns", ["Rash"], "(redflag.test).patterns[0]: has upper-case letters"),
    ("entries.1.patterns", ["can't"], "(redflag.test).patterns[0]: has an apostrophe"),
    ("entries.1.patterns", ["x?"], "(redflag.test).patterns[0]: matches an empty message"),
    ("entries.1.patterns", ["{NOPE}"], "(redflag.test).patterns[0]: unknown macro {NOPE}"),
    ("entries.1.unless", ["[a"], "(redflag.test).unless[0]: not a valid regex"),
    ("entries.1.also", [], "(redflag.test).also: must be a non-empty list"),
    ("entries.1.rule", "R7", "(redflag.test).rule: 'R7' is not one of"),
    ("entries.1.tier", "emergency", "(redflag.test).tier: R10 is urgent, not emergency"),
    ("entries.1.tier", "soon", "(redflag.test).tier: 'soon' is not one of"),
    ("entries.1.reason", "overdose", "(redflag.test).reason: crisis rules"),
    ("entries.0.reason", "took pills", "(overdose.test).reason: crisis rules"),
    ("entries.1.reason", " ", "(redflag.test).reason: must be a non-empty string"),
    ("entries.1.medicines", ["notamedicine"], "'notamedicine' is not a generic name"),
    ("entries.1.medicines", ["Lamictal"], "'Lamictal' is not a generic name"),
    ("entries.1.classes", ["antibiotic"], "(redflag.test).classes: 'antibiotic' is not one of"),
    ("entries.1.colour", "red", "entries[1] (redflag.test).colour: unknown field"),
    ("entries.1.id", "Bad Id", "entries[1] (Bad Id).id: must look like 'group.name'"),
    ("entries.1.id", "overdose.test", "entries[1] (overdose.test): duplicate id"),
    ("entries.1", "just a string", "entries[1]: must be a mapping"),
]


@pytest.mark.parametrize(("path", "value", "message"), INVALID, ids=[m for *_, m in INVALID])
def test_it_raises_a_clear_error_for_an_invalid_lexicon(
    path: str, value: object, message: str
) -> None:
    with pytest.raises(LexiconError) as caught:
        parse_lexicon("test.yaml", _with(path, value))
    assert str(caught.value).startswith("test.yaml: ")
    assert message in str(caught.value)


def test_it_names_the_file_when_the_yaml_is_broken(tmp_path: Path) -> None:
    bad = tmp_path / "lexicon.yaml"
    bad.write_text("version: [unclosed\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"^lexicon\.yaml: \*: not valid YAML"):
        load_lexicon(bad)
    with pytest.raises(LexiconError, match="cannot read"):
        load_lexicon(tmp_path / "missing.yaml")
