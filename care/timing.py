"""When a patient says they will take a dose "later". Pure functions."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

DEFAULT_LATER = timedelta(hours=1)
NAMED_TIMES = {
    "tonight": 21,
    "this evening": 19,
    "after dinner": 19,
    "bedtime": 22,
    "before bed": 22,
    "lunch": 12,
    "noon": 12,
    "this afternoon": 15,
}


def parse_later(text: str, now_local: datetime) -> datetime:
    """The local time the patient gave ("in 30 min", "at 9", "tonight"), or an hour from now.

    "at 9" means the next 9 o'clock after now (9pm if it is already past 9am).
    """
    lowered = text.lower()
    rel = re.search(r"\bin (?:an? |(\d+) ?)(hours?|hrs?|h|minutes?|mins?|m)\b", lowered)
    if rel:
        amount = int(rel.group(1) or 1)
        unit = rel.group(2)
        return now_local + (
            timedelta(hours=amount) if unit.startswith("h") else timedelta(minutes=amount)
        )
    at = re.search(r"\b(?:at|around|by) (\d{1,2})(?::(\d{2}))? ?(am|pm)?\b", lowered)
    if at:
        return _next_clock(now_local, int(at.group(1)), int(at.group(2) or 0), at.group(3))
    for phrase, hour in NAMED_TIMES.items():
        if phrase in lowered:
            return _next_clock(now_local, hour, 0, None)
    return now_local + DEFAULT_LATER


def _next_clock(now: datetime, hour: int, minute: int, meridiem: str | None) -> datetime:
    if meridiem == "pm" and hour < 12:
        hour += 12
    if meridiem == "am" and hour == 12:
        hour = 0
    hour %= 24
    candidate = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= now and meridiem is None and hour < 12:
        candidate += timedelta(hours=12)
    if candidate <= now:
        candidate += timedelta(days=1)
    return candidate
