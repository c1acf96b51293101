"""Demo sign-ins for `medfollow demo seed`: the on-call demo clinician and an admin.

The passwords are public demo values, like the demo Twilio token: never use them in
production. A password someone has changed is left alone.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from clinic.signin import by_email, set_password
from escalation.oncall import add_clinician
from store.models import utcnow

DEMO_ADMIN = ("Demo Admin", "admin@demo.medfollow.invalid")
DEMO_CLINICIAN_PASSWORD = "demo-clinician-not-secret"
DEMO_ADMIN_PASSWORD = "demo-admin-not-secret"


def seed_sign_ins(session: Session, clinician_email: str) -> list[tuple[str, str]]:
    """Give the demo clinician and a demo admin a password once; (email, password)."""
    admin = by_email(session, DEMO_ADMIN[1])
    if admin is None:
        admin = add_clinician(session, DEMO_ADMIN[0], DEMO_ADMIN[1], None, "admin")
    clinician = by_email(session, clinician_email)
    pairs = [(admin, DEMO_ADMIN_PASSWORD)]
    if clinician is not None:
        pairs.insert(0, (clinician, DEMO_CLINICIAN_PASSWORD))
    for who, password in pairs:
        if who.password_hash is None:
            set_password(who, password, utcnow())
    return [(who.email, password) for who, password in pairs]
