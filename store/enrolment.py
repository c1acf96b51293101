"""Enrolling patients: parse the regimen spec, validate, and create the rows."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from escalation.thresholds import load_thresholds
from messaging.pool import choose
from store.models import Clinic, Patient, utcnow
from store.patients import add_regimen, by_phone, first_clinic

_MED = re.compile(r"^(?P<name>[A-Za-z][A-Za-z0-9 \-]*):(?P<dose>[^@]+)@(?P<times>[0-9:,]+)$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

DEMO_PATIENT_PHONE = "+15555550123"


class EnrolmentError(ValueError):
    """The enrolment request is invalid; the message says why."""


@dataclass(frozen=True)
class MedSpec:
    name: str
    dose: str
    times: tuple[str, ...]


def parse_med(spec: str) -> MedSpec:
    """Parse NAME:DOSE@HH:MM[,HH:MM...], e.g. "sertraline:50mg@08:00"."""
    match = _MED.match(spec.strip())
    if not match:
        raise EnrolmentError(f"--med must look like NAME:DOSE@HH:MM[,HH:MM], got {spec!r}")
    times = tuple(t for t in match["times"].split(",") if t)
    bad = [t for t in times if not _TIME.match(t)]
    if not times or bad:
        raise EnrolmentError(f"times must be 24-hour HH:MM, got {','.join(bad) or 'none'}")
    return MedSpec(match["name"].strip().lower(), match["dose"].strip(), tuple(sorted(set(times))))


def check_timezone(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise EnrolmentError(
            f"unknown time zone {tz!r} (use an IANA name like America/New_York)"
        ) from None
    return tz


def check_age_band(band: str | None) -> str | None:
    """One of the age bands the clinic's thresholds list (escalation/thresholds.yaml)."""
    if band is None:
        return None
    names = load_thresholds(os.environ.get("ESCALATION_THRESHOLDS", "")).age_bands.names
    value = band.strip().lower()
    if value not in names:
        raise EnrolmentError(f"--age-band must be one of {', '.join(names)}, got {band!r}")
    return value


def ensure_clinic(session: Session, name: str, phone: str, hours: str) -> Clinic:
    clinic = first_clinic(session)
    if clinic is None:
        clinic = Clinic(name=name, phone=phone, hours=hours)
        session.add(clinic)
        session.flush()
    return clinic


def enrol(
    session: Session,
    clinic: Clinic,
    *,
    phone: str,
    name: str,
    tz: str,
    meds: list[MedSpec],
    consent: str | None,
    age_band: str | None = None,
    pool: Sequence[str] = (),
) -> Patient:
    """Create a patient and their regimen; the phone must be new. ``age_band`` None:
    not recorded (the risk modifiers then assume the thresholds' ``age_bands.unknown``).
    ``pool``: the sending numbers (Settings.sending_pool); the patient gets the least
    used (messaging/pool.py). Empty: none yet, one is assigned on the first send."""
    if by_phone(session, phone) is not None:
        raise EnrolmentError("a patient with this phone number is already enrolled")
    if not name.strip():
        raise EnrolmentError("--name must not be empty")
    patient = Patient(
        clinic_id=clinic.id,
        phone=phone,
        display_name=name.strip(),
        timezone=check_timezone(tz),
        age_band=check_age_band(age_band),
        consent_version=consent,
        consent_at=utcnow() if consent else None,
        sending_number=choose(session, pool) if pool else None,
    )
    session.add(patient)
    session.flush()
    for med in meds:
        add_regimen(session, patient, med.name, med.dose, ",".join(med.times))
    session.flush()
    return patient
