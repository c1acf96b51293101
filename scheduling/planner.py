"""The pure planning of dose check-ins: no database and no clock (the window is passed in).

A dose is identified by its *scheduled* wall time in the patient's zone (``scheduled_local``,
"YYYY-MM-DDTHH:MM"), which is the unique key of a check-in. The instant the check-in is sent
(``due_at``, aware UTC) may differ from that wall time, for three reasons:

* **Nonexistent wall time** (spring forward, e.g. 02:30 in New York on 2026-03-08): the dose is
  sent once, at the first valid wall minute after the gap (03:00 for a one-hour gap, 02:30 on
  Lord Howe's half-hour gap). Choice: that is the moment the clock "reaches" the scheduled
  time, so the dose is neither skipped nor sent early.
* **Ambiguous wall time** (fall back, 01:30 happens twice): sent once, at its first occurrence
  (``fold=0``). Choice: the earlier instant is the one the patient's day reaches first.
* **Quiet hours**: scheduled texts only go out within ``[quiet.start, quiet.end)`` local time.
  A dose before the window is held until the window opens the same day (07:00 -> 09:00); a
  dose at or after the window's end is held until it opens the next day (22:00 -> 09:00 the
  next morning). The held dose keeps its own ``scheduled_local``, so two doses that end up
  sent at the same instant (e.g. the 22:00 dose of Monday and the 09:00 dose of Tuesday) stay
  two distinct check-ins: none is merged, dropped or duplicated.

A slot belongs to a window when its ``due_at`` is in ``[start, end)``; so planning adjacent
windows ``[a, b)`` and ``[b, c)`` yields exactly the slots of ``[a, c)``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NAMED_DAYS: dict[str, frozenset[int] | None] = {
    "daily": None,
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# The longest wall-clock gap a zone has ever had is a whole day (Samoa, 2011-12-30).
_MAX_GAP_MINUTES = 24 * 60 + 1
# Days of margin around the window: a held dose goes out at most a day (plus a gap) later.
_MARGIN_BEFORE = timedelta(days=2)
_MARGIN_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class DoseSlot:
    """One dose's check-in: its scheduled wall time and the instant it is sent."""

    regimen_id: int
    local: datetime  # naive wall time in the patient's zone, as scheduled
    due_at: datetime  # aware UTC: when the check-in goes out

    @property
    def scheduled_local(self) -> str:
        """The unique key of the check-in: the wall time as scheduled, not as sent."""
        return self.local.strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class QuietHours:
    """Scheduled texts go out only within [start, end) local time (start before end).

    The federal limit is 08:00-21:00; 09:00-20:00 is the stricter default.
    """

    start: time = time(9, 0)
    end: time = time(20, 0)

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"quiet hours need start < end, got {self.start}-{self.end}")


@dataclass(frozen=True)
class RegimenPlan:
    """What the planner needs of a regimen: its local dose times and its days."""

    regimen_id: int
    times: tuple[time, ...]
    days: frozenset[int] | None = None  # weekday numbers, 0 = Monday; None = daily

    @classmethod
    def parse(cls, regimen_id: int, times: str, days: str = "daily") -> RegimenPlan:
        """From the stored strings of a regimen ("08:00,20:00", "mon,wed,fri")."""
        return cls(regimen_id, parse_times(times), parse_days(days))


@functools.lru_cache(maxsize=4096)  # pure; plans repeat across patients
def parse_days(spec: str) -> frozenset[int] | None:
    """ "daily" -> None; "weekdays", "weekends" or "mon,wed,fri" -> weekday numbers (0=Mon)."""
    text = spec.strip().lower()
    if text in _NAMED_DAYS:
        return _NAMED_DAYS[text]
    names = [part.strip() for part in text.split(",")]
    unknown = [name for name in names if name not in WEEKDAYS]
    if not text or unknown:
        raise ValueError(
            f"unknown days {spec!r}: expected daily, weekdays, weekends or a list of "
            f"{','.join(WEEKDAYS)}"
        )
    return frozenset(WEEKDAYS.index(name) for name in names)


