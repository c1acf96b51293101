"""Admin pages: clinicians, care teams, the on-call rota, clinic settings; all audited."""

from __future__ import annotations

import json
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from escalation.oncall import current
from medfollow.runtime import Runtime
from store.models import AuditEvent, CareTeamMember, Clinic, Clinician, MessageTemplate, utcnow
from tests.clinic.conftest import PASSWORD, post, sign_in


def audited(rt: Runtime, action: str) -> list[AuditEvent]:
    with rt.sessions() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def clinic_row(rt: Runtime) -> Clinic:
    with rt.sessions() as db:
        return db.scalars(select(Clinic)).one()


def test_it_adds_a_clinician_who_can_then_sign_in(
    admin_client: FlaskClient, rt: Runtime, admin: Clinician
) -> None:
    form = {
        "name": "Nia New",
        "email": "Nia@clinic.test",
        "phone": "(555) 555-0177",
        "role": "clinician",
        "password": "a long new password",
    }
    assert post(admin_client, "/clinic/admin/clinicians", form).status_code == 302
    with rt.sessions() as db:
        nia = db.scalars(select(Clinician).where(Clinician.email == "nia@clinic.test")).one()
    assert nia.phone == "+15555550177" and nia.role == "clinician"
    assert [(e.actor_id, e.target) for e in audited(rt, "clinician.add")] == [
        (admin.id, f"clinician:{nia.id}")
    ]
    other = admin_client.application.test_client()
    assert sign_in(other, "nia@clinic.test", "a long new password").status_code == 302


def test_it_refuses_a_short_password_or_a_second_account_for_one_email(
    admin_client: FlaskClient, rt: Runtime, clinician: Clinician
) -> None:
    short = {"name": "Sho", "email": "sho@clinic.test", "role": "clinician", "password": "short"}
    page = admin_client.get(
        post(admin_client, "/clinic/admin/clinicians", short).headers["Location"]
    )
    assert "at least 12 characters" in page.get_data(as_text=True)
    again = {"name": "Dup", "email": clinician.email, "role": "clinician", "password": PASSWORD}
    post(admin_client, "/clinic/admin/clinicians", again)
    with rt.sessions() as db:
        emails = list(db.scalars(select(Clinician.email)))
    assert "sho@clinic.test" not in emails and emails.count(clinician.email) == 1
    assert audited(rt, "clinician.add") == []


def test_it_deactivates_a_clinician_and_ends_their_session(
    admin_client: FlaskClient, rt: Runtime, clinician: Clinician
) -> None:
    theirs = admin_client.application.test_client()
    assert sign_in(theirs, clinician.email).status_code == 302
    resp = post(admin_client, f"/clinic/admin/clinicians/{clinician.id}/active", {"active": "0"})
    assert resp.status_code == 302
    assert theirs.get("/clinic/alerts").status_code == 302
    assert sign_in(theirs, clinician.email).status_code == 401
    assert len(audited(rt, "clinician.deactivate")) == 1


def test_it_never_deactivates_the_last_admin(
    admin_client: FlaskClient, rt: Runtime, admin: Clinician
) -> None:
    post(admin_client, f"/clinic/admin/clinicians/{admin.id}/active", {"active": "0"})
    with rt.sessions() as db:
        assert db.get_one(Clinician, admin.id).active is True
    assert audited(rt, "clinician.deactivate") == []


def test_it_resets_a_password_and_lifts_a_lockout(
    admin_client: FlaskClient, rt: Runtime, clinician: Clinician
) -> None:
    with rt.sessions.begin() as db:
        db.get_one(Clinician, clinician.id).locked_until = utcnow() + timedelta(minutes=10)
    url = f"/clinic/admin/clinicians/{clinician.id}/password"
    assert post(admin_client, url, {"password": "brand new password!"}).status_code == 302
    theirs = admin_client.application.test_client()
    assert sign_in(theirs, clinician.email).status_code == 401
    assert sign_in(theirs, clinician.email, "brand new password!").status_code == 302
    assert [e.target for e in audited(rt, "clinician.password_reset")] == [
        f"clinician:{clinician.id}"
    ]


