"""Adherence over time, from the check-in record: feeds the pattern rules
(consecutive missed days by medicine, confirmed-dose rate over 14 days)."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from care.followups import raise_followup
from escalation.context import medicine_contexts
from escalation.patterns import (
    DoseRecord,
    Finding,
    MedicineContext,
    PatientContext,
    adherence_rate,
    high_risk,
    low_adherence,
    missed_streak,
    missed_streaks,
    silence,
)
from escalation.thresholds import load_thresholds
from store.models import Alert, Checkin, Patient, utcnow

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
    return medicine_contexts(patient)


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


def taken_streak(doses: list[DoseRecord], medication: str) -> int:
    """Consecutive doses of a medicine confirmed taken, most recent first."""
    streak = 0
    for dose in sorted(
        (d for d in doses if d.medication == medication), key=lambda d: d.scheduled_at, reverse=True
    ):
        if dose.outcome != "taken":
            break
        streak += 1
    return streak


def summary(session: Session, patient: Patient) -> dict[str, dict[str, object]]:
    """Per medicine: confirmed-dose rate over 7, 14 and 30 days (None under 3 scheduled
    doses), current taken and missed-day streaks, and the unanswered rate over 30 days."""
    now = utcnow()
    doses = dose_records(session, patient.id, now - WINDOW)
    tz = ZoneInfo(patient.timezone)
    out: dict[str, dict[str, object]] = {}
    for med in medicines_of(patient):
        mine = [d for d in doses if d.medication == med.name]
        rates = {
            f"rate_{n}d": _round(adherence_rate(mine, n, now, min_scheduled=3)) for n in (7, 14, 30)
        }
        unanswered = sum(d.outcome == "unanswered" for d in mine)
        out[med.name] = {
            **rates,
            "taken_streak": taken_streak(mine, med.name),
            "missed_day_streak": missed_streak(mine, med.name, now, tz=tz),
            "unanswered_rate_30d": _round(unanswered / len(mine)) if mine else None,
            "scheduled_30d": len(mine),
        }
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def check_silence(session: Session, patient: Patient) -> list[Finding]:
    """R19 after check-ins close unanswered: a high-risk patient who has left the last
    check-ins unanswered needs the care team."""
    now = utcnow()
    thresholds = load_thresholds(os.environ.get("ESCALATION_THRESHOLDS", ""))
    doses = dose_records(session, patient.id, now - WINDOW)
    recent = [
        (row.created_at, row.tier)
        for row in session.scalars(select(Alert).where(Alert.patient_id == patient.id))
    ]
    # High-risk (R19): a recent urgent or emergency alert (inside silence), a clozapine or
    # lithium start, or a young patient starting an antidepressant.
    context = PatientContext(age_band=patient.age_band)
    flagged = high_risk(context, medicines_of(patient), now, thresholds)
    findings = silence(doses, replace(context, high_risk=flagged), recent, now, thresholds)
    for finding in findings:
        raise_followup(
            session,
            patient_id=patient.id,
            tier=finding.tier,
            rules=[finding.rule],
            kind=f"pattern:{finding.rule}",
            summary="Check-ins left unanswered by a high-risk patient.",
        )
    return findings
