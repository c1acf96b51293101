"""instruments.answers: reading free-text answers to scales, PHQ items and yes/no questions."""

from __future__ import annotations

import pytest

from instruments.answers import parse_phq, parse_scale, parse_yes_no


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4", 4),
        ("0", 0),
        ("6", 6),
        (" 3 ", 3),
        ("five", 5),
        ("FIVE", 5),
        ("zero", 0),
        ("none", 0),
        ("six", 6),
        ("i'd say 3", 3),
        ("about a 2 i guess", 2),
        ("two, maybe two", 2),
        ("7", None),
        ("10", None),
        ("-", None),
        ("3.5", None),
        ("2.0", None),
        ("banana", None),
        ("", None),
        ("one or two", None),
        ("3 or 4", None),
        ("seven", None),
        ("someone", None),
    ],
)
def test_it_reads_a_whole_number_on_a_0_to_6_scale(text: str, expected: int | None) -> None:
    assert parse_scale(text, 0, 6) == expected


@pytest.mark.parametrize(
    ("text", "low", "high", "expected"),
    [("1", 1, 3, 1), ("0", 1, 3, None), ("4", 1, 3, None), ("three", 1, 3, 3)],
)
def test_it_keeps_to_the_bounds_it_is_given(
    text: str, low: int, high: int, expected: int | None
) -> None:
    assert parse_scale(text, low, high) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # digits and number words
        ("0", 0),
        ("1", 1),
        ("2", 2),
        ("3", 3),
        ("two", 2),
        ("zero", 0),
        ("4", None),
        # anchor words, 0
        ("not at all", 0),
        ("Not at all.", 0),
        ("never", 0),
        ("none", 0),
        ("no", 0),
        ("nope", 0),
        ("not really", 0),
        # 1
        ("several days", 1),
        ("some days", 1),
        ("a few days", 1),
        ("sometimes", 1),
        ("a couple of days", 1),
        # 2
        ("more than half the days", 2),
        ("over half", 2),
        ("half the days", 2),
        ("most days", 2),
        # 3
        ("nearly every day", 3),
        ("almost everyday", 3),
        ("every day", 3),
        ("all the time", 3),
        ("daily", 3),
        # unreadable
        ("banana", None),
        ("", None),
        ("idk", None),
    ],
)
def test_it_reads_a_phq_answer_from_digits_or_anchor_words(text: str, expected: int | None) -> None:
    assert parse_phq(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # yes
        ("yes", True),
        ("Yes!", True),
        ("YES", True),
        ("  yes  ", True),
        ("y", True),
        ("yess", True),
        ("yeah", True),
        ("yea", True),
        ("yep", True),
        ("yup", True),
        ("ya", True),
        ("sure", True),
        ("ok", True),
        ("okay", True),
        ("i did", True),
        ("i have", True),
        ("true", True),
        ("correct", True),
        ("yes i have", True),
        ("✅", True),
        ("👍", True),
        ("👍🏽", True),
        ("✔️", True),
        ("✔", True),
        # no
        ("no", False),
        ("No.", False),
        ("n", False),
        ("noo", False),
        ("nope", False),
        ("nah", False),
        ("not really", False),
        ("never", False),
        ("i didn't", False),
        ("i didnt", False),
        ("i haven't", False),
        ("false", False),
        ("no thanks", False),
        ("❌", False),
        ("👎", False),
        ("✖️", False),
        # unclear
        ("maybe", None),
        ("not sure", None),
        ("idk", None),
        ("yesterday", None),
        ("nothing", None),
        ("", None),
        ("banana", None),
        ("🙂", None),
    ],
)
def test_it_reads_yes_no_and_the_emoji(text: str, expected: bool | None) -> None:
    assert parse_yes_no(text) is expected


@pytest.mark.parametrize("text", ["i did not", "i have not", "I did not."])
def test_it_reads_a_spelled_out_negation_as_no(text: str) -> None:
    assert parse_yes_no(text) is False
