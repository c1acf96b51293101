"""Questionnaire scoring (PHQ-2, PHQ-9, ASQ, FIBSER).

The cut-offs are clinic configuration: they come from escalation/thresholds.yaml (or
the file ESCALATION_THRESHOLDS names), never from constants here. ASQ scoring is the
instrument's own definition: yes to any of items 1-4 is positive, yes to item 5
(thoughts of suicide right now) is acute.
"""

from __future__ import annotations

import os

from escalation.thresholds import Thresholds, first_step, load_thresholds


def thresholds() -> Thresholds:
    return load_thresholds(os.environ.get("ESCALATION_THRESHOLDS", ""))


def phq2_positive(item1: int, item2: int) -> bool:
    """The PHQ-2 total calls for the full PHQ-9."""
    return item1 + item2 >= thresholds().phq2_trigger


def phq9_band(total: int) -> str:
    return thresholds().phq9.band(total)


def item9_escalates(value: int) -> bool:
    """Item 9 (thoughts of death or self-harm) at or above the lowest step escalates."""
    return first_step(thresholds().phq9.item9, value) is not None


def phq9_total_rule(total: int) -> tuple[str, str] | None:
    """(tier, rule) for a PHQ-9 total, or None below every step."""
    step = first_step(thresholds().phq9.total, total)
    return (step.tier, step.rule) if step else None


def asq_result(answers: dict[int, bool]) -> str:
    """ "acute", "positive" or "negative" from the answers given so far."""
    if answers.get(5):
        return "acute"
    if any(answers.get(i) for i in (1, 2, 3, 4)):
        return "positive"
    return "negative"


def fibser_rule(burden: int) -> tuple[str, str] | None:
    """(tier, rule) the FIBSER burden rating calls for, or None (log it, no review)."""
    step = first_step(thresholds().fibser.burden, burden)
    return (step.tier, step.rule) if step else None


def fibser_tier(burden: int) -> str:
    rule = fibser_rule(burden)
    return rule[0] if rule else "routine"
