"""Admin: clinicians (add, deactivate or reactivate, reset a password). Audited."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from clinic.audit import record
from clinic.auth import current_clinician, login_required
from clinic.blueprint import bp, runtime
from clinic.passwords import MIN_LENGTH, PasswordError
from clinic.signin import ROLES, set_password
from clinic.staff import StaffError, add_with_password, by_id, everyone, set_active
from escalation.oncall import RotaError
from messaging.phones import InvalidPhone, to_e164
from store.models import utcnow

PAGE = "clinic.admin_clinicians"


@bp.get("/admin/clinicians")
@login_required("admin")
def admin_clinicians() -> ResponseReturnValue:
    with runtime().sessions() as db:
        people = everyone(db)
    return render_template(
        "clinic/admin_clinicians.html",
        people=people,
        roles=ROLES,
        min_length=MIN_LENGTH,
        now=utcnow(),
    )


@bp.post("/admin/clinicians")
@login_required("admin")
def admin_clinician_add() -> Response:
    form = request.form
    rt = runtime()
    try:
        raw_phone = form.get("phone", "").strip()
        phone = to_e164(raw_phone, rt.settings.default_region) if raw_phone else None
        with rt.sessions.begin() as db:
            added = add_with_password(
                db,
                name=form.get("name", ""),
                email=form.get("email", ""),
                phone=phone,
                role=form.get("role", "clinician"),
                password=form.get("password", ""),
                now=utcnow(),
            )
            db.flush()
            record(db, "clinician.add", target=f"clinician:{added.id}", detail=f"role={added.role}")
    except (RotaError, PasswordError, InvalidPhone, ValueError) as exc:
        flash(f"Not added: {exc}.", "error")
    else:
        flash(f"Added {added.name}. Give them their password in person or by phone.")
    return redirect(url_for(PAGE))


@bp.post("/admin/clinicians/<int:clinician_id>/active")
@login_required("admin")
def admin_clinician_active(clinician_id: int) -> Response:
    active = request.form.get("active") == "1"
    try:
        with runtime().sessions.begin() as db:
            clinician = by_id(db, clinician_id)
            set_active(db, clinician, active, current_clinician(), utcnow())
            action = "clinician.reactivate" if active else "clinician.deactivate"
            record(db, action, target=f"clinician:{clinician_id}")
    except StaffError as exc:
        flash(f"Not changed: {exc}.", "error")
    else:
        flash(f"{clinician.name} is {'active' if active else 'deactivated and signed out'}.")
    return redirect(url_for(PAGE))


@bp.post("/admin/clinicians/<int:clinician_id>/password")
@login_required("admin")
def admin_clinician_password(clinician_id: int) -> Response:
    try:
        with runtime().sessions.begin() as db:
            clinician = by_id(db, clinician_id)
            set_password(clinician, request.form.get("password", ""), utcnow())
            record(db, "clinician.password_reset", target=f"clinician:{clinician_id}")
    except (StaffError, PasswordError) as exc:
        flash(f"Password not changed: {exc}.", "error")
    else:
        flash(f"New password set for {clinician.name}; their open sessions have ended.")
    return redirect(url_for(PAGE))
