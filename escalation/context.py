"""The patient context the risk modifiers need, read from the database: the medicines
and when each started or had its dose changed, the age band, and recent alerts.

The rules themselves stay pure (:mod:`escalation.patterns`); this module only gathers
their inputs. :func:`modified_tier` is what decides a live alert's tier.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from education.library import load_library
from escalation.patterns import MedicineContext, PatientContext, apply_modifiers
from escalation.thresholds import Thresholds
from store.models import Alert, Patient, Regimen


def _dose(entry: Regimen) -> str:
    return "".join(entry.dose.lower().split())


def medicine_contexts(patient: Patient) -> list[MedicineContext]:
    """The patient's current medicines, each with when it started and when its dose last
    changed.

    A plan change (``medfollow regimen set``) retires the entry and adds a new one, so a
    medicine's history is its entries in order: it started with the first, and its dose
    changed with each later entry whose dose differs from the one before (moving the
    times only is not a dose change). Medicines with no active entry are left out.
    """
    library = load_library()
    history: dict[str, list[Regimen]] = {}
    for entry in sorted(patient.regimen, key=lambda r: r.id):
        history.setdefault(entry.medication.name, []).append(entry)
    out: list[MedicineContext] = []
    for name, entries in history.items():
        if not any(e.active for e in entries):
            continue
        changed = None
        for before, after in zip(entries, entries[1:], strict=False):
            if _dose(after) != _dose(before):
                changed = after.started_at
        med = library.get(name)
        out.append(
            MedicineContext(
                name=name,
                drug_class=med.drug_class if med else "other",
                started_at=entries[0].started_at,
                changed_at=changed,
                never_stop_suddenly=bool(med and med.never_stop_suddenly),
            )
        )
    return out


def recent_alert_tiers(
    session: Session, patient_id: int, since: datetime, skip: int | None = None
) -> list[tuple[datetime, str]]:
    """(raised at, tier) of the patient's alerts since ``since``, whatever their state,
    leaving out the alert ``skip``."""
    query = select(Alert.created_at, Alert.tier).where(
        Alert.patient_id == patient_id, Alert.created_at > since
    )
    if skip is not None:
        query = query.where(Alert.id != skip)
    return [(row.created_at, row.tier) for row in session.execute(query)]


def modified_tier(
    session: Session,
    patient_id: int,
    tier: str,
    now: datetime,
    t: Thresholds,
    skip: int | None = None,
) -> tuple[str, list[str]]:
    """The tier after the §7.2 modifiers for this patient, and the modifiers that applied.
    ``skip``: the alert the signal joins (it is not a recent alert of its own)."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        return tier, []
    since = now - timedelta(days=t.modifiers.recent_emergency.within_days)
    return apply_modifiers(
        tier,
        PatientContext(patient.age_band),
        medicine_contexts(patient),
        recent_alert_tiers(session, patient_id, since, skip),
        now,
        t,
    )