@functools.lru_cache(maxsize=4096)  # pure; plans repeat across patients
def parse_times(spec: str) -> tuple[time, ...]:
    """ "08:00,20:00" -> (time(8, 0), time(20, 0)), sorted; duplicates are an error."""
    found: list[time] = []
    for part in spec.split(","):
        match = _HHMM.match(part.strip())
        if match is None:
            raise ValueError(f"bad dose time {part.strip()!r} in {spec!r}: expected HH:MM")
        found.append(time(int(match[1]), int(match[2])))
    if len(set(found)) != len(found):
        raise ValueError(f"duplicate dose time in {spec!r}")
    return tuple(sorted(found))


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    """Whether the naive wall time happens in the zone (False inside a spring-forward gap)."""
    aware = wall.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def resolve(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive wall time: its first occurrence if ambiguous, the first
    valid minute after the gap if it does not exist."""
    candidate = wall.replace(second=0, microsecond=0, fold=0)
    for _ in range(_MAX_GAP_MINUTES):
        if _exists(candidate, zone):
            return candidate.replace(tzinfo=zone, fold=0).astimezone(UTC)
        candidate += timedelta(minutes=1)
    raise ValueError(f"no valid wall time after {wall} in {zone.key}")


# Pure, and the same few (zone, day, dose time, window) recur for every patient: planning
# 100 000 patients computes each once (bench/checkins.py).
@functools.lru_cache(maxsize=65536)
def send_instant(wall: datetime, zone: ZoneInfo, quiet: QuietHours) -> datetime:
    """When a dose scheduled at this wall time goes out, held to the quiet-hours window."""
    candidate = wall
    for _ in range(4):
        if candidate.time() < quiet.start:
            candidate = datetime.combine(candidate.date(), quiet.start)
        elif candidate.time() >= quiet.end:
            candidate = datetime.combine(candidate.date() + timedelta(days=1), quiet.start)
        instant = resolve(candidate, zone)
        sent = instant.astimezone(zone).replace(tzinfo=None)
        if quiet.start <= sent.time() < quiet.end:
            return instant
        candidate = sent  # a gap pushed it out of the window: hold it again (moves forward)
    raise ValueError(f"no send time within quiet hours for {wall} in {zone.key}")


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def _dates(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def plan(
    regimens: Sequence[RegimenPlan],
    tz: str,
    start: datetime,
    end: datetime,
    quiet: QuietHours,
) -> list[DoseSlot]:
    """Every dose whose check-in goes out in [start, end), sorted by due_at then regimen_id
    (then scheduled wall time). start and end must be aware; tz is an IANA zone name."""
    begin, finish = _utc(start, "start"), _utc(end, "end")
    if finish < begin:
        raise ValueError(f"end {end} is before start {start}")
    slots = [
        DoseSlot(regimen.regimen_id, wall, due)
        for regimen in regimens
        for wall, due in _dose_times(regimen.times, regimen.days, tz, begin, finish, quiet)
    ]
    slots.sort(key=lambda slot: (slot.due_at, slot.regimen_id, slot.local))
    return slots


@functools.lru_cache(maxsize=4096)
def _dose_times(
    times: tuple[time, ...],
    days: frozenset[int] | None,
    tz: str,
    begin: datetime,
    finish: datetime,
    quiet: QuietHours,
) -> tuple[tuple[datetime, datetime], ...]:
    """(wall time, send instant) of each dose of one plan in [begin, finish). Patients share
    plans (same zone, times and window), so a planning run computes each once."""
    zone = ZoneInfo(tz)
    first = (begin.astimezone(zone) - _MARGIN_BEFORE).date()
    last = (finish.astimezone(zone) + _MARGIN_AFTER).date()
    found = []
    for day in _dates(first, last):
        if days is not None and day.weekday() not in days:
            continue
        for at in sorted(set(times)):
            wall = datetime.combine(day, at.replace(second=0, microsecond=0, tzinfo=None))
            due = send_instant(wall, zone, quiet)
            if begin <= due < finish:
                found.append((wall, due))
    return tuple(found)
