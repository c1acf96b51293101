"""Patients: the list with search, and one patient's page (facts, charts, timeline).

Every page that shows patient data writes an audit event in the same request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from clinic.audit import record
from clinic.auth import login_required
from clinic.blueprint import bp, runtime
from clinic.charts import BURDEN_BANDS, Point, adherence_calendar, score_chart
from clinic.series import burden_points, dose_cells, med_changes, score_points
from clinic.timeline import Entry, severity_bands, timeline
from store.models import Alert, Patient, utcnow

LIST_LIMIT = 100
WEEKS = 8
OPEN_STATES = ("open", "notified", "acknowledged")


@dataclass(frozen=True)
class Listed:
    patient: Patient
    medicines: str
    open_alerts: int


@dataclass(frozen=True)
class Charts:
    adherence: Markup
    phq9: Markup
    gad7: Markup
    burden: Markup


def search(session: Session, query: str) -> list[Patient]:
    """Patients whose name, phone or id matches (all of them, by name, when empty)."""
    select_patients = (
        select(Patient)
        .options(selectinload(Patient.regimen))
        .order_by(Patient.display_name, Patient.id)
    )
    text = query.strip()
    if text:
        digits = "".join(c for c in text if c.isdigit())
        terms = [func.lower(Patient.display_name).contains(text.lower(), autoescape=True)]
        if digits:
            terms.append(Patient.phone.contains(digits, autoescape=True))
        if text.isdigit():
            terms.append(Patient.id == int(text))
        select_patients = select_patients.where(or_(*terms))
    return list(session.scalars(select_patients.limit(LIST_LIMIT)))


def open_alert_counts(session: Session, ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(Alert.patient_id, func.count())
        .where(Alert.patient_id.in_(ids), Alert.state.in_(OPEN_STATES))
        .group_by(Alert.patient_id)
    )
    return {pid: n for pid, n in rows if pid is not None}


@bp.get("/patients")
@login_required()
def patients() -> ResponseReturnValue:
    query = request.args.get("q", "")[:100]
    with runtime().sessions.begin() as db:
        found = search(db, query)
        counts = open_alert_counts(db, [p.id for p in found])
        rows = [
            Listed(
                p,
                ", ".join(r.medication.name for r in p.regimen if r.active),
                counts.get(p.id, 0),
            )
            for p in found
        ]
        shown = ",".join(str(p.id) for p in found)
        record(db, "patient.list", target=query[:128] or None, detail=f"shown: {shown}")
        db.flush()  # the audit row, before the rows are detached
        db.expunge_all()
    return render_template("clinic/patients.html", rows=rows, q=query, limit=LIST_LIMIT)


def patient_charts(session: Session, patient: Patient, now: datetime) -> Charts:
    """The four charts over the last eight weeks (longer when scores go further back)."""
    today = now.astimezone(ZoneInfo(patient.timezone)).date()
    first = today - timedelta(days=WEEKS * 7 - 1)
    changes = med_changes(session, patient)
    phq9 = score_points(session, patient.id, "PHQ-9")
    gad7 = score_points(session, patient.id, "GAD-7")
    burden = burden_points(session, patient.id)
    earliest = min([p.at for p in phq9 + gad7 + burden], default=now)
    start = min(earliest, now - timedelta(days=WEEKS * 7)) - timedelta(days=1)

    def scores(name: str, points: list[Point], maximum: int) -> Markup:
        return score_chart(
            name,
            points,
            changes,
            bands=severity_bands(name),
            maximum=maximum,
            start=start,
            end=now,
        )

    return Charts(
        adherence=adherence_calendar(dose_cells(session, patient, first, today), changes, today),
        phq9=scores("PHQ-9", phq9, 27),
        gad7=scores("GAD-7", gad7, 21),
        burden=score_chart(
            "Side-effect burden",
            burden,
            changes,
            bands=BURDEN_BANDS,
            maximum=6,
            start=start,
            end=now,
        ),
    )


def load_patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        abort(404, "No such patient.")
    return patient


@bp.get("/patients/<int:patient_id>")
@login_required()
def patient(patient_id: int) -> ResponseReturnValue:
    now = utcnow()
    with runtime().sessions.begin() as db:
        found = load_patient(db, patient_id)
        charts = patient_charts(db, found, now)
        entries: list[Entry] = timeline(db, patient_id, since=now - timedelta(days=WEEKS * 7))
        regimen = [r for r in found.regimen if r.active]
        record(db, "patient.view", patient_id=patient_id, target=f"patient-{patient_id}")
        db.flush()  # the audit row, before the rows are detached
        db.expunge_all()
    return render_template(
        "clinic/patient.html",
        p=found,
        regimen=regimen,
        charts=charts,
        entries=entries,
        weeks=WEEKS,
    )
