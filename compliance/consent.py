"""Consent and opt-in: the record of what a patient agreed to, and the step from
"invited" to "active".

A patient enrolled with consent captured by the care team starts "invited": they get
one welcome text and nothing the clinic starts (check-ins, questionnaires) until they
reply YES or START, which makes them "active" (a confirmed opt-in, as carriers require
for recurring programmes). Functions take a session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import update
from sqlalchemy.orm import Session

from compliance.replies import ClinicInfo, welcome_text
from messaging.outbound import queue_text
from store.models import ConsentEvent, Message, Patient, utcnow

CHANNELS = ("in_person", "phone", "web", "paper")
INVITED, ACTIVE, PAUSED = "invited", "active", "paused"


class ConsentError(ValueError):
    """The consent record is incomplete or invalid; the message says why."""


@dataclass(frozen=True)
class Consent:
    """What the patient agreed to, when, how, and who recorded it."""

    version: str
    given_on: date
    channel: str
    recorded_by: str

    def checked(self, today: date) -> Consent:
        if not self.version.strip():
            raise ConsentError("the consent version is required")
        if self.channel not in CHANNELS:
            raise ConsentError(f"the consent channel must be one of {', '.join(CHANNELS)}")
        if self.given_on > today:
            raise ConsentError("the consent date cannot be in the future")
        if not self.recorded_by.strip():
            raise ConsentError("who recorded the consent is required")
        return self


def given_at(consent: Consent, now: datetime) -> datetime:
    """The instant to store: now when given today, else the start of that (UTC) day."""
    if consent.given_on == now.date():
        return now
    return datetime.combine(consent.given_on, time.min, now.tzinfo)


def record_consent(session: Session, patient: Patient, consent: Consent) -> ConsentEvent:
    """Store the consent on the patient and as a `granted` event of their history."""
    now = utcnow()
    consent.checked(now.date())
    at = given_at(consent, now)
    patient.consent_version, patient.consent_at = consent.version.strip(), at
    event = ConsentEvent(
        patient_id=patient.id,
        kind="granted",
        version=consent.version.strip(),
        channel=consent.channel,
        recorded_by=consent.recorded_by.strip(),
        at=at,
    )
    session.add(event)
    return event


def invite(session: Session, patient: Patient, clinic: ClinicInfo) -> Message:
    """Mark the patient invited and queue the welcome text (the caller flushes it)."""
    patient.status = INVITED
    [welcome] = queue_text(
        session, body=welcome_text(clinic), kind="welcome", patient_id=patient.id
    )
    return welcome


def opt_in(session: Session, patient: Patient) -> bool:
    """An invited patient's YES/START: active from now, with an `opted_in` consent event.
    True if the patient was invited (compare-and-set, so a repeated YES records once)."""
    changed = session.execute(
        update(Patient)
        .where(Patient.id == patient.id, Patient.status == INVITED)
        .values(status=ACTIVE)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    text_reply_event(session, patient, "opted_in")
    session.refresh(patient)
    return True


def text_reply_event(session: Session, patient: Patient, kind: str) -> ConsentEvent:
    """A consent change the patient made by text (opted_in, withdrawn) in their history."""
    event = ConsentEvent(
        patient_id=patient.id,
        kind=kind,
        version=patient.consent_version or "",
        channel="sms",
        recorded_by="patient (text reply)",
    )
    session.add(event)
    return event
