"""The audit log over the API: audit scope only; filters by patient and actor."""

from __future__ import annotations

from flask.testing import FlaskClient

from medfollow.runtime import Runtime
from store.audit import record
from store.models import Patient
from tests.api.conftest import Api, MakeToken


def test_it_lists_audit_events_by_patient(
    rt: Runtime, client: FlaskClient, make_token: MakeToken, patient: Patient
) -> None:
    with rt.sessions.begin() as session:
        record(
            session,
            actor_kind="clinician",
            actor_id=1,
            actor_name="Dr Lee",
            action="patient.view",
            patient_id=patient.id,
        )
    reader = Api(client, make_token("read"))
    reader.get(f"/patients/{patient.id}")
    auditor = Api(client, make_token("audit", name="auditor"))
    body = auditor.get(f"/audit-events?patient_id={patient.id}").json
    assert body is not None
    assert [(e["actor_kind"], e["action"]) for e in body["data"]] == [
        ("clinician", "patient.view"),
        ("token", "api.patient.view"),
    ]
    only_tokens = auditor.get("/audit-events?actor_kind=token").json
    assert only_tokens is not None
    assert {e["actor_name"] for e in only_tokens["data"]} == {"test-client", "auditor"}
