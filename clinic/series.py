"""The data behind a patient's charts, read from the record: doses per scheduled
check-in, questionnaire totals, FIBSER burdens and the medicine changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic.charts import DoseCell, MedChange, Point
from clinic.timeline import regimen_label
from store.models import Checkin, Patient, Regimen, Score, SideEffectReport

# A check-in's status while no answer is known yet.
PENDING = frozenset({"due", "queued", "sent"})


def dose_outcome(checkin: Checkin) -> str:
    """taken | missed from the answer; otherwise later, unanswered, skipped or pending."""
    if checkin.outcome in ("taken", "missed"):
        return checkin.outcome
    if checkin.status in PENDING:
        return "pending"
    if checkin.status in ("later", "unanswered", "skipped"):
        return checkin.status
    return "pending"


def dose_cells(session: Session, patient: Patient, start: date, end: date) -> list[DoseCell]:
    """Every planned check-in of the patient's local days start..end, one cell each."""
    since = datetime.combine(start - timedelta(days=1), datetime.min.time(), ZoneInfo("UTC"))
    rows = session.scalars(
        select(Checkin).where(Checkin.patient_id == patient.id, Checkin.due_at >= since)
    )
    cells = []
    for row in rows:
        day = date.fromisoformat(row.scheduled_local[:10])
        if start <= day <= end:
            slot = f"{row.regimen.medication.name} {row.scheduled_local[-5:]}"
            cells.append(DoseCell(day, slot, dose_outcome(row)))
    return cells


def score_points(session: Session, patient_id: int, instrument: str) -> list[Point]:
    """Totals of the completed questionnaires of one instrument, oldest first."""
    rows = session.scalars(
        select(Score)
        .where(
            Score.patient_id == patient_id,
            Score.instrument == instrument,
            Score.complete.is_(True),
            Score.total.is_not(None),
        )
        .order_by(Score.created_at)
    )
    return [Point(s.created_at, s.total or 0) for s in rows]


def burden_points(session: Session, patient_id: int) -> list[Point]:
    """FIBSER burden (0-6) of each side-effect report that has one, oldest first."""
    rows = session.scalars(
        select(SideEffectReport)
        .where(SideEffectReport.patient_id == patient_id, SideEffectReport.burden.is_not(None))
        .order_by(SideEffectReport.created_at)
    )
    return [Point(r.created_at, r.burden or 0, r.symptom) for r in rows]


def med_changes(session: Session, patient: Patient) -> list[MedChange]:
    """Each plan entry's start: the first of a medicine "started", later ones "changed"."""
    zone = ZoneInfo(patient.timezone)
    rows = session.scalars(
        select(Regimen).where(Regimen.patient_id == patient.id).order_by(Regimen.started_at)
    )
    seen: set[int] = set()
    changes = []
    for entry in rows:
        verb = "changed" if entry.medication_id in seen else "started"
        seen.add(entry.medication_id)
        changes.append(
            MedChange(
                entry.started_at,
                entry.started_at.astimezone(zone).date(),
                f"{verb} {regimen_label(entry)}",
            )
        )
    return changes
