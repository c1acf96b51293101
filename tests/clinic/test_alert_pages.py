"""The alert queue, one alert's page, acknowledge and resolve, and their audit rows."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from escalation.alerts import raise_alert
from escalation.policy import load_policy
from medfollow.runtime import Runtime
from store.models import Alert, AlertDelivery, AuditEvent, Clinician, Message, Patient
from tests.clinic.conftest import post

POLICY = load_policy()


def make_alert(rt: Runtime, patient: Patient, tier: str, kind: str, body: str = "") -> str:
    with rt.sessions.begin() as db:
        message_id = None
        if body:
            msg = Message(patient_id=patient.id, direction="inbound", body=body, status="done")
            db.add(msg)
            db.flush()
            message_id = msg.id
        raised = raise_alert(
            db,
            POLICY,
            patient_id=patient.id,
            tier=tier,
            kind=kind,
            rules=[f"R-{kind}"],
            summary=f"{kind} summary",
            message_id=message_id,
        )
        return raised.code


def audits(rt: Runtime, action: str) -> list[AuditEvent]:
    with rt.sessions() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_it_lists_open_alerts_emergency_first_then_by_deadline(
    signed_in: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    routine = make_alert(rt, patient, "routine", "R21")
    emergency = make_alert(rt, patient, "emergency", "suicidality")
    urgent = make_alert(rt, patient, "urgent", "red_flag")
    html = signed_in.get("/clinic/alerts/live").get_data(as_text=True)
    order = sorted((html.index(f'id="alert-{c}"'), c) for c in (routine, emergency, urgent))
    assert [c for _, c in order] == [emergency, urgent, routine]
    assert "Sam Tester" in html


def test_it_leaves_resolved_alerts_out_of_the_queue(
    signed_in: FlaskClient, rt: Runtime, patient: Patient, clinician: Clinician
) -> None:
    code = make_alert(rt, patient, "urgent", "red_flag")
    assert post(signed_in, f"/clinic/alerts/{code}/resolve", {"note": "called"}).status_code == 302
    html = signed_in.get("/clinic/alerts/live").get_data(as_text=True)
    assert code not in html and "No open alerts." in html


def test_it_acknowledges_an_alert_once_and_audits_it(
    signed_in: FlaskClient, rt: Runtime, patient: Patient, clinician: Clinician
) -> None:
    code = make_alert(rt, patient, "emergency", "suicidality")
    first = post(signed_in, f"/clinic/alerts/{code}/acknowledge", {"back": "queue"})
    assert first.status_code == 302 and first.headers["Location"] == "/clinic/alerts"
    again = post(signed_in, f"/clinic/alerts/{code}/acknowledge")
    assert again.status_code == 302
    with rt.sessions() as db:
        alert = db.scalars(select(Alert).where(Alert.code == code)).one()
    assert alert.state == "acknowledged" and alert.acknowledged_by == clinician.id
    rows = audits(rt, "alert.acknowledge")
    assert [(r.actor_id, r.patient_id, r.target) for r in rows] == [
        (clinician.id, patient.id, code)
    ]
    page = signed_in.get(f"/clinic/alerts/{code}").get_data(as_text=True)
    assert "already acknowledged" in page


def test_it_resolves_with_a_note_and_refuses_an_empty_one(
    signed_in: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    code = make_alert(rt, patient, "urgent", "red_flag")
    assert post(signed_in, f"/clinic/alerts/{code}/resolve", {"note": "  "}).status_code == 400
    resp = post(signed_in, f"/clinic/alerts/{code}/resolve", {"note": "Called, safe at home."})
    assert resp.status_code == 302
    with rt.sessions() as db:
        alert = db.scalars(select(Alert).where(Alert.code == code)).one()
    assert alert.state == "resolved" and alert.note == "Called, safe at home."
    assert [r.target for r in audits(rt, "alert.resolve")] == [code]


def test_it_shows_the_evidence_conversation_and_paging_of_an_alert(
    signed_in: FlaskClient, rt: Runtime, patient: Patient, clinician: Clinician
) -> None:
    with rt.sessions.begin() as db:
        db.add(
            Message(
                patient_id=patient.id, direction="outbound", body="How are you?", status="delivered"
            )
        )
    code = make_alert(rt, patient, "emergency", "suicidality", body="i want to end it")
    with rt.sessions.begin() as db:
        db.add(
            Message(patient_id=patient.id, direction="outbound", body="Call 988 now", status="sent")
        )
        alert = db.scalars(select(Alert).where(Alert.code == code)).one()
        db.add_all(
            [
                AlertDelivery(
                    alert_id=alert.id,
                    clinician_id=clinician.id,
                    channel="sms",
                    to="+15555550170",
                    level=1,
                    status="failed",
                    error="21211 invalid number",
                ),
                AlertDelivery(
                    alert_id=alert.id,
                    clinician_id=clinician.id,
                    channel="email",
                    to=clinician.email,
                    level=1,
                    status="sent",
                ),
            ]
        )
    html = signed_in.get(f"/clinic/alerts/{code}").get_data(as_text=True)
    thread = html[html.index('id="conversation"') : html.index('id="deliveries"')]
    assert (
        thread.index("How are you?") < thread.index("i want to end it") < thread.index("Call 988")
    )
    assert 'class="inbound evidence"' in thread
    paging = html[html.index('id="deliveries"') :]
    assert "failed: 21211 invalid number" in paging and "email" in paging and "primary" in paging
    views = audits(rt, "alert.view")
    assert [(v.actor_id, v.patient_id, v.target) for v in views] == [
        (clinician.id, patient.id, code)
    ]


def test_it_answers_404_for_an_unknown_alert(signed_in: FlaskClient) -> None:
    assert signed_in.get("/clinic/alerts/ZZZZZZ").status_code == 404
    assert post(signed_in, "/clinic/alerts/ZZZZZZ/acknowledge").status_code == 404


def test_it_audits_the_patients_the_queue_shows_once_per_change(
    signed_in: FlaskClient, rt: Runtime, patient: Patient, clinician: Clinician
) -> None:
    first = make_alert(rt, patient, "urgent", "red_flag")
    signed_in.get("/clinic/alerts")
    signed_in.get("/clinic/alerts/live")
    signed_in.get("/clinic/alerts/live")
    assert [(r.patient_id, r.target) for r in audits(rt, "alert.queue.view")] == [
        (patient.id, first)
    ]
    second = make_alert(rt, patient, "emergency", "suicidality")
    signed_in.get("/clinic/alerts/live")
    targets = [str(r.target) for r in audits(rt, "alert.queue.view")]
    assert sorted(targets[1:]) == sorted([first, second])
