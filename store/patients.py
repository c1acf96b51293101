"""Patient queries and changes. Functions take a session and never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.models import Clinic, Medication, Patient, Regimen, utcnow


def by_phone(session: Session, phone: str) -> Patient | None:
    return session.scalars(select(Patient).where(Patient.phone == phone)).first()


def by_pseudonym(session: Session, pseudonym: str) -> Patient | None:
    return session.scalars(select(Patient).where(Patient.pseudonym == pseudonym)).first()


def first_clinic(session: Session) -> Clinic | None:
    return session.scalars(select(Clinic).order_by(Clinic.id)).first()


def medication(session: Session, name: str) -> Medication:
    """The catalogue row for this medicine, created on first use."""
    key = name.strip().lower()
    found = session.scalars(select(Medication).where(Medication.name == key)).first()
    if found is None:
        found = Medication(name=key)
        session.add(found)
        session.flush()
    return found


def add_regimen(session: Session, patient: Patient, med: str, dose: str, times: str) -> Regimen:
    entry = Regimen(patient=patient, medication=medication(session, med), dose=dose, times=times)
    session.add(entry)
    return entry


def set_opted_out(session: Session, patient_id: int, opted_out: bool) -> bool:
    """Set the opt-out state; True if it changed (compare-and-set)."""
    when: datetime | None = utcnow() if opted_out else None
    result = session.execute(
        update(Patient)
        .where(Patient.id == patient_id, Patient.opted_out != opted_out)
        .values(opted_out=opted_out, opted_out_at=when)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
