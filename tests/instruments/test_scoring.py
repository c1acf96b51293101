"""instruments.scoring: PHQ-2 trigger, PHQ-9 bands, item 9, ASQ result, FIBSER tier."""

from __future__ import annotations

import pytest

from instruments.scoring import (
    asq_result,
    fibser_tier,
    item9_escalates,
    phq2_positive,
    phq9_band,
    thresholds,
)


@pytest.mark.parametrize(
    ("item1", "item2", "positive"),
    [
        (0, 0, False),
        (1, 0, False),
        (0, 1, False),
        (1, 1, True),
        (2, 0, True),
        (0, 2, True),
        (3, 3, True),
    ],
)
def test_it_triggers_the_phq9_from_a_phq2_total_of_2(
    item1: int, item2: int, positive: bool
) -> None:
    assert thresholds().phq2_trigger == 2  # from escalation/thresholds.yaml
    assert phq2_positive(item1, item2) is positive


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_it_bands_a_phq9_total(total: int, band: str) -> None:
    assert phq9_band(total) == band


@pytest.mark.parametrize(("value", "escalates"), [(0, False), (1, True), (2, True), (3, True)])
def test_it_escalates_item_9_above_0(value: int, escalates: bool) -> None:
    assert item9_escalates(value) is escalates


@pytest.mark.parametrize(
    ("answers", "result"),
    [
        ({}, "negative"),
        ({1: False, 2: False, 3: False, 4: False}, "negative"),
        ({1: False, 2: False, 3: False, 4: False, 5: False}, "negative"),
        ({1: True, 2: False, 3: False, 4: False}, "positive"),
        ({1: False, 2: True, 3: False, 4: False, 5: False}, "positive"),
        ({3: True}, "positive"),
        ({1: False, 2: False, 3: False, 4: True, 5: False}, "positive"),
        ({1: True, 2: True, 3: True, 4: True, 5: False}, "positive"),
        ({1: True, 2: False, 3: False, 4: False, 5: True}, "acute"),
        # Item 5 yes is acute whatever the rest says.
        ({1: False, 2: False, 3: False, 4: False, 5: True}, "acute"),
    ],
)
def test_it_scores_the_asq(answers: dict[int, bool], result: str) -> None:
    assert asq_result(answers) == result


@pytest.mark.parametrize(
    ("burden", "tier"),
    [
        (0, "routine"),
        (1, "routine"),
        (2, "routine"),
        (3, "prompt"),
        (4, "prompt"),
        (5, "prompt"),
        (6, "prompt"),
    ],
)
def test_it_routes_a_fibser_burden(burden: int, tier: str) -> None:
    assert fibser_tier(burden) == tier
