"""The pure planning of dose check-ins across zones, DST changes and quiet hours."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.planner import (
    DoseSlot,
    QuietHours,
    RegimenPlan,
    parse_days,
    parse_times,
    plan,
)

NEW_YORK = "America/New_York"
KOLKATA = "Asia/Kolkata"
LORD_HOWE = "Australia/Lord_Howe"
QUIET = QuietHours()
NO_QUIET = QuietHours(time(0, 0), time(23, 59))
DAY_DOSES = RegimenPlan(1, (time(9, 0), time(19, 0)))
NIGHT_DOSES = RegimenPlan(2, (time(1, 30), time(2, 30)))

# (zone, first local day of a 10-day window crossing a DST change (or none, for Kolkata))
WINDOWS = [
    (NEW_YORK, date(2026, 3, 3)),  # spring forward 2026-03-08
    (NEW_YORK, date(2026, 10, 27)),  # fall back 2026-11-01
    (KOLKATA, date(2026, 3, 3)),  # no DST, +05:30
    (LORD_HOWE, date(2026, 4, 1)),  # fall back 2026-04-05, +11 -> +10:30
    (LORD_HOWE, date(2026, 9, 30)),  # spring forward 2026-10-04, +10:30 -> +11
]


def window(tz: str, first: date, days: int = 10) -> tuple[datetime, datetime]:
    """[local midnight of first, local midnight days later), as aware UTC."""
    zone = ZoneInfo(tz)
    start = datetime.combine(first, time(0, 0), tzinfo=zone)
    end = datetime.combine(first + timedelta(days=days), time(0, 0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local_send(slot: DoseSlot, tz: str) -> datetime:
    return slot.due_at.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def keys(slots: list[DoseSlot]) -> list[tuple[int, str]]:
    return [(slot.regimen_id, slot.scheduled_local) for slot in slots]


@pytest.mark.parametrize(("tz", "first"), WINDOWS)
@pytest.mark.parametrize(
    ("regimen", "quiet"), [(DAY_DOSES, QUIET), (NIGHT_DOSES, NO_QUIET)], ids=["day", "night"]
)
def test_it_plans_two_doses_a_day_over_ten_days(
    tz: str, first: date, regimen: RegimenPlan, quiet: QuietHours
) -> None:
    start, end = window(tz, first)
    slots = plan([regimen], tz, start, end, quiet)
    assert len(slots) == 20
    assert len(set(keys(slots))) == 20
    expected = {
        (first + timedelta(days=n)).isoformat() + "T" + at.strftime("%H:%M")
        for n in range(10)
        for at in regimen.times
    }
    assert {slot.scheduled_local for slot in slots} == expected
    assert all(start <= slot.due_at < end and slot.due_at.tzinfo is UTC for slot in slots)
    assert [slot.due_at for slot in slots] == sorted(slot.due_at for slot in slots)


@pytest.mark.parametrize(("tz", "first"), WINDOWS)
def test_it_sends_nothing_in_quiet_hours(tz: str, first: date) -> None:
    regimen = RegimenPlan(3, (time(0, 15), time(7, 0), time(9, 0), time(20, 0), time(23, 30)))
    start, end = window(tz, first)
    slots = plan([regimen], tz, start, end, QUIET)
    assert len(slots) == 50
    assert all(time(9, 0) <= local_send(slot, tz).time() < time(20, 0) for slot in slots)


@pytest.mark.parametrize(
    ("tz", "regimen", "scheduled", "due"),
    [
        # New York spring forward: 09:00 EST the day before, 09:00 EDT the day of.
        (NEW_YORK, DAY_DOSES, "2026-03-07T09:00", utc(2026, 3, 7, 14, 0)),
        (NEW_YORK, DAY_DOSES, "2026-03-08T09:00", utc(2026, 3, 8, 13, 0)),
        (NEW_YORK, DAY_DOSES, "2026-03-08T19:00", utc(2026, 3, 8, 23, 0)),
        # 02:30 does not exist: sent once at 03:00 EDT, the first minute after the gap.
        (NEW_YORK, NIGHT_DOSES, "2026-03-08T02:30", utc(2026, 3, 8, 7, 0)),
        (NEW_YORK, NIGHT_DOSES, "2026-03-08T01:30", utc(2026, 3, 8, 6, 30)),
        # Fall back: 01:30 happens twice, sent at the first (EDT, -04:00).
        (NEW_YORK, NIGHT_DOSES, "2026-11-01T01:30", utc(2026, 11, 1, 5, 30)),
        (NEW_YORK, NIGHT_DOSES, "2026-11-01T02:30", utc(2026, 11, 1, 7, 30)),
        (NEW_YORK, DAY_DOSES, "2026-11-01T09:00", utc(2026, 11, 1, 14, 0)),
        # Kolkata: +05:30 all year.
        (KOLKATA, DAY_DOSES, "2026-03-08T09:00", utc(2026, 3, 8, 3, 30)),
        (KOLKATA, NIGHT_DOSES, "2026-03-08T02:30", utc(2026, 3, 7, 21, 0)),
        # Lord Howe fall back at 02:00 +11 -> 01:30 +10:30: 01:30 twice, first at +11.
        (LORD_HOWE, DAY_DOSES, "2026-04-04T09:00", utc(2026, 4, 3, 22, 0)),
        (LORD_HOWE, DAY_DOSES, "2026-04-05T09:00", utc(2026, 4, 4, 22, 30)),
        (LORD_HOWE, NIGHT_DOSES, "2026-04-05T01:30", utc(2026, 4, 4, 14, 30)),
        (LORD_HOWE, NIGHT_DOSES, "2026-04-05T02:30", utc(2026, 4, 4, 16, 0)),
        # Lord Howe spring forward at 02:00 +10:30 -> 02:30 +11: 02:30 exists.
        (LORD_HOWE, NIGHT_DOSES, "2026-10-04T02:30", utc(2026, 10, 3, 15, 30)),
        (LORD_HOWE, DAY_DOSES, "2026-10-04T09:00", utc(2026, 10, 3, 22, 0)),
        (LORD_HOWE, DAY_DOSES, "2026-10-03T09:00", utc(2026, 10, 2, 22, 30)),
    ],
)
def test_it_sends_at_the_expected_instant(
    tz: str, regimen: RegimenPlan, scheduled: str, due: datetime
) -> None:
    quiet = QUIET if regimen is DAY_DOSES else NO_QUIET
    day = date.fromisoformat(scheduled[:10])
    start, end = window(tz, day - timedelta(days=1), days=3)
    found = {slot.scheduled_local: slot for slot in plan([regimen], tz, start, end, quiet)}
    assert found[scheduled].due_at == due
    assert found[scheduled].local == datetime.fromisoformat(scheduled)


@pytest.mark.parametrize(
    ("at", "sent"),
    [
        (time(2, 0), time(2, 30)),  # in the 30-minute gap: the first minute after it
        (time(2, 15), time(2, 30)),
        (time(2, 29), time(2, 30)),
        (time(1, 59), time(1, 59)),
    ],
)
def test_it_sends_a_lord_howe_gap_dose_once_after_the_gap(at: time, sent: time) -> None:
    start, end = window(LORD_HOWE, date(2026, 10, 3), days=3)
    slots = plan([RegimenPlan(4, (at,))], LORD_HOWE, start, end, NO_QUIET)
    assert len(slots) == 3
    gap_day = [slot for slot in slots if slot.local.date() == date(2026, 10, 4)]
    assert len(gap_day) == 1
    assert local_send(gap_day[0], LORD_HOWE) == datetime.combine(date(2026, 10, 4), sent)


@pytest.mark.parametrize(
    ("tz", "day", "at"),
    [
        (NEW_YORK, date(2026, 11, 1), time(1, 0)),
        (NEW_YORK, date(2026, 11, 1), time(1, 59)),
        (LORD_HOWE, date(2026, 4, 5), time(1, 30)),
        (LORD_HOWE, date(2026, 4, 5), time(1, 45)),
    ],
)
def test_it_sends_an_ambiguous_dose_once_at_its_first_occurrence(
    tz: str, day: date, at: time
) -> None:
    start, end = window(tz, day - timedelta(days=1), days=3)
    slots = plan([RegimenPlan(5, (at,))], tz, start, end, NO_QUIET)
    assert len(slots) == 3
    (slot,) = [slot for slot in slots if slot.local.date() == day]
    first = datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)  # fold=0
    second = datetime.combine(day, at, tzinfo=ZoneInfo(tz)).replace(fold=1).astimezone(UTC)
    assert first < second
    assert slot.due_at == first


@pytest.mark.parametrize(
    ("scheduled", "sent"),
    [
        (datetime(2026, 6, 10, 7, 0), datetime(2026, 6, 10, 9, 0)),  # held to the opening
        (datetime(2026, 6, 10, 0, 5), datetime(2026, 6, 10, 9, 0)),
        (datetime(2026, 6, 10, 22, 0), datetime(2026, 6, 11, 9, 0)),  # next morning
        (datetime(2026, 6, 10, 20, 0), datetime(2026, 6, 11, 9, 0)),  # end is exclusive
        (datetime(2026, 6, 10, 19, 59), datetime(2026, 6, 10, 19, 59)),
        (datetime(2026, 6, 10, 9, 0), datetime(2026, 6, 10, 9, 0)),
    ],
)
@pytest.mark.parametrize("tz", [NEW_YORK, KOLKATA, LORD_HOWE])
def test_it_holds_quiet_hour_doses_but_keeps_their_scheduled_time(
    tz: str, scheduled: datetime, sent: datetime
) -> None:
    start, end = window(tz, date(2026, 6, 8), days=6)
    slots = plan([RegimenPlan(6, (scheduled.time(),))], tz, start, end, QUIET)
    (slot,) = [slot for slot in slots if slot.local == scheduled]
    assert slot.scheduled_local == scheduled.strftime("%Y-%m-%dT%H:%M")
    assert local_send(slot, tz) == sent


@pytest.mark.parametrize("tz", [NEW_YORK, KOLKATA, LORD_HOWE])
def test_it_never_merges_or_duplicates_doses_held_to_the_same_instant(tz: str) -> None:
    regimen = RegimenPlan(7, (time(7, 0), time(8, 0), time(9, 0), time(22, 0)))
    start, end = window(tz, date(2026, 3, 3), days=10)
    slots = plan([regimen], tz, start, end, QUIET)
    assert len(slots) == 40
    assert len(set(keys(slots))) == 40
    # Each morning at 09:00 sends the 07:00, 08:00 and 09:00 doses and the 22:00 of the eve.
    per_instant = Counter(slot.due_at for slot in slots)
    assert set(per_instant.values()) == {4}
    assert min(slots, key=lambda slot: slot.local).scheduled_local == "2026-03-02T22:00"


@pytest.mark.parametrize(("tz", "first"), WINDOWS)
def test_it_plans_the_same_window_identically(tz: str, first: date) -> None:
    start, end = window(tz, first)
    regimens = [DAY_DOSES, RegimenPlan(2, (time(7, 0), time(22, 0)), parse_days("weekdays"))]
    assert plan(regimens, tz, start, end, QUIET) == plan(regimens, tz, start, end, QUIET)


@pytest.mark.parametrize(("tz", "first"), WINDOWS)
@pytest.mark.parametrize(
    ("regimen", "quiet"),
    [
        (DAY_DOSES, QUIET),
        (NIGHT_DOSES, NO_QUIET),
        (RegimenPlan(8, (time(2, 15), time(7, 0), time(22, 0))), QUIET),
    ],
    ids=["day", "night", "held"],
)
def test_it_loses_and_doubles_nothing_at_a_window_seam(
    tz: str, first: date, regimen: RegimenPlan, quiet: QuietHours
) -> None:
    start, end = window(tz, first)
    whole = plan([regimen], tz, start, end, quiet)
    seams = [slot.due_at for slot in whole[::3]]  # seams exactly on a due instant
    seams += [start + timedelta(hours=h, minutes=17) for h in range(0, 240, 13)]
    for seam in seams:
        left = plan([regimen], tz, start, seam, quiet)
        right = plan([regimen], tz, seam, end, quiet)
        assert left + right == whole


@pytest.mark.parametrize(
    ("spec", "weekdays", "count"),
    [
        ("weekdays", {0, 1, 2, 3, 4}, 20),
        ("weekends", {5, 6}, 8),
        ("mon,wed,fri", {0, 2, 4}, 12),
        ("daily", set(range(7)), 28),
    ],
)
@pytest.mark.parametrize("tz", [NEW_YORK, KOLKATA, LORD_HOWE])
def test_it_plans_only_on_the_regimen_days(
    tz: str, spec: str, weekdays: set[int], count: int
) -> None:
    regimen = RegimenPlan.parse(9, "09:00,19:00", spec)
    start, end = window(tz, date(2026, 3, 2), days=14)  # two weeks from a Monday
    slots = plan([regimen], tz, start, end, QUIET)
    assert len(slots) == count
    assert {slot.local.weekday() for slot in slots} == weekdays


def test_it_sorts_by_due_at_then_regimen() -> None:
    start, end = window(KOLKATA, date(2026, 3, 3), days=2)
    slots = plan([RegimenPlan(11, (time(9, 0),)), DAY_DOSES], KOLKATA, start, end, QUIET)
    assert [(slot.regimen_id, slot.scheduled_local[11:]) for slot in slots] == [
        (1, "09:00"),
        (11, "09:00"),
        (1, "19:00"),
        (1, "09:00"),
        (11, "09:00"),
        (1, "19:00"),
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("daily", None),
        (" Daily ", None),
        ("weekdays", frozenset({0, 1, 2, 3, 4})),
        ("weekends", frozenset({5, 6})),
        ("mon,wed,fri", frozenset({0, 2, 4})),
        ("Sun, sat", frozenset({5, 6})),
    ],
)
def test_it_parses_days(spec: str, expected: frozenset[int] | None) -> None:
    assert parse_days(spec) == expected


@pytest.mark.parametrize("spec", ["", "monday", "mon,,fri", "every day", "mon;wed"])
def test_it_rejects_unknown_days(spec: str) -> None:
    with pytest.raises(ValueError, match="unknown days"):
        parse_days(spec)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("08:00,20:00", (time(8, 0), time(20, 0))),
        ("20:00, 08:00", (time(8, 0), time(20, 0))),
        ("00:00", (time(0, 0),)),
        ("23:59", (time(23, 59),)),
    ],
)
def test_it_parses_times(spec: str, expected: tuple[time, ...]) -> None:
    assert parse_times(spec) == expected


@pytest.mark.parametrize("spec", ["", "8:00", "24:00", "08:60", "08:00,", "8am", "08:00,08:00"])
def test_it_rejects_bad_times(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_times(spec)


def test_it_rejects_naive_or_reversed_windows_and_inverted_quiet_hours() -> None:
    start, end = window(NEW_YORK, date(2026, 3, 3))
    with pytest.raises(ValueError, match="aware"):
        plan([DAY_DOSES], NEW_YORK, start.replace(tzinfo=None), end, QUIET)
    with pytest.raises(ValueError, match="before start"):
        plan([DAY_DOSES], NEW_YORK, end, start, QUIET)
    assert plan([DAY_DOSES], NEW_YORK, start, start, QUIET) == []
    with pytest.raises(ValueError, match="start < end"):
        QuietHours(time(21, 0), time(8, 0))


def test_it_keeps_the_wall_time_as_the_check_in_key() -> None:
    slot = DoseSlot(1, datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 7, 0))
    assert slot.scheduled_local == "2026-03-08T02:30"
