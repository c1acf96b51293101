"""The alert queue (live), one alert with its evidence and paging, acknowledge, resolve."""

from __future__ import annotations

import hashlib

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from clinic.alert_queue import QueueRow, alert_context, by_code, open_queue
from clinic.audit import record
from clinic.auth import current_clinician, login_required
from clinic.blueprint import bp, runtime
from escalation.alerts import acknowledge, resolve
from escalation.paging import LEVELS
from store.models import utcnow

NOTE_MAX = 2000
POLL_MS = 2000


def _audit_queue(rows: list[QueueRow]) -> None:
    """Audit the patients the queue shows, once per change of what it shows (the page
    polls every 2 s: one row per poll would bury the log in repeats)."""
    shown = ",".join(str(r.alert.id) for r in rows)
    digest = hashlib.sha256(shown.encode()).hexdigest()[:16]
    if session.get("queue_audited") == digest:
        return
    with runtime().sessions.begin() as db:
        for row in rows:
            record(db, "alert.queue.view", patient_id=row.alert.patient_id, target=row.alert.code)
    session["queue_audited"] = digest


def _queue() -> list[QueueRow]:
    with runtime().sessions() as db:
        rows = open_queue(db, utcnow())
        db.expunge_all()
    _audit_queue(rows)
    return rows


@bp.get("/alerts")
@login_required()
def alert_queue() -> ResponseReturnValue:
    return render_template(
        "clinic/alert_queue.html", rows=_queue(), poll_ms=POLL_MS, levels=LEVELS, now=utcnow()
    )


@bp.get("/alerts/live")
@login_required()
def alert_queue_live() -> ResponseReturnValue:
    """The queue's rows alone: the page's script swaps them in every POLL_MS."""
    html = render_template("clinic/_alert_rows.html", rows=_queue(), levels=LEVELS, now=utcnow())
    return html, 200, {"Content-Type": "text/html; charset=utf-8"}


@bp.get("/alerts/<code>")
@login_required()
def alert_detail(code: str) -> ResponseReturnValue:
    with runtime().sessions.begin() as db:
        alert = by_code(db, code)
        if alert is None:
            abort(404, f"There is no alert {code}.")
        context = alert_context(db, alert)
        record(db, "alert.view", patient_id=alert.patient_id, target=alert.code)
        db.flush()
        db.expunge_all()
    return render_template(
        "clinic/alert_detail.html", c=context, levels=LEVELS, note_max=NOTE_MAX, now=utcnow()
    )


def _back(code: str) -> Response:
    if request.form.get("back") == "queue":
        return redirect(url_for("clinic.alert_queue"))
    return redirect(url_for("clinic.alert_detail", code=code))


@bp.post("/alerts/<code>/acknowledge")
@login_required()
def alert_acknowledge(code: str) -> Response:
    clinician = current_clinician()
    with runtime().sessions.begin() as db:
        alert = by_code(db, code)
        if alert is None:
            abort(404, f"There is no alert {code}.")
        done = acknowledge(db, alert.code, clinician)
        if done:
            record(db, "alert.acknowledge", patient_id=alert.patient_id, target=alert.code)
    if done:
        flash(f"Alert {alert.code} acknowledged: paging stops. Resolve it when it is handled.")
    else:
        flash(f"Alert {alert.code} was already acknowledged or resolved.", "error")
    return _back(alert.code)


@bp.post("/alerts/<code>/resolve")
@login_required()
def alert_resolve(code: str) -> Response:
    clinician = current_clinician()
    note = request.form.get("note", "").strip()
    if not note or len(note) > NOTE_MAX:
        abort(400, f"Say what was done (a note of 1 to {NOTE_MAX} characters).")
    with runtime().sessions.begin() as db:
        alert = by_code(db, code)
        if alert is None:
            abort(404, f"There is no alert {code}.")
        done = resolve(db, alert.code, clinician, note)
        if done:
            record(db, "alert.resolve", patient_id=alert.patient_id, target=alert.code)
    if done:
        flash(f"Alert {alert.code} resolved.")
    else:
        flash(f"Alert {alert.code} was already resolved.", "error")
    return _back(alert.code)
