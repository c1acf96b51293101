"""A patient's record as one list in time order: messages both ways with their delivery
status, check-ins, dose events, side-effect reports (FIBSER), questionnaire scores,
alerts, plan changes and consent events.

Each `*_entries` function reads one kind of row and returns typed `Entry` rows; the
`timeline` function merges them, newest first. Functions take a session and never
write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from care.scores import items_of
from clinic.charts import GAD7_BANDS, Band, band_of
from escalation.thresholds import Band as ThresholdBand
from instruments.scoring import thresholds
from store.models import (
    Alert,
    Checkin,
    ConsentEvent,
    DoseEvent,
    Message,
    Regimen,
    Score,
    SideEffectReport,
)

T = TypeVar("T")
LIMIT = 500

KINDS = (
    "message_in",
    "message_out",
    "checkin",
    "dose",
    "side_effect",
    "score",
    "alert",
    "plan",
    "consent",
)


@dataclass(frozen=True)
class Entry:
    """One thing that happened, as the timeline shows it."""

    at: datetime
    kind: str  # one of KINDS
    ref: str  # "message-12": unique within a patient's timeline
    title: str
    detail: str = ""
    status: str = ""


def _rows(
    session: Session,
    query: Select[tuple[T]],
    stamp: InstrumentedAttribute[datetime],
    since: datetime | None,
    limit: int,
) -> list[T]:
    """The newest `limit` rows since `since` (the timeline never shows more)."""
    if since is not None:
        query = query.where(stamp >= since)
    return list(session.scalars(query.order_by(stamp.desc()).limit(limit)))


def message_entries(
    session: Session, patient_id: int, since: datetime | None, limit: int = LIMIT
) -> list[Entry]:
    rows = _rows(
        session,
        select(Message).where(Message.patient_id == patient_id),
        Message.created_at,
        since,
        limit,
    )
    return [
        Entry(
            at=m.created_at,
            kind="message_in" if m.direction == "inbound" else "message_out",
            ref=f"message-{m.id}",
            title="Patient texted" if m.direction == "inbound" else f"Sent ({m.kind})",
            detail=m.body,
            status=m.status + (f" {m.error_code}" if m.error_code else ""),
        )
        for m in rows
    ]


def checkin_entries(
    session: Session, patient_id: int, since: datetime | None, limit: int = LIMIT
) -> list[Entry]:
    rows = _rows(
        session,
        select(Checkin).where(Checkin.patient_id == patient_id),
        Checkin.due_at,
        since,
        limit,
    )
    return [
        Entry(
            at=c.due_at,
            kind="checkin",
            ref=f"checkin-{c.id}",
            title=f"Check-in: {c.regimen.medication.name} at {c.scheduled_local[-5:]}",
            detail=f"answered {c.outcome}" if c.outcome else "",
            status=c.status,
        )
        for c in rows
    ]


def dose_entries(
    session: Session, patient_id: int, since: datetime | None, limit: int = LIMIT
) -> list[Entry]:
    rows = _rows(
        session,
        select(DoseEvent).where(DoseEvent.patient_id == patient_id),
        DoseEvent.recorded_at,
        since,
        limit,
    )
    names = _regimen_names(session, {d.regimen_id for d in rows if d.regimen_id})
    return [
        Entry(
            at=d.recorded_at,
            kind="dose",
            ref=f"dose-{d.id}",
            title=f"Dose {d.outcome}",
            detail=names.get(d.regimen_id or 0, ""),
            status=d.outcome,
        )
        for d in rows
    ]


def side_effect_entries(
    session: Session, patient_id: int, since: datetime | None, limit: int = LIMIT
) -> list[Entry]:
    rows = _rows(
        session,
        select(SideEffectReport).where(SideEffectReport.patient_id == patient_id),
        SideEffectReport.created_at,
        since,
        limit,
    )
    return [
        Entry(
            at=r.created_at,
            kind="side_effect",
            ref=f"side_effect-{r.id}",
            title=f"Side effect: {r.symptom}" + (" (red flag)" if r.red_flag else ""),
            detail=fibser_text(r),
            status="red_flag" if r.red_flag else "",
        )
        for r in rows
    ]


def fibser_text(report: SideEffectReport) -> str:
    def part(label: str, value: int | None) -> str:
        return f"{label} {value if value is not None else '-'}/6"

    return ", ".join(
        (
            part("frequency", report.frequency),
            part("intensity", report.intensity),
            part("burden", report.burden),
        )
    )


def score_entries(
    session: Session, patient_id: int, since: datetime | None, limit: int = LIMIT
) -> list[Entry]:
    rows = _rows(
        session,
        select(Score).where(Score.patient_id == patient_id),
        Score.created_at,
        since,
        limit,
    )
    return [
        Entry(
            at=s.created_at,
            kind="score",
            ref=f"score-{s.id}",
            title=f"{s.instrument} total {s.total if s.total is not None else '-'}"
            + (f" ({band})" if (band := severity(s.instrument, s.total)) and s.complete else ""),
            detail=", ".join(f"item {k}: {v}" for k, v in items_of(s).items()),
            status="complete" if s.complete else "in progress",
        )
        for s in rows
    ]


def severity_bands(instrument: str) -> tuple[Band, ...]:
    """The severity bands of an instrument's total (PHQ-9 from the clinic's thresholds)."""
    if instrument == "PHQ-9":
        found: tuple[ThresholdBand, ...] = thresholds().phq9.bands
        return tuple(Band(b.at_least, b.label) for b in found)
    if instrument == "GAD-7":
        return GAD7_BANDS
    return ()


def severity(instrument: str, total: int | None) -> str:
    bands = severity_bands(instrument)
    return band_of(bands, total) if bands and total is not None else ""


def alert_entries(
    session: Session, patient_id: int, since: datetime | None, limit: int = LIMIT
) -> list[Entry]:
    rows = _rows(
        session,
        select(Alert).where(Alert.patient_id == patient_id),
        Alert.created_at,
        since,
        limit,
    )
    return [
        Entry(
            at=a.created_at,
            kind="alert",
            ref=f"alert-{a.id}",
            title=f"Alert {a.code}: {a.tier} ({a.rules})",
            detail=a.summary + (f" Note: {a.note}" if a.note else ""),
            status=a.state,
        )
        for a in rows
    ]


def plan_entries(
    session: Session, patient_id: int, since: datetime | None, limit: int = LIMIT
) -> list[Entry]:
    rows = _rows(
        session,
        select(Regimen).where(Regimen.patient_id == patient_id),
        Regimen.started_at,
        since,
        limit,
    )
    return [
        Entry(
            at=r.started_at,
            kind="plan",
            ref=f"plan-{r.id}",
            title=f"Plan: {regimen_label(r)}",
            detail=f"days: {r.days}",
            status="current" if r.active else "replaced",
        )
        for r in rows
    ]


def regimen_label(entry: Regimen) -> str:
    return f"{entry.medication.name} {entry.dose} at {entry.times.replace(',', ', ')}"


def consent_entries(
    session: Session, patient_id: int, since: datetime | None, limit: int = LIMIT
) -> list[Entry]:
    rows = _rows(
        session,
        select(ConsentEvent).where(ConsentEvent.patient_id == patient_id),
        ConsentEvent.at,
        since,
        limit,
    )
    return [
        Entry(
            at=c.at,
            kind="consent",
            ref=f"consent-{c.id}",
            title=f"Consent {c.kind.replace('_', ' ')} (version {c.version})",
            detail=f"by {c.recorded_by}, {c.channel.replace('_', ' ')}",
            status=c.kind,
        )
        for c in rows
    ]


SOURCES: tuple[Callable[[Session, int, datetime | None, int], list[Entry]], ...] = (
    message_entries,
    checkin_entries,
    dose_entries,
    side_effect_entries,
    score_entries,
    alert_entries,
    plan_entries,
    consent_entries,
)


def merge(groups: Iterable[list[Entry]]) -> list[Entry]:
    """Newest first; at the same instant, in the order of KINDS (a text before its dose)."""
    rows = [e for group in groups for e in group]
    rows.sort(key=lambda e: KINDS.index(e.kind))
    rows.sort(key=lambda e: e.at, reverse=True)
    return rows


def timeline(
    session: Session, patient_id: int, since: datetime | None = None, limit: int = LIMIT
) -> list[Entry]:
    """The patient's newest `limit` entries since `since` (all time when None)."""
    return merge(source(session, patient_id, since, limit) for source in SOURCES)[:limit]


def _regimen_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.scalars(select(Regimen).where(Regimen.id.in_(ids)))
    return {r.id: r.medication.name for r in rows}
