"""A patient's plan: change a medicine's regimen (the patient is told), pause and resume
the programme, quiet hours and language, and the consent history. Every change is
audited in the transaction that makes it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from care.enrolment import LANGUAGES
from care.plans import change_regimen, held_until, stop_regimen
from clinic.audit import record
from clinic.auth import login_required
from clinic.blueprint import bp, runtime
from clinic.patient_pages import load_patient
from compliance.consent import ACTIVE, PAUSED
from conversation.jobs import enqueue_flush
from scheduling.planner import parse_days
from scheduling.preferences import check_quiet
from store.enrolment import MedSpec, parse_med
from store.models import ConsentEvent, Patient

# Pause and resume: which status each action leaves, and from which it may start.
STATUS_CHANGES = {"pause": (ACTIVE, PAUSED), "resume": (PAUSED, ACTIVE)}


def told(held: str | None) -> str:
    """How the patient hears of a plan change (the notice waits for their window)."""
    if held is None:
        return "The patient is told by text."
    return f"The patient is told by text at {held} their time (their quiet hours)."


def med_from_form(name: str, dose: str, times: str) -> MedSpec:
    """The regimen form's three fields, checked like the CLI's NAME:DOSE@HH:MM."""
    clean = ",".join(t.strip() for t in times.split(",") if t.strip())
    return parse_med(f"{name.strip()}:{dose.strip()}@{clean}")


def render_plan(patient_id: int, error: str = "", status: int = 200) -> ResponseReturnValue:
    with runtime().sessions.begin() as db:
        found = load_patient(db, patient_id)
        consents = list(
            db.scalars(
                select(ConsentEvent)
                .where(ConsentEvent.patient_id == patient_id)
                .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc())
            )
        )
        regimen = [r for r in found.regimen if r.active]
        record(db, "plan.view", patient_id=patient_id, target=f"patient-{patient_id}")
        db.flush()  # the audit row, before the rows are detached
        db.expunge_all()
    page = render_template(
        "clinic/plan.html",
        p=found,
        regimen=regimen,
        consents=consents,
        languages=LANGUAGES,
        error=error,
        form=request.form if error else {},
    )
    return page, status


@bp.get("/patients/<int:patient_id>/plan")
@login_required()
def patient_plan(patient_id: int) -> ResponseReturnValue:
    return render_plan(patient_id)


@bp.post("/patients/<int:patient_id>/plan/regimen")
@login_required()
def change_plan(patient_id: int) -> ResponseReturnValue:
    form = request.form
    try:
        med = med_from_form(form.get("name", ""), form.get("dose", ""), form.get("times", ""))
        days = form.get("days", "daily").strip().lower() or "daily"
        parse_days(days)
    except ValueError as exc:
        return render_plan(patient_id, str(exc), 400)
    with runtime().sessions.begin() as db:
        found = load_patient(db, patient_id)
        entry = change_regimen(db, found, med, days)
        held = held_until(db, found)
        detail = f"{med.name} {med.dose} at {','.join(med.times)} ({days})"
        record(
            db, "regimen.change", patient_id=patient_id, target=f"regimen-{entry.id}", detail=detail
        )
    enqueue_flush(runtime(), patient_id)
    flash(f"Plan changed: {detail}. {told(held)}")
    return redirect(url_for("clinic.patient", patient_id=patient_id))


@bp.post("/patients/<int:patient_id>/plan/regimen/<int:regimen_id>/stop")
@login_required()
def stop_plan(patient_id: int, regimen_id: int) -> ResponseReturnValue:
    with runtime().sessions.begin() as db:
        found = load_patient(db, patient_id)
        try:
            entry = stop_regimen(db, found, regimen_id)
        except LookupError as exc:
            error = str(exc)
        else:
            error = ""
            name, held = entry.medication.name, held_until(db, found)
            record(db, "regimen.stop", patient_id=patient_id, target=f"regimen-{regimen_id}")
    if error:
        return render_plan(patient_id, error, 404)
    enqueue_flush(runtime(), patient_id)
    flash(f"Check-ins for {name} stopped. {told(held)}")
    return redirect(url_for("clinic.patient_plan", patient_id=patient_id))


@bp.post("/patients/<int:patient_id>/plan/status")
@login_required()
def change_status(patient_id: int) -> ResponseReturnValue:
    action = request.form.get("action", "")
    if action not in STATUS_CHANGES:
        return render_plan(patient_id, "Choose pause or resume.", 400)
    before, after = STATUS_CHANGES[action]
    with runtime().sessions.begin() as db:
        found = load_patient(db, patient_id)
        current = found.status
        if current == before:
            found.status = after
            record(db, f"patient.{action}", patient_id=patient_id, target=f"patient-{patient_id}")
    if current != before:
        message = f"Only an {before} programme can be {action}d (this one is {current})."
        return render_plan(patient_id, message, 409)
    flash(
        "Programme paused: no check-ins until it is resumed."
        if action == "pause"
        else "Programme resumed."
    )
    return redirect(url_for("clinic.patient_plan", patient_id=patient_id))


@bp.post("/patients/<int:patient_id>/plan/preferences")
@login_required()
def change_preferences(patient_id: int) -> ResponseReturnValue:
    form = request.form
    start, end = form.get("quiet_start", "").strip(), form.get("quiet_end", "").strip()
    language = form.get("language", "")
    try:
        if bool(start) != bool(end):
            raise ValueError("give both ends of the quiet-hours window, or neither (clinic's)")
        if start:
            check_quiet(start, end)
        if language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    except ValueError as exc:
        return render_plan(patient_id, str(exc), 400)
    with runtime().sessions.begin() as db:
        found: Patient = load_patient(db, patient_id)
        found.quiet_start, found.quiet_end = start or None, end or None
        found.language = language
        window = f"{start}-{end}" if start else "clinic's"
        record(
            db,
            "patient.preferences",
            patient_id=patient_id,
            target=f"patient-{patient_id}",
            detail=f"texts window {window}, language {language}",
        )
    flash("Saved.")
    return redirect(url_for("clinic.patient_plan", patient_id=patient_id))
