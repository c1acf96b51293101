"""The patient pages in the Flask test client: list, patient page with charts and
timeline, plan changes, enrolment; each audited (both databases)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from medfollow.runtime import Runtime
from store.models import AuditEvent, Clinician, ConsentEvent, Message, Patient, Regimen, Score
from tests.clinic.conftest import post
from tests.conftest import run_jobs

SVG = re.compile(r'<div class="chart-box" id="(chart-[a-z0-9]+)">(.*?)</div>', re.S)


def audit(rt: Runtime, action: str) -> list[AuditEvent]:
    with rt.sessions() as db:
        return list(
            db.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def charts_of(html: str) -> dict[str, ET.Element]:
    return {key: ET.fromstring(svg) for key, svg in SVG.findall(html)}


def test_it_holds_the_notice_of_a_plan_change_made_at_night_for_the_patients_window(
    signed_in: FlaskClient, rt: Runtime, patient: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    night = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 03:00 in New York
    monkeypatch.setattr("care.plans.utcnow", lambda: night)
    form = {"name": "sertraline", "dose": "100mg", "times": "10:00", "days": "daily"}
    resp = post(signed_in, f"/clinic/patients/{patient.id}/plan/regimen", form)
    assert resp.status_code == 302
    run_jobs(rt)
    with rt.sessions() as db:
        [told] = db.scalars(select(Message).where(Message.kind == "plan_change")).all()
        assert (told.status, told.attempts) == ("held", 0)
        assert told.send_after == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    page = signed_in.get(resp.headers["Location"]).get_data(as_text=True)
    assert "told by text at 09:00 their time" in page


@pytest.mark.parametrize(
    "path",
    ["/clinic/patients", "/clinic/patients/1", "/clinic/patients/1/plan", "/clinic/patients/new"],
)
def test_it_sends_a_visitor_who_is_not_signed_in_to_the_sign_in_page(
    client: FlaskClient, path: str
) -> None:
    resp = client.get(path)
    assert resp.status_code == 302 and "/clinic/login" in resp.headers["Location"]


def test_it_refuses_a_plan_change_without_the_csrf_token(
    signed_in: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    resp = signed_in.post(f"/clinic/patients/{patient.id}/plan/status", data={"action": "pause"})
    assert resp.status_code == 400
    with rt.sessions() as db:
        assert db.get_one(Patient, patient.id).status == "active"


def test_it_finds_patients_by_name_or_phone_and_audits_the_list(
    signed_in: FlaskClient, rt: Runtime, patient: Patient, clinician: Clinician
) -> None:
    page = signed_in.get("/clinic/patients?q=sam").get_data(as_text=True)
    assert "Sam Tester" in page and "sertraline" in page
    assert "Sam Tester" in signed_in.get("/clinic/patients?q=555-0142").get_data(as_text=True)
    assert "No patient matches" in signed_in.get("/clinic/patients?q=zed").get_data(as_text=True)
    rows = audit(rt, "patient.list")
    assert [(r.target, r.detail) for r in rows] == [
        ("sam", f"shown: {patient.id}"),
        ("555-0142", f"shown: {patient.id}"),
        ("zed", "shown: "),
    ]
    assert {r.actor_name for r in rows} == {clinician.email}


def test_it_shows_the_patient_with_charts_and_timeline_and_audits_the_view(
    signed_in: FlaskClient, rt: Runtime, patient: Patient, clinician: Clinician
) -> None:
    with rt.sessions.begin() as db:
        db.add(Score(patient_id=patient.id, instrument="PHQ-9", total=11, complete=True))
    resp = signed_in.get(f"/clinic/patients/{patient.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    charts = charts_of(html)
    assert set(charts) == {"chart-adherence", "chart-phq9", "chart-gad7", "chart-burden"}
    ns = "{http://www.w3.org/2000/svg}"
    [dot] = [c for c in charts["chart-phq9"].iter(ns + "circle")]
    assert dot.get("data-value") == "11" and dot.get("data-band") == "moderate"
    changes = [g for g in charts["chart-phq9"].iter(ns + "g") if g.get("class") == "med-change"]
    assert [g.get("data-label") for g in changes] == ["started sertraline 50mg at 09:00"]
    assert 'data-kind="score"' in html and 'data-kind="plan"' in html
    [row] = audit(rt, "patient.view")
    assert (row.patient_id, row.actor_id, row.actor_kind) == (patient.id, clinician.id, "clinician")


def test_it_says_404_for_an_unknown_patient(signed_in: FlaskClient, rt: Runtime) -> None:
    assert signed_in.get("/clinic/patients/999999").status_code == 404
    assert audit(rt, "patient.view") == []


def test_it_changes_a_regimen_and_tells_the_patient(
    signed_in: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    form = {"name": "sertraline", "dose": "100mg", "times": "08:00, 20:00", "days": "daily"}
    resp = post(signed_in, f"/clinic/patients/{patient.id}/plan/regimen", form)
    assert resp.status_code == 302
    run_jobs(rt)
    with rt.sessions() as db:
        active = db.scalars(
            select(Regimen).where(Regimen.patient_id == patient.id, Regimen.active)
        ).all()
        assert [(r.dose, r.times) for r in active] == [("100mg", "08:00,20:00")]
        [told] = db.scalars(select(Message).where(Message.kind == "plan_change")).all()
        assert told.status not in ("pending", "failed") and "08:00 and 20:00" in told.body
    [row] = audit(rt, "regimen.change")
    assert row.patient_id == patient.id and row.detail == "sertraline 100mg at 08:00,20:00 (daily)"
    page = signed_in.get(f"/clinic/patients/{patient.id}").get_data(as_text=True)
    assert "Sent (plan_change)" in page and "updated your plan" in page


@pytest.mark.parametrize(
    ("form", "mentions"),
    [
        ({"name": "sertraline", "dose": "100mg", "times": "8am"}, "HH:MM"),
        ({"name": "", "dose": "100mg", "times": "08:00"}, "NAME:DOSE"),
        ({"name": "sertraline", "dose": "1mg", "times": "08:00", "days": "someday"}, "someday"),
    ],
)
def test_it_refuses_a_bad_regimen_and_changes_nothing(
    signed_in: FlaskClient, rt: Runtime, patient: Patient, form: dict[str, str], mentions: str
) -> None:
    resp = post(signed_in, f"/clinic/patients/{patient.id}/plan/regimen", form)
    assert resp.status_code == 400 and mentions in resp.get_data(as_text=True)
    with rt.sessions() as db:
        assert len(db.scalars(select(Regimen)).all()) == 1
        assert db.scalars(select(Message)).all() == []


def test_it_pauses_and_resumes_the_programme(
    signed_in: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    path = f"/clinic/patients/{patient.id}/plan/status"
    assert post(signed_in, path, {"action": "pause"}).status_code == 302
    with rt.sessions() as db:
        assert db.get_one(Patient, patient.id).status == "paused"
    assert post(signed_in, path, {"action": "pause"}).status_code == 409
    assert post(signed_in, path, {"action": "resume"}).status_code == 302
    with rt.sessions() as db:
        assert db.get_one(Patient, patient.id).status == "active"
    assert [r.action for r in audit(rt, "patient.pause") + audit(rt, "patient.resume")] == [
        "patient.pause",
        "patient.resume",
    ]


@pytest.mark.parametrize(
    ("form", "status", "saved"),
    [
        (
            {"quiet_start": "10:00", "quiet_end": "19:30", "language": "es"},
            302,
            ("10:00", "19:30", "es"),
        ),
        ({"quiet_start": "", "quiet_end": "", "language": "en"}, 302, (None, None, "en")),
        ({"quiet_start": "07:00", "quiet_end": "19:00", "language": "en"}, 400, (None, None, "en")),
        ({"quiet_start": "10:00", "quiet_end": "", "language": "en"}, 400, (None, None, "en")),
        ({"quiet_start": "", "quiet_end": "", "language": "klingon"}, 400, (None, None, "en")),
    ],
)
def test_it_sets_the_texts_window_and_language_within_the_limits(
    signed_in: FlaskClient,
    rt: Runtime,
    patient: Patient,
    form: dict[str, str],
    status: int,
    saved: tuple[str | None, str | None, str],
) -> None:
    resp = post(signed_in, f"/clinic/patients/{patient.id}/plan/preferences", form)
    assert resp.status_code == status
    with rt.sessions() as db:
        found = db.get_one(Patient, patient.id)
        assert (found.quiet_start, found.quiet_end, found.language) == saved
    assert len(audit(rt, "patient.preferences")) == (1 if status == 302 else 0)


def test_it_enrols_a_patient_invited_with_consent_and_sends_the_welcome(
    signed_in: FlaskClient, rt: Runtime, clinician: Clinician
) -> None:
    form = {
        "name": "Robin Lee",
        "phone": "(555) 555-0166",
        "timezone": "America/Chicago",
        "language": "en",
        "name_0": "lithium",
        "dose_0": "300mg",
        "times_0": "08:00,20:00",
        "consent_version": "v4",
        "consent_date": "2026-11-01",
        "consent_channel": "phone",
    }
    resp = post(signed_in, "/clinic/patients/new", form)
    assert resp.status_code == 302
    run_jobs(rt)
    with rt.sessions() as db:
        found = db.scalars(select(Patient)).one()
        assert (found.phone, found.status, found.timezone) == (
            "+15555550166",
            "invited",
            "America/Chicago",
        )
        [event] = db.scalars(select(ConsentEvent)).all()
        assert (event.kind, event.version, event.channel) == ("granted", "v4", "phone")
        assert event.recorded_by == f"{clinician.name} <{clinician.email}>"
        [welcome] = db.scalars(select(Message).where(Message.kind == "welcome")).all()
        assert welcome.status not in ("pending", "failed")
    assert resp.headers["Location"].endswith(f"/clinic/patients/{found.id}")
    [row] = audit(rt, "patient.enrol")
    assert row.patient_id == found.id and row.detail == "consent v4 (phone, 2026-11-01)"
    plan = signed_in.get(f"/clinic/patients/{found.id}/plan").get_data(as_text=True)
    assert 'data-kind="granted"' in plan and "Invited" in plan


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        ({"phone": "12"}, "phone"),
        ({"consent_version": ""}, "version"),
        ({"consent_date": "soon"}, "date"),
        ({"timezone": "Mars/Base"}, "time zone"),
        ({"dose_0": ""}, "NAME:DOSE"),
    ],
)
def test_it_refuses_an_incomplete_enrolment_and_keeps_what_was_typed(
    signed_in: FlaskClient, rt: Runtime, change: dict[str, str], mentions: str
) -> None:
    form = {
        "name": "Robin Lee",
        "phone": "+15555550166",
        "timezone": "America/Chicago",
        "name_0": "lithium",
        "dose_0": "300mg",
        "times_0": "08:00",
        "consent_version": "v4",
        "consent_date": "2026-11-01",
        "consent_channel": "in_person",
        **change,
    }
    resp = post(signed_in, "/clinic/patients/new", form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and mentions in html
    assert 'value="Robin Lee"' in html
    with rt.sessions() as db:
        assert db.scalars(select(Patient)).all() == []


def test_it_stops_a_medicines_check_ins_and_tells_the_patient(
    signed_in: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    with rt.sessions() as db:
        entry_id = db.get_one(Patient, patient.id).regimen[0].id
    path = f"/clinic/patients/{patient.id}/plan/regimen/{entry_id}/stop"
    assert post(signed_in, path).status_code == 302
    assert post(signed_in, path).status_code == 404  # already out of the plan
    run_jobs(rt)
    with rt.sessions() as db:
        assert db.get_one(Regimen, entry_id).active is False
        [told] = db.scalars(select(Message).where(Message.kind == "plan_change")).all()
        assert "no longer send check-ins for a medicine" in told.body
        assert told.status not in ("pending", "failed")
    [row] = audit(rt, "regimen.stop")
    assert row.patient_id == patient.id and row.target == f"regimen-{entry_id}"
