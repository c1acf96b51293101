"""Questionnaire scoring and cut-offs (PHQ-2, PHQ-9, ASQ, FIBSER). Pure functions.

Cut-offs are the proposals of the clinical research summary and are configured here
until the clinic's escalation configuration takes them over:
- PHQ-2 total >= 2 triggers the full PHQ-9 (more sensitive than 3 for a treated group).
- PHQ-9 item 9 above 0 escalates at once, whatever the total.
- ASQ: yes to any of items 1-4 is positive; yes to item 5 (acuity) is acute.
- FIBSER burden 3-4 needs the care team's attention; 5-6 likewise, sooner.
"""

from __future__ import annotations

PHQ2_TRIGGER = 2
PHQ9_BANDS = (
    (20, "severe"),
    (15, "moderately severe"),
    (10, "moderate"),
    (5, "mild"),
    (0, "minimal"),
)


def phq2_positive(item1: int, item2: int) -> bool:
    return item1 + item2 >= PHQ2_TRIGGER


def phq9_band(total: int) -> str:
    return next(band for floor, band in PHQ9_BANDS if total >= floor)


def item9_escalates(value: int) -> bool:
    return value > 0


def asq_result(answers: dict[int, bool]) -> str:
    """ "acute", "positive" or "negative" from the answers given so far."""
    if answers.get(5):
        return "acute"
    if any(answers.get(i) for i in (1, 2, 3, 4)):
        return "positive"
    return "negative"


def fibser_tier(burden: int) -> str:
    """The care tier a FIBSER burden rating calls for."""
    return "prompt" if burden >= 3 else "routine"
