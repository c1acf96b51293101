"""care.timing.parse_later: when "later" is, in the patient's local time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from care.timing import DEFAULT_LATER, parse_later

ZONE = ZoneInfo("America/New_York")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        # relative
        (local(22, 10), "in an hour", local(22, 11)),
        (local(22, 10), "ill take it in an hour", local(22, 11)),
        (local(22, 10), "in a hour", local(22, 11)),
        (local(22, 10), "in 30 mins", local(22, 10, 30)),
        (local(22, 10), "In 30 min", local(22, 10, 30)),
        (local(22, 10), "in 45 minutes", local(22, 10, 45)),
        (local(22, 10), "in 15m", local(22, 10, 15)),
        (local(22, 10), "in 2 hours", local(22, 12)),
        (local(22, 10), "in 2hrs", local(22, 12)),
        (local(22, 10), "in 1h", local(22, 11)),
        (local(22, 23, 45), "in 30 mins", local(23, 0, 15)),
        # "at 9": the next 9 o'clock
        (local(22, 7), "at 9", local(22, 9)),
        (local(22, 8, 59), "at 9", local(22, 9)),
        (local(22, 9), "at 9", local(22, 21)),
        (local(22, 10), "at 9", local(22, 21)),
        (local(22, 7), "at 9:30", local(22, 9, 30)),
        (local(22, 10), "by 8", local(22, 20)),
        (local(22, 10), "around 11", local(22, 11)),
        # with am / pm
        (local(22, 10), "at 9pm", local(22, 21)),
        (local(22, 10), "at 9 pm", local(22, 21)),
        (local(22, 10), "around 8:15pm", local(22, 20, 15)),
        (local(22, 22), "at 9pm", local(23, 21)),
        (local(22, 7), "at 9am", local(22, 9)),
        (local(22, 10), "at 9am", local(23, 9)),
        (local(22, 10), "at 12am", local(23, 0)),
        (local(22, 10), "at 12pm", local(22, 12)),
        (local(22, 10), "at 21", local(22, 21)),
        # named times
        (local(22, 10), "tonight", local(22, 21)),
        (local(22, 10), "I'll take it tonight", local(22, 21)),
        (local(22, 10), "this evening", local(22, 19)),
        (local(22, 10), "after dinner", local(22, 19)),
        (local(22, 10), "before bed", local(22, 22)),
        (local(22, 10), "at bedtime", local(22, 22)),
        (local(22, 10), "with lunch", local(22, 12)),
        (local(22, 10), "this afternoon", local(22, 15)),
        (local(22, 13), "this afternoon", local(22, 15)),
        (local(22, 13), "with lunch", local(23, 12)),
        # unparseable: an hour from now
        (local(22, 10), "later", local(22, 11)),
        (local(22, 10), "soon", local(22, 11)),
        (local(22, 10), "", local(22, 11)),
        (local(22, 10), "when i get home", local(22, 11)),
    ],
)
def test_it_reads_when_later_is(now: datetime, text: str, expected: datetime) -> None:
    got = parse_later(text, now)
    assert got == expected
    assert got.tzinfo is ZONE


def test_it_defaults_to_an_hour() -> None:
    assert DEFAULT_LATER == timedelta(hours=1)


@pytest.mark.parametrize(("now", "expected"), [(local(22, 22), local(23, 9))])
def test_it_reads_at_9_late_at_night_as_9_tomorrow_morning(
    now: datetime, expected: datetime
) -> None:
    assert parse_later("at 9", now) == expected


@pytest.mark.parametrize("text", ["at 9:75", "at 10:99pm"])
def test_it_treats_an_impossible_time_as_unparseable(text: str) -> None:
    now = local(22, 7)
    assert parse_later(text, now) == now + DEFAULT_LATER
