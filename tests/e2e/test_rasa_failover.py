"""Two Rasa servers sharing the SQL tracker store: each conversation on its own server,
and when that server is killed the conversation goes on, mid-form, on the other."""

from __future__ import annotations

from sqlalchemy import select

from conversation.rasa_client import down_key
from medfollow.runtime import Runtime
from medfollow.stack import Stack
from store.models import Patient, SideEffectReport
from tests.e2e.helpers import enrol_patient, wait_for
from tests.e2e.test_dialogues import last_reply, say

Stacked = tuple[Stack, Runtime]


def patients_on(rt: Runtime, url: str, count: int, first_phone: int) -> list[Patient]:
    """Enrol patients until `count` of them live on the Rasa server at `url`."""
    found: list[Patient] = []
    for n in range(first_phone, first_phone + 40):
        patient = enrol_patient(rt, f"+1555555{n:04d}", "Ash Example")
        if rt.rasa.ring.node_for(patient.pseudonym) == url:
            found.append(patient)
            if len(found) == count:
                return found
    raise AssertionError("the ring put no patient on that server")


def test_it_carries_conversations_over_to_the_other_server_when_one_is_killed(
    scaled_stack: Stacked,
) -> None:
    stack, rt = scaled_stack
    doomed, survivor = rt.settings.rasa_urls
    [moving] = patients_on(rt, doomed, 1, 700)
    [staying] = patients_on(rt, survivor, 1, 750)
    say(rt, staying, "hi", "hi")
    replies = say(rt, moving, "my new meds keep giving me headaches", "")
    assert "which side effect" in last_reply(replies) or "how often" in last_reply(replies)

    stack.stop_one("rasa-1")
    try:
        answers = {"which side effect": "headaches", "how often": "4", "how bad": "three"}
        answers["get in the way"] = "5"
        for _ in range(6):  # the form goes on where it was, on the other server
            if "thank you" in last_reply(replies):
                break
            key = next(k for k in answers if k in last_reply(replies))
            replies = say(rt, moving, answers.pop(key), "", timeout=60)
        logs = [p.read_text() for p in (rt.settings.var_dir / "logs").glob("worker-*.log")]
        assert any(f"Rasa server {doomed} is down" in log for log in logs)
        say(rt, staying, "thanks", "")
    finally:
        stack.start_one("rasa-1")
        rt.redis.delete(down_key(doomed))
    with rt.sessions() as session:
        report = session.scalars(
            select(SideEffectReport).where(SideEffectReport.patient_id == moving.id)
        ).one()
    assert (report.frequency, report.intensity, report.burden) == (4, 3, 5)
    wait_for(lambda: stack.health().get("status") == "ready", 180, "rasa-1 back up")
    say(rt, moving, "hi", "hi")  # home again once its server is back
