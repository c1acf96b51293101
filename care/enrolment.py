"""Enrolment with consent captured: the patient, their plan, the consent record and,
unless consent was confirmed in person and the patient starts at once, the welcome
text that asks for their opt-in. Never commits; the caller sends the queued text."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from compliance.consent import Consent, invite, record_consent
from compliance.replies import ClinicInfo
from store.enrolment import EnrolmentError, MedSpec, enrol
from store.models import Clinic, Patient

LANGUAGES = {"en": "English", "es": "Spanish"}


def enrol_with_consent(
    session: Session,
    clinic: Clinic,
    *,
    phone: str,
    name: str,
    tz: str,
    meds: list[MedSpec],
    consent: Consent,
    language: str = "en",
    start_active: bool = False,
    pool: Sequence[str] = (),
) -> Patient:
    """Enrol a patient and record their consent as `granted`.

    start_active=False (the web app): the patient is "invited" and gets the welcome
    text; nothing scheduled goes out until they reply YES or START.
    start_active=True (the CLI's in-person consent): active at once, no welcome text.
    pool: the sending numbers (Settings.sending_pool), as for store.enrolment.enrol.
    """
    if language not in LANGUAGES:
        raise EnrolmentError(f"language must be one of {', '.join(LANGUAGES)}")
    patient = enrol(
        session,
        clinic,
        phone=phone,
        name=name,
        tz=tz,
        meds=meds,
        consent=consent.version,
        pool=pool,
    )
    patient.language = language
    record_consent(session, patient, consent)
    if not start_active:
        invite(session, patient, ClinicInfo(clinic.name, clinic.phone, clinic.hours))
    session.flush()
    return patient
