"""Enrolment: a patient, their plan and the consent the care team captured; the welcome
text goes out, and check-ins wait for the patient's YES."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from care.enrolment import LANGUAGES, enrol_with_consent
from clinic.audit import record
from clinic.auth import current_clinician, login_required
from clinic.blueprint import bp, runtime
from clinic.plan_pages import med_from_form
from compliance.consent import CHANNELS, Consent
from conversation.jobs import enqueue_flush
from messaging.phones import to_e164
from store.enrolment import MedSpec, ensure_clinic
from store.models import utcnow

MED_ROWS = 3


def meds_from_form() -> list[MedSpec]:
    """The filled medicine rows (a row with only some fields is an error, not skipped)."""
    meds = []
    for i in range(MED_ROWS):
        fields = [request.form.get(f"{f}_{i}", "").strip() for f in ("name", "dose", "times")]
        if any(fields):
            meds.append(med_from_form(*fields))
    return meds


def consent_from_form(recorded_by: str) -> Consent:
    try:
        given = date.fromisoformat(request.form.get("consent_date", ""))
    except ValueError:
        raise ValueError("the consent date must be a date (YYYY-MM-DD)") from None
    return Consent(
        request.form.get("consent_version", "").strip(),
        given,
        request.form.get("consent_channel", ""),
        recorded_by,
    )


def render_form(error: str = "", status: int = 200) -> ResponseReturnValue:
    page = render_template(
        "clinic/enrol.html",
        error=error,
        form=request.form,
        rows=range(MED_ROWS),
        channels=CHANNELS,
        languages=LANGUAGES,
        today=utcnow().date().isoformat(),
    )
    return page, status


@bp.route("/patients/new", methods=["GET", "POST"])
@login_required()
def enrol() -> ResponseReturnValue:
    if request.method == "GET":
        return render_form()
    rt = runtime()
    who = current_clinician()
    form = request.form
    try:
        phone = to_e164(form.get("phone", ""), rt.settings.default_region)
        meds = meds_from_form()
        consent = consent_from_form(f"{who.name} <{who.email}>")
        with rt.sessions.begin() as db:
            s = rt.settings
            clinic = ensure_clinic(db, s.clinic_name, s.clinic_phone, s.clinic_hours)
            patient = enrol_with_consent(
                db,
                clinic,
                phone=phone,
                name=form.get("name", ""),
                tz=form.get("timezone", "").strip(),
                meds=meds,
                consent=consent,
                language=form.get("language", "en"),
                pool=s.sending_pool,
            )
            record(
                db,
                "patient.enrol",
                patient_id=patient.id,
                target=f"patient-{patient.id}",
                detail=f"consent {consent.version} ({consent.channel}, {consent.given_on})",
            )
            patient_id = patient.id
    except ValueError as exc:  # EnrolmentError, ConsentError and InvalidPhone among them
        return render_form(str(exc), 400)
    enqueue_flush(rt, patient_id)
    flash("Enrolled. The welcome text is on its way; check-ins start when the patient replies YES.")
    return redirect(url_for("clinic.patient", patient_id=patient_id))
