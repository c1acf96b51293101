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
    if at and int(at.group(2) or 0) < 60 and int(at.group(1)) <= 23:
        return _next_clock(now_local, int(at.group(1)), int(at.group(2) or 0), at.group(3))
    for phrase, hour in sorted(NAMED_TIMES.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{phrase}\b", lowered):
            return _next_clock(now_local, hour, 0, "am" if hour < 12 else "pm")
    return now_local + DEFAULT_LATER


def _next_clock(now: datetime, hour: int, minute: int, meridiem: str | None) -> datetime:
    """The next time after now showing this clock time ("at 9" may mean 9am or 9pm)."""
    if meridiem == "pm" and hour < 12:
        hour += 12
    if meridiem == "am" and hour == 12:
        hour = 0
    hours = [hour, hour + 12] if meridiem is None and hour < 12 else [hour]
    today = now.replace(minute=minute, second=0, microsecond=0)
    candidates = [
        today.replace(hour=h) + timedelta(days=d) for d in (0, 1) for h in hours if h < 24
    ]
    return min(c for c in candidates if c > now)
