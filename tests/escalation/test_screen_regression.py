"""The safety screen against its regression file, ``screen_regression.yaml``.

One test per case (id: the message, with the medicines when there are any). Every miss or
false alarm found in review goes into the file first; then the lexicon is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from escalation.safety import CRISIS_RULES, RED_FLAG_RULES, RULES, screen

REGRESSION_FILE = Path(__file__).resolve().parent / "screen_regression.yaml"
TIERS = ("emergency", "urgent", "none")


@dataclass(frozen=True)
class Case:
    text: str
    medicines: tuple[str, ...]
    tier: str
    rules: tuple[str, ...]
    entries: tuple[str, ...] | None  # None: not checked

    @property
    def id(self) -> str:
        return f"{self.text} [on {', '.join(self.medicines)}]" if self.medicines else self.text


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{REGRESSION_FILE.name}: {where}: must be a list of strings")
    return tuple(str(v) for v in value)


def load_cases() -> list[Case]:
    data = yaml.safe_load(REGRESSION_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{REGRESSION_FILE.name}: must be a list of cases")
    cases: list[Case] = []
    for i, raw in enumerate(data):
        where = f"case {i}"
        if not isinstance(raw, dict) or not {"text", "medicines", "tier", "rules"} <= set(raw):
            raise ValueError(f"{REGRESSION_FILE.name}: {where}: needs text, medicines, tier, rules")
        unknown = set(raw) - {"text", "medicines", "tier", "rules", "entries"}
        if unknown:
            raise ValueError(f"{REGRESSION_FILE.name}: {where}: unknown field {sorted(unknown)}")
        text, tier = raw["text"], raw["tier"]
        if not isinstance(text, str) or tier not in TIERS:
            raise ValueError(f"{REGRESSION_FILE.name}: {where}: bad text or tier")
        rules = _strings(raw["rules"], f"{where}.rules")
        if any(rule not in RULES for rule in rules):
            raise ValueError(f"{REGRESSION_FILE.name}: {where}: unknown rule in {rules}")
        entries = _strings(raw["entries"], f"{where}.entries") if "entries" in raw else None
        cases.append(Case(text, _strings(raw["medicines"], where), tier, rules, entries))
    return cases


CASES = load_cases()


def test_it_has_a_case_for_every_tier() -> None:
    assert {case.tier for case in CASES} == set(TIERS)


def test_it_keeps_every_case_consistent() -> None:
    for case in CASES:
        assert (case.tier == "none") == (not case.rules), case.id
        if case.entries is not None:
            assert bool(case.entries) == bool(case.rules), case.id


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_it_screens_each_regression_case(case: Case) -> None:
    found = screen(case.text, case.medicines)
    assert found.tier == case.tier
    assert found.rules == case.rules
    if case.entries is not None:
        assert found.entries == case.entries
    assert found.crisis == any(rule in CRISIS_RULES for rule in case.rules)
    assert found.red_flag == any(rule in RED_FLAG_RULES for rule in case.rules)
