"""Admin: the on-call rota (escalation/oncall.py): who is paged now, and a new shift."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.wrappers import Response

from clinic.audit import record
from clinic.auth import login_required
from clinic.blueprint import bp, runtime
from clinic.staff import active_clinicians
from escalation.oncall import RotaError, current, set_on_call
from store.models import Clinician, OnCallShift

PAGE = "clinic.admin_rota"
HISTORY = 20


@bp.get("/admin/rota")
@login_required("admin")
def admin_rota() -> ResponseReturnValue:
    with runtime().sessions() as db:
        shifts = db.scalars(
            select(OnCallShift).order_by(OnCallShift.starts_at.desc()).limit(HISTORY)
        ).all()
        names = {c.id: c.name for c in db.scalars(select(Clinician))}
        return render_template(
            "clinic/admin_rota.html",
            on_call=current(db),
            shifts=shifts,
            names=names,
            people=active_clinicians(db),
        )


@bp.post("/admin/rota")
@login_required("admin")
def admin_rota_set() -> Response:
    form = request.form
    try:
        with runtime().sessions.begin() as db:
            shift = set_on_call(
                db,
                form.get("primary", ""),
                form.get("backup") or None,
                form.get("supervisor") or None,
            )
            record(
                db,
                "oncall.set",
                target=f"on_call_shift:{shift.id}",
                detail=f"primary={shift.primary_id} backup={shift.backup_id} "
                f"supervisor={shift.supervisor_id}",
            )
    except RotaError as exc:
        flash(f"Rota not changed: {exc}.", "error")
    else:
        flash("The new shift starts now; the previous one has ended.")
    return redirect(url_for(PAGE))
