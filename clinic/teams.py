"""Care teams: named groups of clinicians. No Flask here; the caller audits and commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from store.models import CareTeam, CareTeamMember, Clinic, Clinician


class TeamError(ValueError):
    """The change cannot be made; the message says why."""


@dataclass(frozen=True)
class Team:
    team: CareTeam
    members: list[Clinician]


def teams(session: Session) -> list[Team]:
    found = session.scalars(select(CareTeam).order_by(CareTeam.name)).all()
    rows = session.execute(
        select(CareTeamMember.care_team_id, Clinician)
        .join(Clinician, Clinician.id == CareTeamMember.clinician_id)
        .order_by(Clinician.name)
    ).all()
    return [Team(t, [c for team_id, c in rows if team_id == t.id]) for t in found]


def create_team(session: Session, clinic: Clinic, name: str) -> CareTeam:
    name = name.strip()
    if not name or len(name) > 100:
        raise TeamError("a team needs a name of 1 to 100 characters")
    taken = session.scalars(
        select(CareTeam).where(CareTeam.clinic_id == clinic.id, CareTeam.name == name)
    ).first()
    if taken is not None:
        raise TeamError(f"there is already a team called {name}")
    team = CareTeam(clinic_id=clinic.id, name=name)
    session.add(team)
    session.flush()
    return team


def add_member(session: Session, team_id: int, clinician_id: int) -> None:
    if session.get(CareTeam, team_id) is None:
        raise TeamError(f"there is no team {team_id}")
    clinician = session.get(Clinician, clinician_id)
    if clinician is None or not clinician.active:
        raise TeamError("choose an active clinician")
    if session.get(CareTeamMember, (team_id, clinician_id)) is not None:
        raise TeamError(f"{clinician.name} is already in the team")
    session.add(CareTeamMember(care_team_id=team_id, clinician_id=clinician_id))


def remove_member(session: Session, team_id: int, clinician_id: int) -> None:
    result = session.execute(
        delete(CareTeamMember).where(
            CareTeamMember.care_team_id == team_id, CareTeamMember.clinician_id == clinician_id
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise TeamError("that clinician is not in the team")