def test_it_builds_a_care_team(
    admin_client: FlaskClient, rt: Runtime, clinician: Clinician
) -> None:
    assert post(admin_client, "/clinic/admin/teams", {"name": "Mood clinic"}).status_code == 302
    post(admin_client, "/clinic/admin/teams", {"name": "Mood clinic"})  # a second is refused
    page = admin_client.get("/clinic/admin/teams").get_data(as_text=True)
    assert page.count('data-team="Mood clinic"') == 1
    team_id = int(audited(rt, "care_team.create")[0].target.split(":")[1])  # type: ignore[union-attr]
    post(
        admin_client, f"/clinic/admin/teams/{team_id}/members", {"clinician_id": str(clinician.id)}
    )
    with rt.sessions() as db:
        assert db.get(CareTeamMember, (team_id, clinician.id)) is not None
    post(admin_client, f"/clinic/admin/teams/{team_id}/members/{clinician.id}/remove")
    with rt.sessions() as db:
        assert db.get(CareTeamMember, (team_id, clinician.id)) is None
    assert (
        len(audited(rt, "care_team.add_member")) == len(audited(rt, "care_team.remove_member")) == 1
    )


def test_it_starts_an_on_call_shift(
    admin_client: FlaskClient, rt: Runtime, clinician: Clinician, admin: Clinician
) -> None:
    form = {"primary": clinician.email, "backup": admin.email, "supervisor": ""}
    assert post(admin_client, "/clinic/admin/rota", form).status_code == 302
    with rt.sessions() as db:
        on_call = current(db)
    assert on_call is not None and on_call.primary.id == clinician.id
    assert on_call.backup is not None and on_call.backup.id == admin.id
    page = admin_client.get("/clinic/admin/rota").get_data(as_text=True)
    assert "Casey" in page[page.index('id="primary"') :]
    assert len(audited(rt, "oncall.set")) == 1


def test_it_refuses_a_shift_whose_backup_is_the_primary(
    admin_client: FlaskClient, rt: Runtime, clinician: Clinician
) -> None:
    form = {"primary": clinician.email, "backup": clinician.email}
    page = admin_client.get(post(admin_client, "/clinic/admin/rota", form).headers["Location"])
    assert "someone other than the primary" in page.get_data(as_text=True)
    with rt.sessions() as db:
        assert current(db) is None


def test_it_sets_quiet_hours_within_the_federal_window(
    admin_client: FlaskClient, rt: Runtime, patient: object
) -> None:
    url = "/clinic/admin/settings/quiet-hours"
    post(admin_client, url, {"quiet_start": "07:00", "quiet_end": "20:00"})
    assert (clinic_row(rt).quiet_start, clinic_row(rt).quiet_end) == ("09:00", "20:00")
    post(admin_client, url, {"quiet_start": "10:00", "quiet_end": "19:30"})
    assert (clinic_row(rt).quiet_start, clinic_row(rt).quiet_end) == ("10:00", "19:30")
    assert [e.detail for e in audited(rt, "clinic.quiet_hours")] == ["09:00-20:00 -> 10:00-19:30"]


def test_it_stores_escalation_deadlines_and_refuses_a_backup_before_the_deadline(
    admin_client: FlaskClient, rt: Runtime, patient: object
) -> None:
    url = "/clinic/admin/settings/escalation"
    post(admin_client, url, {"urgent.ack_within": "20", "urgent.backup_after": "40"})
    assert json.loads(clinic_row(rt).escalation_overrides or "") == {
        "urgent": {"ack_within": 1200, "backup_after": 2400}
    }
    post(admin_client, url, {"emergency.backup_after": "1"})  # before the 5 min deadline
    assert json.loads(clinic_row(rt).escalation_overrides or "")["urgent"]["ack_within"] == 1200
    page = admin_client.get("/clinic/admin/settings").get_data(as_text=True)
    assert 'name="urgent.ack_within" inputmode="decimal" size="6"' in page and 'value="20"' in page
    assert len(audited(rt, "clinic.escalation_deadlines")) == 1


def test_it_approves_and_retires_a_template(
    admin_client: FlaskClient, rt: Runtime, patient: object
) -> None:
    url = "/clinic/admin/settings/templates"
    post(admin_client, url, {"name": "Call back", "body": "Please call the clinic today. 🙂"})
    post(admin_client, url, {"name": "Call back", "body": "Please call the clinic today."})
    with rt.sessions() as db:
        rows = list(db.scalars(select(MessageTemplate)))
    assert [(t.name, t.body, t.approved_by) for t in rows] == [
        ("Call back", "Please call the clinic today.", "ada@clinic.test")
    ]
    post(admin_client, f"{url}/{rows[0].id}/retire")
    assert "No approved texts yet." in admin_client.get("/clinic/admin/settings").get_data(
        as_text=True
    )
    assert len(audited(rt, "template.approve")) == len(audited(rt, "template.retire")) == 1
