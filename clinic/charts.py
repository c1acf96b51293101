"""Charts a clinician reads at a glance, as inline SVG rendered on the server.

Pure functions from plain data to SVG markup: no database, no JavaScript, nothing
fetched from elsewhere. Every mark carries data-* attributes (date, slot, outcome,
value, band), so a browser test can read what the chart shows, and a <title> that a
browser shows on hover.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from markupsafe import Markup, escape

WIDTH = 900
LEFT, RIGHT, TOP, BOTTOM = 110, 10, 14, 26
OUTCOMES = ("taken", "missed", "unanswered", "later", "skipped", "pending")
FILL = {
    "taken": "#2e7d32",
    "missed": "#c62828",
    "unanswered": "#9e9e9e",
    "later": "#f9a825",
    "skipped": "#e0e0e0",
    "pending": "#90caf9",
}
BAND_FILLS = ("#e8f5e9", "#fffde7", "#fff3e0", "#ffe0b2", "#ffcdd2")
CHANGE_COLOUR = "#3949ab"


@dataclass(frozen=True)
class DoseCell:
    """One scheduled dose: the patient's local day, which dose, and what came of it."""

    day: date
    slot: str  # "sertraline 09:00"
    outcome: str  # one of OUTCOMES


@dataclass(frozen=True)
class Point:
    """One value at one time: a questionnaire total, or a FIBSER burden."""

    at: datetime
    value: int
    label: str = ""


@dataclass(frozen=True)
class MedChange:
    """A change to the medicine plan: when (UTC and the patient's local day) and what."""

    at: datetime
    day: date
    label: str


@dataclass(frozen=True)
class Band:
    """A severity band from its lowest value up to the next band's lowest value."""

    at_least: int
    label: str


# GAD-7 cut-points 5, 10 and 15 mark mild, moderate and severe anxiety (Spitzer 2006).
GAD7_BANDS = (Band(0, "minimal"), Band(5, "mild"), Band(10, "moderate"), Band(15, "severe"))
# FIBSER burden 0-6: 3 and above asks for a review of the plan, 5 and above sooner.
BURDEN_BANDS = (Band(0, "low"), Band(3, "review"), Band(5, "high"))


def _attrs(**values: object) -> str:
    """Render attributes, data_x becoming data-x, every value escaped."""
    return " ".join(
        f'{k.rstrip("_").replace("_", "-")}="{escape(str(v))}"' for k, v in values.items()
    )


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def band_of(bands: Sequence[Band], value: int) -> str:
    return next(b.label for b in reversed(bands) if value >= b.at_least)


def adherence_calendar(
    cells: Sequence[DoseCell], changes: Sequence[MedChange], end: date, weeks: int = 8
) -> Markup:
    """One row per dose (medicine and time), one column per day over `weeks` weeks
    ending on `end`: taken, missed, unanswered (and later, skipped, not yet due)."""
    start = end - timedelta(days=weeks * 7 - 1)
    shown = [c for c in cells if start <= c.day <= end]
    slots = sorted({c.slot for c in shown})
    size, gap = 11, 3
    step = size + gap
    height = TOP + max(len(slots), 1) * step + BOTTOM
    counts = {o: sum(c.outcome == o for c in shown) for o in OUTCOMES}
    parts = [
        f"<svg {_attrs(class_='chart chart-adherence', xmlns='http://www.w3.org/2000/svg')} "
        f"{_attrs(viewBox=f'0 0 {WIDTH} {height}', width=WIDTH, height=height)} "
        f"{_attrs(role='img', aria_label=f'Doses over {weeks} weeks')} "
        f"{_attrs(data_start=start.isoformat(), data_end=end.isoformat(), data_doses=len(shown))} "
        + " ".join(_attrs(**{f"data_{o}": counts[o]}) for o in OUTCOMES)
        + ">"
    ]
    for row, slot in enumerate(slots):
        y = TOP + row * step
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + size - 1}" text-anchor="end" font-size="10">'
            f"{escape(slot)}</text>"
        )
    for week in range(weeks + 1):
        x = LEFT + week * 7 * step - gap / 2
        parts.append(
            f'<line x1="{x}" y1="{TOP - 4}" x2="{x}" y2="{height - BOTTOM + 2}" '
            'stroke="#bdbdbd" stroke-width="0.5"/>'
        )
        if week < weeks:
            day = start + timedelta(days=week * 7)
            parts.append(
                f'<text x="{x + 2}" y="{height - 8}" font-size="10">{day:%b} {day.day}</text>'
            )
    for cell in sorted(shown, key=lambda c: (c.day, c.slot)):
        x = LEFT + (cell.day - start).days * step
        y = TOP + slots.index(cell.slot) * step
        parts.append(
            f"<rect {_attrs(class_=f'dose dose-{cell.outcome}', x=x, y=y, width=size, height=size)}"
            f" {_attrs(fill=FILL.get(cell.outcome, '#fff'), data_date=cell.day.isoformat())}"
            f" {_attrs(data_slot=cell.slot, data_outcome=cell.outcome)}>"
            f"{_title(f'{cell.day.isoformat()} {cell.slot}: {cell.outcome}')}</rect>"
        )
    for change in changes:
        if start <= change.day <= end:
            x = LEFT + (change.day - start).days * step - gap / 2
            parts.append(_change_mark(change, x, TOP - 4, height - BOTTOM + 2))
    if not shown:
        parts.append(_empty(TOP + 8, "No scheduled doses in these weeks"))
    parts.append("</svg>")
    return Markup("".join(parts))


