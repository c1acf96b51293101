"""Clinician accounts for the web app: add with a password, reset, (de)activate.

Used by the admin pages and the CLI; no Flask here. The caller audits and commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic.signin import check_role, set_password
from escalation.oncall import add_clinician
from store.models import Clinician


class StaffError(ValueError):
    """The change cannot be made; the message says why."""


def add_with_password(
    session: Session,
    *,
    name: str,
    email: str,
    phone: str | None,
    role: str,
    password: str,
    now: datetime,
) -> Clinician:
    clinician = add_clinician(session, name, email, phone, check_role(role))
    set_password(clinician, password, now)
    clinician.sessions_valid_after = None
    return clinician


def by_id(session: Session, clinician_id: int) -> Clinician:
    clinician = session.get(Clinician, clinician_id)
    if clinician is None:
        raise StaffError(f"there is no clinician {clinician_id}")
    return clinician


def set_active(
    session: Session, clinician: Clinician, active: bool, by: Clinician, now: datetime
) -> None:
    """Deactivating ends the clinician's sessions at once; nobody deactivates themself,
    and the last active admin stays (someone must be able to sign in and fix things)."""
    if not active and clinician.id == by.id:
        raise StaffError("you cannot deactivate your own account")
    if not active and clinician.role == "admin" and _active_admins(session) <= 1:
        raise StaffError("the last active admin cannot be deactivated")
    clinician.active = active
    if not active:
        clinician.sessions_valid_after = now


def _active_admins(session: Session) -> int:
    return len(
        session.scalars(
            select(Clinician.id).where(Clinician.role == "admin", Clinician.active.is_(True))
        ).all()
    )


def everyone(session: Session) -> list[Clinician]:
    return list(
        session.scalars(select(Clinician).order_by(Clinician.active.desc(), Clinician.name))
    )


def active_clinicians(session: Session) -> list[Clinician]:
    return list(
        session.scalars(
            select(Clinician).where(Clinician.active.is_(True)).order_by(Clinician.name)
        )
    )
