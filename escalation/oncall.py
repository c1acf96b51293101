"""The on-call rota: who is paged now, the backup, the supervisor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from store.models import Clinician, OnCallShift, utcnow


class RotaError(ValueError):
    """The rota request is invalid; the message says why."""


@dataclass(frozen=True)
class OnCall:
    primary: Clinician
    backup: Clinician | None
    supervisor: Clinician | None

    def at_level(self, level: int) -> Clinician | None:
        """Level 1 is the primary, 2 the backup, 3 the supervisor."""
        return {1: self.primary, 2: self.backup, 3: self.supervisor}.get(level)


def clinician_by_email(session: Session, email: str) -> Clinician:
    found = session.scalars(
        select(Clinician).where(Clinician.email == email.strip().lower())
    ).first()
    if found is None:
        raise RotaError(f"no clinician with email {email}")
    return found


def clinician_by_phone(session: Session, phone: str) -> Clinician | None:
    return session.scalars(
        select(Clinician).where(Clinician.phone == phone, Clinician.active.is_(True))
    ).first()


def current(session: Session, now: datetime | None = None) -> OnCall | None:
    """The shift in force now: the latest that has started and not ended."""
    at = now or utcnow()
    shift = session.scalars(
        select(OnCallShift)
        .where(
            OnCallShift.starts_at <= at,
            or_(OnCallShift.ends_at.is_(None), OnCallShift.ends_at > at),
        )
        .order_by(OnCallShift.starts_at.desc(), OnCallShift.id.desc())
    ).first()
    if shift is None:
        return None
    get = session.get
    return OnCall(
        primary=session.get_one(Clinician, shift.primary_id),
        backup=get(Clinician, shift.backup_id) if shift.backup_id else None,
        supervisor=get(Clinician, shift.supervisor_id) if shift.supervisor_id else None,
    )


def set_on_call(
    session: Session, primary: str, backup: str | None, supervisor: str | None = None
) -> OnCallShift:
    """Start a new shift now (by email); the open shift before it ends now."""
    now = utcnow()
    shift = OnCallShift(
        primary_id=clinician_by_email(session, primary).id,
        backup_id=clinician_by_email(session, backup).id if backup else None,
        supervisor_id=clinician_by_email(session, supervisor).id if supervisor else None,
        starts_at=now,
    )
    if shift.backup_id == shift.primary_id:
        raise RotaError("the backup must be someone other than the primary")
    session.execute(update(OnCallShift).where(OnCallShift.ends_at.is_(None)).values(ends_at=now))
    session.add(shift)
    session.flush()
    return shift


def add_clinician(
    session: Session, name: str, email: str, phone: str | None, role: str = "clinician"
) -> Clinician:
    if not name.strip() or "@" not in email:
        raise RotaError("a clinician needs a name and an email address")
    existing = session.scalars(
        select(Clinician).where(Clinician.email == email.strip().lower())
    ).first()
    if existing is not None:
        raise RotaError(f"a clinician with email {email} already exists")
    clinician = Clinician(name=name.strip(), email=email.strip().lower(), phone=phone, role=role)
    session.add(clinician)
    session.flush()
    return clinician