def score_chart(
    name: str,
    points: Sequence[Point],
    changes: Sequence[MedChange],
    *,
    bands: Sequence[Band],
    maximum: int,
    start: datetime,
    end: datetime,
    height: int = 180,
) -> Markup:
    """A line of totals (or burdens) over [start, end] on the severity bands, with the
    medicine changes as marked vertical lines."""
    plot_h = height - TOP - BOTTOM
    span = max((end - start).total_seconds(), 1.0)

    def x_of(at: datetime) -> float:
        return round(LEFT + (at - start).total_seconds() / span * (WIDTH - LEFT - RIGHT), 1)

    def y_of(value: int) -> float:
        return round(TOP + plot_h - min(value, maximum) / maximum * plot_h, 1)

    shown = sorted((p for p in points if start <= p.at <= end), key=lambda p: p.at)
    key = name.lower().replace("-", "").replace(" ", "-")
    parts = [
        f"<svg {_attrs(class_=f'chart chart-{key}', xmlns='http://www.w3.org/2000/svg')} "
        f"{_attrs(viewBox=f'0 0 {WIDTH} {height}', width=WIDTH, height=height)} "
        f"{_attrs(role='img', aria_label=f'{name} over time', data_chart=name)} "
        f"{_attrs(data_points=len(shown), data_max=maximum)}>"
    ]
    for i, band in enumerate(bands):
        top = bands[i + 1].at_least if i + 1 < len(bands) else maximum
        y1, y2 = y_of(top), y_of(band.at_least)
        fill = BAND_FILLS[min(i * len(BAND_FILLS) // max(len(bands), 1), len(BAND_FILLS) - 1)]
        parts.append(
            f"<rect {_attrs(class_='band', x=LEFT, y=y1, width=WIDTH - LEFT - RIGHT)} "
            f"{_attrs(height=round(y2 - y1, 1), fill=fill, data_band=band.label)} "
            f"{_attrs(data_from=band.at_least, data_to=top)}>{_title(band.label)}</rect>"
            f'<text x="{LEFT - 6}" y="{y2}" text-anchor="end" font-size="10">{band.at_least}</text>'
        )
        if y2 - y1 >= 12:  # the band's name inside it, on the right
            parts.append(
                f'<text x="{WIDTH - RIGHT - 4}" y="{y1 + 11}" text-anchor="end" font-size="10" '
                f'fill="#616161">{escape(band.label)}</text>'
            )
    day = start.date()
    while (tick := datetime.combine(day, datetime.min.time(), start.tzinfo)) <= end:
        if tick >= start and tick.weekday() == 0:
            x = x_of(tick)
            parts.append(
                f'<text x="{x}" y="{height - 8}" font-size="10">{tick:%b} {tick.day}</text>'
            )
        day += timedelta(days=1)
    if shown:
        line = " ".join(f"{x_of(p.at)},{y_of(p.value)}" for p in shown)
        parts.append(f'<polyline points="{line}" fill="none" stroke="#37474f" stroke-width="1.5"/>')
    for p in shown:
        label = band_of(bands, p.value)
        what = f"{p.at:%Y-%m-%d}: {name} {p.value} ({label})" + (f", {p.label}" if p.label else "")
        parts.append(
            f"<circle {_attrs(class_='point', cx=x_of(p.at), cy=y_of(p.value), r=4)} "
            f"{_attrs(fill='#37474f', data_at=p.at.isoformat(), data_value=p.value)} "
            f"{_attrs(data_band=label, data_label=p.label)}>{_title(what)}</circle>"
        )
    for change in changes:
        if start <= change.at <= end:
            parts.append(_change_mark(change, x_of(change.at), TOP - 4, height - BOTTOM))
    if not shown:
        parts.append(_empty(TOP + plot_h / 2, f"No {name} yet"))
    parts.append("</svg>")
    return Markup("".join(parts))


def _change_mark(change: MedChange, x: float, y1: float, y2: float) -> str:
    return (
        f"<g {_attrs(class_='med-change', data_at=change.at.isoformat())} "
        f"{_attrs(data_day=change.day.isoformat(), data_label=change.label)}>"
        f'<line x1="{x}" y1="{y1}" x2="{x}" y2="{y2}" stroke="{CHANGE_COLOUR}" '
        'stroke-width="1.5" stroke-dasharray="3,2"/>'
        f'<path d="M{x - 4},{y1} L{x + 4},{y1} L{x},{y1 + 6} Z" fill="{CHANGE_COLOUR}"/>'
        f"{_title(f'{change.day.isoformat()}: {change.label}')}</g>"
    )


def _empty(y: float, text: str) -> str:
    return (
        f'<text class="empty" x="{WIDTH / 2}" y="{y}" text-anchor="middle" font-size="12" '
        f'fill="#757575">{escape(text)}</text>'
    )
