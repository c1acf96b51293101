"""Alerts over the API: the queue, acknowledge and resolve by compare-and-set."""

from __future__ import annotations

from medfollow.runtime import Runtime
from store.models import Patient
from tests.api.conftest import Api, make_alert, make_clinician


def test_it_lists_alerts_by_state_and_tier(rt: Runtime, api: Api, patient: Patient) -> None:
    code = make_alert(rt, patient, tier="urgent")
    listed = api.get("/alerts?state=open&tier=urgent").json
    assert listed is not None and [a["code"] for a in listed["data"]] == [code]
    assert listed["data"][0]["patient_id"] == patient.id
    none = api.get("/alerts?tier=emergency").json
    assert none is not None and none["data"] == []
    assert api.get("/alerts?tier=severe").status_code == 400


def test_it_acknowledges_once_then_resolves(rt: Runtime, api: Api, patient: Patient) -> None:
    code = make_alert(rt, patient)
    email = make_clinician(rt)
    acked = api.post(f"/alerts/{code.lower()}/acknowledge", {"clinician_email": email})
    assert acked.status_code == 200 and acked.json is not None
    assert acked.json["state"] == "acknowledged" and acked.json["acknowledged_by"]
    again = api.post(f"/alerts/{code}/acknowledge", {"clinician_email": email})
    assert again.status_code == 409
    assert again.json is not None and again.json["code"] == "alert_state"
    resolved = api.post(f"/alerts/{code}/resolve", {"clinician_email": email, "note": "Called"})
    assert resolved.json is not None
    assert (resolved.json["state"], resolved.json["note"]) == ("resolved", "Called")
    assert (
        api.post(f"/alerts/{code}/resolve", {"clinician_email": email, "note": "x"}).status_code
        == 409
    )
    shown = api.get(f"/alerts/{code}").json
    assert shown is not None and shown["state"] == "resolved"


def test_it_answers_404_for_an_unknown_alert_or_clinician(
    rt: Runtime, api: Api, patient: Patient
) -> None:
    code = make_alert(rt, patient)
    assert api.get("/alerts/ZZZZZZ").status_code == 404
    response = api.post(f"/alerts/{code}/acknowledge", {"clinician_email": "nobody@x.example"})
    assert response.status_code == 404
    assert response.json is not None and response.json["code"] == "clinician_not_found"
    assert api.get(f"/alerts/{code}").json["state"] == "open"  # type: ignore[index]


def test_it_refuses_control_characters_before_they_reach_the_database(
    rt: Runtime, api: Api, patient: Patient
) -> None:
    code = make_alert(rt, patient)
    assert api.get("/alerts/AB%00CD").status_code == 404
    response = api.post(f"/alerts/{code}/acknowledge", {"clinician_email": "a\u0000@b.example"})
    assert response.status_code == 400
    assert response.json is not None and response.json["code"] == "invalid_body"
