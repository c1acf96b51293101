"""The SVG charts: pure functions from data to markup, read back as XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

from clinic.charts import (
    BURDEN_BANDS,
    GAD7_BANDS,
    Band,
    DoseCell,
    MedChange,
    Point,
    adherence_calendar,
    band_of,
    score_chart,
)

NS = "{http://www.w3.org/2000/svg}"
END = date(2026, 11, 22)
START = datetime(2026, 9, 27, tzinfo=UTC)
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
PHQ9 = (Band(0, "minimal"), Band(5, "mild"), Band(10, "moderate"), Band(15, "mod. severe"))


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def marks(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(NS + tag) if cls in (e.get("class") or "").split()]


def test_it_draws_one_cell_per_dose_with_its_outcome() -> None:
    cells = [
        DoseCell(END, "sertraline 09:00", "taken"),
        DoseCell(END - timedelta(days=1), "sertraline 09:00", "missed"),
        DoseCell(END - timedelta(days=1), "lithium 20:00", "unanswered"),
    ]
    root = parse(adherence_calendar(cells, [], END))
    doses = marks(root, "rect", "dose")
    assert [(d.get("data-date"), d.get("data-slot"), d.get("data-outcome")) for d in doses] == [
        ("2026-11-21", "lithium 20:00", "unanswered"),
        ("2026-11-21", "sertraline 09:00", "missed"),
        ("2026-11-22", "sertraline 09:00", "taken"),
    ]
    assert root.get("data-taken") == "1" and root.get("data-missed") == "1"
    assert root.get("data-unanswered") == "1" and root.get("data-doses") == "3"
    # Rows are the doses (sorted), so lithium's row is above sertraline's.
    assert float(doses[0].get("y") or 0) < float(doses[1].get("y") or 0)
    # Same day, same column.
    assert doses[0].get("x") == doses[1].get("x")


def test_it_shows_eight_weeks_ending_on_the_day_given() -> None:
    cells = [
        DoseCell(END - timedelta(days=55), "a 09:00", "taken"),
        DoseCell(END - timedelta(days=56), "a 09:00", "missed"),  # a day too early
        DoseCell(END + timedelta(days=1), "a 09:00", "pending"),  # tomorrow
    ]
    root = parse(adherence_calendar(cells, [], END))
    assert root.get("data-start") == "2026-09-28" and root.get("data-end") == "2026-11-22"
    assert [d.get("data-outcome") for d in marks(root, "rect", "dose")] == ["taken"]
    right = max(float(d.get("x") or 0) for d in marks(root, "rect", "dose"))
    assert right + 8 <= float(root.get("width") or 0)


def test_it_marks_medicine_changes_on_the_calendar() -> None:
    change = MedChange(datetime(2026, 11, 10, 15, tzinfo=UTC), date(2026, 11, 10), "changed x")
    old = MedChange(datetime(2026, 1, 1, tzinfo=UTC), date(2026, 1, 1), "started x")
    root = parse(adherence_calendar([DoseCell(END, "x 08:00", "taken")], [change, old], END))
    [mark] = marks(root, "g", "med-change")
    assert mark.get("data-day") == "2026-11-10" and mark.get("data-label") == "changed x"


def test_it_says_when_there_are_no_doses() -> None:
    root = parse(adherence_calendar([], [], END))
    assert root.get("data-doses") == "0"
    assert [e.text for e in marks(root, "text", "empty")] == ["No scheduled doses in these weeks"]


def test_it_plots_totals_on_their_severity_bands() -> None:
    points = [
        Point(datetime(2026, 10, 1, tzinfo=UTC), 16),
        Point(datetime(2026, 11, 1, tzinfo=UTC), 8),
        Point(datetime(2025, 1, 1, tzinfo=UTC), 20),  # before the window
    ]
    root = parse(score_chart("PHQ-9", points, [], bands=PHQ9, maximum=27, start=START, end=NOW))
    assert root.get("class") == "chart chart-phq9" and root.get("data-points") == "2"
    dots = marks(root, "circle", "point")
    assert [(d.get("data-value"), d.get("data-band")) for d in dots] == [
        ("16", "mod. severe"),
        ("8", "mild"),
    ]
    assert float(dots[0].get("cy") or 0) < float(dots[1].get("cy") or 0)  # higher is up
    assert float(dots[0].get("cx") or 0) < float(dots[1].get("cx") or 0)  # later is right
    bands = marks(root, "rect", "band")
    assert [(b.get("data-band"), b.get("data-from"), b.get("data-to")) for b in bands] == [
        ("minimal", "0", "5"),
        ("mild", "5", "10"),
        ("moderate", "10", "15"),
        ("mod. severe", "15", "27"),
    ]


def test_it_marks_medicine_changes_on_score_charts() -> None:
    at = datetime(2026, 10, 15, 14, tzinfo=UTC)
    change = MedChange(at, at.date(), "changed sertraline 100mg at 09:00")
    root = parse(
        score_chart("GAD-7", [], [change], bands=GAD7_BANDS, maximum=21, start=START, end=NOW)
    )
    [mark] = marks(root, "g", "med-change")
    assert mark.get("data-at") == at.isoformat()
    assert mark.get("data-label") == "changed sertraline 100mg at 09:00"
    assert [e.text for e in marks(root, "text", "empty")] == ["No GAD-7 yet"]


def test_it_keeps_the_symptom_with_each_burden() -> None:
    points = [Point(datetime(2026, 11, 2, tzinfo=UTC), 4, "nausea <bad>")]
    svg = score_chart(
        "Side-effect burden", points, [], bands=BURDEN_BANDS, maximum=6, start=START, end=NOW
    )
    assert "<bad>" not in svg  # escaped, and still well-formed XML
    [dot] = marks(parse(svg), "circle", "point")
    assert dot.get("data-label") == "nausea <bad>" and dot.get("data-band") == "review"


def test_it_names_the_band_a_value_falls_in() -> None:
    assert [band_of(GAD7_BANDS, v) for v in (0, 4, 5, 14, 15, 21)] == [
        "minimal",
        "minimal",
        "mild",
        "moderate",
        "severe",
        "severe",
    ]
