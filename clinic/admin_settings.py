"""Admin: clinic settings (quiet hours, escalation deadlines, approved texts). Audited."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from clinic.audit import record
from clinic.auth import current_clinician, login_required
from clinic.blueprint import bp, runtime
from clinic.clinic_settings import (
    ClinicSettingsError,
    add_template,
    deadline_rows,
    overrides_from_form,
    retire_template,
    set_escalation,
    set_quiet_hours,
    templates_in_use,
)
from escalation.overrides import parse_overrides
from escalation.policy import Policy, PolicyError, load_policy
from store.enrolment import ensure_clinic
from store.models import Clinic

PAGE = "clinic.admin_settings"


def _clinic(db: Session) -> Clinic:
    s = runtime().settings
    return ensure_clinic(db, s.clinic_name, s.clinic_phone, s.clinic_hours)


def _policy() -> Policy:
    return load_policy(runtime().settings.escalation_policy)


@bp.get("/admin/settings")
@login_required("admin")
def admin_settings() -> ResponseReturnValue:
    with runtime().sessions.begin() as db:
        clinic = _clinic(db)
        try:
            overrides = parse_overrides(clinic.escalation_overrides)
        except PolicyError:
            overrides = {}
        return render_template(
            "clinic/admin_settings.html",
            clinic=clinic,
            policy=_policy(),
            deadlines=deadline_rows(_policy(), overrides),
            templates=templates_in_use(db, clinic),
        )


@bp.post("/admin/settings/quiet-hours")
@login_required("admin")
def admin_settings_quiet() -> Response:
    try:
        with runtime().sessions.begin() as db:
            clinic = _clinic(db)
            change = set_quiet_hours(
                clinic, request.form.get("quiet_start", ""), request.form.get("quiet_end", "")
            )
            record(db, "clinic.quiet_hours", target=f"clinic:{clinic.id}", detail=change)
    except ClinicSettingsError as exc:
        flash(f"Quiet hours not changed: {exc}.", "error")
    else:
        flash("Quiet hours saved: scheduled texts follow them from the next planning run.")
    return redirect(url_for(PAGE))


@bp.post("/admin/settings/escalation")
@login_required("admin")
def admin_settings_escalation() -> Response:
    try:
        with runtime().sessions.begin() as db:
            clinic = _clinic(db)
            stored = set_escalation(clinic, _policy(), overrides_from_form(request.form))
            record(db, "clinic.escalation_deadlines", target=f"clinic:{clinic.id}", detail=stored)
    except ClinicSettingsError as exc:
        flash(f"Deadlines not changed: {exc}.", "error")
    else:
        flash("Escalation deadlines saved: new alerts and the next escalation steps use them.")
    return redirect(url_for(PAGE))


@bp.post("/admin/settings/templates")
@login_required("admin")
def admin_settings_template_add() -> Response:
    try:
        with runtime().sessions.begin() as db:
            clinic = _clinic(db)
            template = add_template(
                db,
                clinic,
                request.form.get("name", ""),
                request.form.get("body", ""),
                current_clinician().email,
            )
            record(db, "template.approve", target=f"template:{template.id}", detail=template.body)
    except ClinicSettingsError as exc:
        flash(f"Template not added: {exc}.", "error")
    else:
        flash(f"Template {template.name} approved.")
    return redirect(url_for(PAGE))


@bp.post("/admin/settings/templates/<int:template_id>/retire")
@login_required("admin")
def admin_settings_template_retire(template_id: int) -> Response:
    try:
        with runtime().sessions.begin() as db:
            template = retire_template(db, template_id)
            record(db, "template.retire", target=f"template:{template.id}")
    except ClinicSettingsError as exc:
        flash(f"Not retired: {exc}.", "error")
    else:
        flash(f"Template {template.name} retired.")
    return redirect(url_for(PAGE))
