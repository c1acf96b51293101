"""Adherence over time, from the check-in record: feeds the pattern rules
(consecutive missed days by medicine, confirmed-dose rate over 14 days)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from care.followups import raise_followup
from education.library import load_library
from escalation.patterns import (
    DoseRecord,
    Finding,
    MedicineContext,
    low_adherence,
    missed_streaks,
)
from escalation.thresholds import load_thresholds
from store.models import Checkin, Patient, utcnow

WINDOW = timedelta(days=30)
OUTCOMES = {"taken": "taken", "missed": "missed", "later": "later"}


def dose_records(session: Session, patient_id: int, since: datetime) -> list[DoseRecord]:
    rows = session.scalars(
        select(Checkin).where(Checkin.patient_id == patient_id, Checkin.due_at >= since)
    ).all()
    records = []
    for row in rows:
        outcome = OUTCOMES.get(row.outcome or "") or (
            "unanswered" if row.status == "unanswered" else None
        )
        if outcome is not None:
            records.append(DoseRecord(row.regimen.medication.name, row.due_at, outcome))  # type: ignore[arg-type]
    return records


def medicines_of(patient: Patient) -> list[MedicineContext]:
    library = load_library()
    out = []
    for entry in patient.regimen:
        if not entry.active:
            continue
        med = library.get(entry.medication.name)
        out.append(
            MedicineContext(
                name=entry.medication.name,
                drug_class=med.drug_class if med else "other",
                started_at=entry.started_at,
                never_stop_suddenly=bool(med and med.never_stop_suddenly),
            )
        )
    return out


def check_patterns(
    session: Session, patient: Patient, message_id: int | None = None
) -> list[Finding]:
    """Run the pattern rules after a dose answer; raise an alert for each finding."""
    now = utcnow()
    thresholds = load_thresholds(os.environ.get("ESCALATION_THRESHOLDS", ""))
    doses = dose_records(session, patient.id, now - WINDOW)
    tz = ZoneInfo(patient.timezone)
    findings = missed_streaks(doses, medicines_of(patient), now, thresholds, tz=tz)
    findings += low_adherence(doses, now, thresholds)
    for finding in findings:
        if finding.tier in ("emergency", "urgent", "prompt", "routine"):
            raise_followup(
                session,
                patient_id=patient.id,
                tier=finding.tier,
                rules=[finding.rule],
                kind=f"pattern:{finding.rule}",
                message_id=message_id,
                summary="A pattern in the dose record needs review.",
            )
    return findings
