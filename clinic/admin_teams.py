"""Admin: care teams and their members. Audited."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from clinic.audit import record
from clinic.auth import login_required
from clinic.blueprint import bp, runtime
from clinic.staff import active_clinicians
from clinic.teams import TeamError, add_member, create_team, remove_member, teams
from store.enrolment import ensure_clinic

PAGE = "clinic.admin_teams"


@bp.get("/admin/teams")
@login_required("admin")
def admin_teams() -> ResponseReturnValue:
    with runtime().sessions() as db:
        found, people = teams(db), active_clinicians(db)
    return render_template("clinic/admin_teams.html", teams=found, people=people)


@bp.post("/admin/teams")
@login_required("admin")
def admin_team_create() -> Response:
    rt = runtime()
    s = rt.settings
    try:
        with rt.sessions.begin() as db:
            clinic = ensure_clinic(db, s.clinic_name, s.clinic_phone, s.clinic_hours)
            team = create_team(db, clinic, request.form.get("name", ""))
            record(db, "care_team.create", target=f"care_team:{team.id}", detail=team.name)
    except TeamError as exc:
        flash(f"Not created: {exc}.", "error")
    else:
        flash(f"Team {team.name} created.")
    return redirect(url_for(PAGE))


def _member_id() -> int:
    raw = request.form.get("clinician_id", "")
    if not raw.isdigit():
        raise TeamError("choose a clinician")
    return int(raw)


@bp.post("/admin/teams/<int:team_id>/members")
@login_required("admin")
def admin_team_add_member(team_id: int) -> Response:
    try:
        with runtime().sessions.begin() as db:
            member = _member_id()
            add_member(db, team_id, member)
            record(
                db,
                "care_team.add_member",
                target=f"care_team:{team_id}",
                detail=f"clinician:{member}",
            )
    except TeamError as exc:
        flash(f"Not added: {exc}.", "error")
    else:
        flash("Member added.")
    return redirect(url_for(PAGE))


@bp.post("/admin/teams/<int:team_id>/members/<int:clinician_id>/remove")
@login_required("admin")
def admin_team_remove_member(team_id: int, clinician_id: int) -> Response:
    try:
        with runtime().sessions.begin() as db:
            remove_member(db, team_id, clinician_id)
            record(
                db,
                "care_team.remove_member",
                target=f"care_team:{team_id}",
                detail=f"clinician:{clinician_id}",
            )
    except TeamError as exc:
        flash(f"Not removed: {exc}.", "error")
    else:
        flash("Member removed.")
    return redirect(url_for(PAGE))
