"""Plain-dict views of stored records, for the CLI's --json output (and later the API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Alert, DoseEvent, Message, MoodCheck, Patient

RECENT_MESSAGES = 50
RECENT_MOOD_CHECKS = 12


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def patient_record(session: Session, patient: Patient) -> dict[str, Any]:
    """One patient: profile, regimen, last 50 messages (oldest first), doses, alerts and
    the last 12 scheduled mood questionnaires (oldest first)."""
    messages = session.scalars(
        select(Message)
        .where(Message.patient_id == patient.id)
        .order_by(Message.id.desc())
        .limit(RECENT_MESSAGES)
    ).all()
    doses = session.scalars(
        select(DoseEvent).where(DoseEvent.patient_id == patient.id).order_by(DoseEvent.id)
    ).all()
    alerts = session.scalars(
        select(Alert).where(Alert.patient_id == patient.id).order_by(Alert.id)
    ).all()
    moods = session.scalars(
        select(MoodCheck)
        .where(MoodCheck.patient_id == patient.id)
        .order_by(MoodCheck.period.desc())
        .limit(RECENT_MOOD_CHECKS)
    ).all()
    from care.adherence import summary
    from scheduling.preferences import quiet_hours
    from store.models import Clinic

    quiet = quiet_hours(patient, session.get(Clinic, patient.clinic_id))
    return {
        "adherence": summary(session, patient),
        # The plan's scheduling; null values follow the settings' defaults.
        "schedule": {
            "quiet_hours": f"{quiet.start:%H:%M}-{quiet.end:%H:%M}",
            "mood_every_days": patient.mood_every_days,
            "answer_window_minutes": patient.answer_window_minutes,
            "reminder_after_minutes": patient.reminder_after_minutes,
        },
        "patient": {
            "id": patient.id,
            "pseudonym": patient.pseudonym,
            "phone": patient.phone,
            "name": patient.display_name,
            "timezone": patient.timezone,
            "age_band": patient.age_band,
            "language": patient.language,
            "sms_detail_level": patient.sms_detail_level,
            "consent_version": patient.consent_version,
            "consent_at": iso(patient.consent_at),
            "opted_out": patient.opted_out,
            "status": patient.status,
        },
        "regimen": [
            {
                "id": r.id,
                "medication": r.medication.name,
                "dose": r.dose,
                "times": r.times.split(","),
                "days": r.days,
                "active": r.active,
            }
            for r in patient.regimen
        ],
        "messages": [
            {
                "id": m.id,
                "direction": m.direction,
                "body": m.body,
                "status": m.status,
                "kind": m.kind,
                "handled_by": m.handled_by,
                "in_reply_to_id": m.in_reply_to_id,
                "segments": m.segments,
                "error_code": m.error_code,
                "error_message": m.error_message,
                "send_after": iso(m.send_after),
                "created_at": iso(m.created_at),
            }
            for m in reversed(messages)
        ],
        "dose_events": [
            {
                "id": d.id,
                "regimen_id": d.regimen_id,
                "outcome": d.outcome,
                "recorded_at": iso(d.recorded_at),
            }
            for d in doses
        ],
        "alerts": [
            {
                "code": a.code,
                "tier": a.tier,
                "rules": a.rules.split(","),
                "state": a.state,
                "created_at": iso(a.created_at),
            }
            for a in alerts
        ],
        # due | queued | sent | answered | unanswered | skipped (store.models.MoodCheck).
        "mood_checks": [
            {
                "period": m.period,
                "instrument": m.instrument,
                "status": m.status,
                "due_at": iso(m.due_at),
                "sent_at": iso(m.sent_at),
                "answered_at": iso(m.answered_at),
                "closes_at": iso(m.closes_at),
            }
            for m in reversed(moods)
        ],
    }
