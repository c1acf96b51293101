"""Whether the clinic may start a conversation with a patient now (a check-in, a mood
questionnaire), decided for many patients at once with a few queries.

* BLOCKED: opted out, programme paused, or in an open emergency episode. What was due
  is skipped, not held: nothing the clinic starts goes to them.
* QUIET: outside the patient's quiet-hours window now. Held until it opens.
* BUSY: in a conversation: a message in or out, or something the scheduler started, in
  the last `conversation_quiet` (default 10 minutes). Held until it has been quiet that
  long.
* GO: start it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.alerts import ACTIVE
from scheduling.planner import send_instant
from scheduling.preferences import quiet_hours
from store.models import Alert, Checkin, Clinic, Message, MoodCheck, Patient

CHUNK = 500  # ids per IN (...) list


class Verdict(Enum):
    GO = "go"
    BLOCKED = "blocked"
    QUIET = "quiet_hours"
    BUSY = "busy"


def _chunks(ids: Collection[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for n in range(0, len(ordered), CHUNK):
        yield ordered[n : n + CHUNK]


def in_window(patient: Patient, clinic: Clinic | None, at: datetime) -> bool:
    """Whether `at` falls inside the patient's quiet-hours window (local time)."""
    quiet = quiet_hours(patient, clinic)
    local = at.astimezone(ZoneInfo(patient.timezone)).time()
    return quiet.start <= local < quiet.end


def window_opens(patient: Patient, clinic: Clinic | None, at: datetime) -> datetime | None:
    """None when `at` is inside the patient's quiet-hours window; else the instant (UTC)
    the window next opens, when a text the clinic starts may go."""
    if in_window(patient, clinic, at):
        return None
    zone = ZoneInfo(patient.timezone)
    wall = at.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    return send_instant(wall, zone, quiet_hours(patient, clinic))


def busy_patients(
    session: Session, patient_ids: Collection[int], at: datetime, quiet_for: timedelta
) -> set[int]:
    """Patients with a message in or out, or a check-in or questionnaire started, within
    `quiet_for` before `at`."""
    since = at - quiet_for
    busy: set[int] = set()
    for ids in _chunks(patient_ids):
        busy.update(
            pid
            for pid in session.scalars(
                select(Message.patient_id)
                .where(Message.patient_id.in_(ids), Message.created_at > since)
                .where(Message.created_at <= at)
                .distinct()
            )
            if pid is not None
        )
        for model in (Checkin, MoodCheck):
            busy.update(
                session.scalars(
                    select(model.patient_id)
                    .where(model.patient_id.in_(ids), model.status == "queued")
                    .where(model.queued_at > since, model.queued_at <= at)
                    .distinct()
                )
            )
    return busy


def in_emergency(session: Session, patient_ids: Collection[int]) -> set[int]:
    found: set[int] = set()
    for ids in _chunks(patient_ids):
        found.update(
            pid
            for pid in session.scalars(
                select(Alert.patient_id)
                .where(Alert.patient_id.in_(ids), Alert.tier == "emergency")
                .where(Alert.state.in_(ACTIVE))
                .distinct()
            )
            if pid is not None
        )
    return found


def verdicts(
    session: Session, patient_ids: Collection[int], at: datetime, quiet_for: timedelta
) -> dict[int, Verdict]:
    """The verdict for each patient (a patient that no longer exists is BLOCKED)."""
    out = dict.fromkeys(patient_ids, Verdict.BLOCKED)
    if not patient_ids:
        return out
    rows: list[tuple[Patient, Clinic | None]] = []
    for ids in _chunks(patient_ids):
        rows.extend(
            (patient, clinic)
            for patient, clinic in session.execute(
                select(Patient, Clinic)
                .outerjoin(Clinic, Clinic.id == Patient.clinic_id)
                .where(Patient.id.in_(ids))
            ).tuples()
        )
    crisis = in_emergency(session, patient_ids)
    busy = busy_patients(session, patient_ids, at, quiet_for)
    for patient, clinic in rows:
        if patient.opted_out or patient.status != "active" or patient.id in crisis:
            out[patient.id] = Verdict.BLOCKED
        elif not in_window(patient, clinic, at):
            out[patient.id] = Verdict.QUIET
        elif patient.id in busy:
            out[patient.id] = Verdict.BUSY
        else:
            out[patient.id] = Verdict.GO
    return out
