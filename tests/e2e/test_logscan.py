"""The log scan itself (tests/e2e/logscan.py) finds what it must, on a real database."""

from __future__ import annotations

import logging

from medfollow.runtime import Runtime
from messaging.outbound import queue_text
from store.models import Patient
from tests.e2e.logscan import RecordList, leaks

BODY = "my new meds keep giving me headaches"


def write_log(rt: Runtime, name: str, *lines: str) -> None:
    logs = rt.settings.var_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / name).write_text("\n".join(lines) + "\n")


def test_it_finds_a_phone_a_body_and_a_secret_in_any_log_file(
    rt: Runtime, patient: Patient
) -> None:
    with rt.sessions.begin() as session:
        queue_text(session, body=BODY, kind="reply", patient_id=patient.id)
    write_log(rt, "worker-1.log", "INFO job 12 done", f"DEBUG text {BODY!r}")
    write_log(rt, "rasa.log", f"DEBUG sender {patient.phone}")
    write_log(rt, "web.log", f"token={rt.settings.twilio_auth_token.reveal()}")
    write_log(rt, "prism.log", f"POST Body={BODY}")  # the Twilio stand-in: not searched
    records = RecordList()
    records.emit(logging.makeLogRecord({"msg": "national %s", "args": ("(555) 555-0142",)}))
    records.emit(logging.makeLogRecord({"msg": "from 5555550142"}))
    found = {(leak.where, leak.line, leak.what.split(" #")[0]) for leak in leaks(rt, records)}
    assert found == {
        ("worker-1.log", 2, "message body"),
        ("rasa.log", 1, "phone"),
        ("web.log", 1, "secret TWILIO_AUTH_TOKEN"),
        ("test process", 1, "phone"),
        ("test process", 2, "phone"),
    }


def test_it_finds_nothing_in_logs_that_carry_only_ids(rt: Runtime, patient: Patient) -> None:
    with rt.sessions.begin() as session:
        queue_text(session, body=BODY, kind="reply", patient_id=patient.id)
    write_log(rt, "worker-1.log", f"INFO patient {patient.id} turn done", "INFO message 7 sent")
    assert leaks(rt, RecordList()) == []
