"""Sign-in rules: password check, lockout after repeated failures, session validity.

No Flask here: the views in clinic/auth.py call these inside one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from clinic.passwords import check_password, hash_password
from store.models import Clinician

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
ROLES = ("clinician", "admin")


@dataclass(frozen=True)
class SignIn:
    clinician: Clinician | None  # set when the sign-in succeeded
    outcome: str  # signed_in | wrong_password | unknown | inactive | locked | now_locked


def by_email(session: Session, email: str) -> Clinician | None:
    return session.scalars(
        select(Clinician).where(Clinician.email == email.strip().lower())
    ).first()


def sign_in(session: Session, email: str, password: str, now: datetime) -> SignIn:
    """Check the password; count a failure, locking the account at MAX_FAILURES."""
    clinician = by_email(session, email)
    if clinician is None:
        check_password(None, password)
        return SignIn(None, "unknown")
    if clinician.locked_until is not None and clinician.locked_until > now:
        return SignIn(None, "locked")
    if not check_password(clinician.password_hash, password):
        return SignIn(None, _count_failure(session, clinician, now))
    if not clinician.active:
        return SignIn(None, "inactive")
    clinician.failed_logins, clinician.locked_until, clinician.last_login_at = 0, None, now
    return SignIn(clinician, "signed_in")


def _count_failure(session: Session, clinician: Clinician, now: datetime) -> str:
    """Add one failure atomically (two parallel guesses both count), lock at the limit."""
    failures = session.execute(
        update(Clinician)
        .where(Clinician.id == clinician.id)
        .values(failed_logins=Clinician.failed_logins + 1)
        .returning(Clinician.failed_logins)
    ).scalar_one()
    if failures < MAX_FAILURES:
        return "wrong_password"
    session.execute(
        update(Clinician)
        .where(Clinician.id == clinician.id)
        .values(failed_logins=0, locked_until=now + LOCKOUT)
    )
    return "now_locked"


def session_valid(clinician: Clinician | None, signed_in_at: datetime, now: datetime) -> bool:
    """An active clinician, a session younger than its lifetime and not voided since."""
    if clinician is None or not clinician.active:
        return False
    if now - signed_in_at > SESSION_LIFETIME or signed_in_at > now + timedelta(minutes=5):
        return False
    voided = clinician.sessions_valid_after
    return voided is None or signed_in_at >= voided


def set_password(clinician: Clinician, password: str, now: datetime) -> None:
    """A new password voids the clinician's open sessions and lifts a lockout."""
    clinician.password_hash = hash_password(password)
    clinician.failed_logins, clinician.locked_until = 0, None
    clinician.sessions_valid_after = now


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    return role


def has_role(clinician: Clinician, role: str) -> bool:
    """Admins can do what clinicians can; other roles (e.g. supervisor) count as clinician."""
    return role != "admin" or clinician.role == "admin"
