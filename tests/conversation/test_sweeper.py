"""The sweeper re-enqueues only work the queue lost, and gives up on sends whose worker
died mid-call after STALE_CLAIM_SECONDS (marked failed, never resent)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Select, select, text, update

from care.mood_checks import mark_asked
from conversation.jobs import queued_key, start_dialogue
from conversation.sweeper import past_confirm_by, sweep, unanswered_since, unsent_since
from medfollow.runtime import Runtime
from messaging.outbound import queue_text
from store.models import Alert, Checkin, Message, MoodCheck, Patient, utcnow
from tests.conftest import signed_post, sms_params


def queued_jobs(rt: Runtime) -> list[str]:
    return [str(job.func_name) for job in rt.queue().jobs]


def test_it_leaves_a_patient_whose_job_still_waits_in_the_queue(
    client: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    resp = signed_post(client, rt.settings, "/twilio/sms", sms_params(patient.phone, "hi"))
    assert resp.status_code == 200
    assert queued_jobs(rt) == ["conversation.jobs.process_patient"]
    assert sweep(rt).patients == 0
    assert queued_jobs(rt) == ["conversation.jobs.process_patient"], "no second job"


def test_it_re_enqueues_a_patient_whose_job_was_lost(
    client: FlaskClient, rt: Runtime, patient: Patient
) -> None:
    signed_post(client, rt.settings, "/twilio/sms", sms_params(patient.phone, "hi"))
    # A worker took the job (which clears the mark) and died before the turn was stored.
    rt.redis.delete(rt.queue().key)
    rt.redis.delete(queued_key(patient.id))
    assert sweep(rt).patients == 1
    assert queued_jobs(rt) == ["conversation.jobs.process_patient"]


def claimed_send(rt: Runtime, patient: Patient, seconds_ago: int) -> int:
    with rt.sessions.begin() as session:
        [row] = queue_text(session, body="Hello", kind="reply", patient_id=patient.id)
        session.flush()
        session.execute(
            update(Message)
            .where(Message.id == row.id)
            .values(status="claimed", updated_at=utcnow() - timedelta(seconds=seconds_ago))
        )
        return row.id


def test_it_marks_a_send_claimed_past_stale_claim_seconds_failed_not_resent(
    rt: Runtime, patient: Patient
) -> None:
    message_id = claimed_send(rt, patient, seconds_ago=60)
    assert sweep(rt).stale == 0, "the default (300 s) leaves a one-minute-old claim alone"
    short = Runtime(dataclasses.replace(rt.settings, stale_claim_seconds=30))
    assert sweep(short).stale == 1
    with rt.sessions() as session:
        msg = session.scalars(select(Message).where(Message.id == message_id)).one()
    assert msg.status == "failed"
    assert msg.error_message and "outcome unknown" in msg.error_message
    assert "conversation.jobs.send_message" not in queued_jobs(rt)


def test_it_raises_an_alert_for_a_crisis_reply_whose_send_outcome_is_unknown(
    rt: Runtime, patient: Patient
) -> None:
    with rt.sessions.begin() as session:
        [row] = queue_text(session, body="Call 988", kind="crisis", patient_id=patient.id)
        session.flush()
        session.execute(
            update(Message)
            .where(Message.id == row.id)
            .values(status="claimed", updated_at=utcnow() - timedelta(seconds=60))
        )
    assert sweep(Runtime(dataclasses.replace(rt.settings, stale_claim_seconds=30))).stale == 1
    with rt.sessions() as session:
        alerts = session.scalars(select(Alert).where(Alert.patient_id == patient.id)).all()
    assert [(a.kind, a.tier) for a in alerts] == [("delivery_failed", "emergency")]


def test_it_starts_again_a_check_in_whose_start_job_died_before_it_was_asked(
    rt: Runtime, patient: Patient
) -> None:
    long_ago = utcnow() - timedelta(seconds=rt.settings.stale_claim_seconds + 5)
    with rt.sessions.begin() as session:
        regimen_id = session.get_one(Patient, patient.id).regimen[0].id
        lost = Checkin(
            patient_id=patient.id,
            regimen_id=regimen_id,
            scheduled_local="2026-11-22T09:00",
            due_at=long_ago,
            status="queued",
            queued_at=long_ago,
        )
        recent = Checkin(
            patient_id=patient.id,
            regimen_id=regimen_id,
            scheduled_local="2026-11-22T20:00",
            due_at=utcnow(),
            status="queued",
            queued_at=utcnow(),
        )
        session.add_all([lost, recent])
        session.flush()
        lost_id = lost.id
    sweep(rt)
    jobs = rt.queue().jobs
    assert [(j.func_name, j.args[2]) for j in jobs] == [
        ("conversation.jobs.start_dialogue", {"checkin_id": str(lost_id)})
    ], "only the check-in started long ago, once"
    sweep(rt)
    assert len(rt.queue().jobs) == 1, "not again on the next sweep"


def plan_of(rt: Runtime, query: Select[Any]) -> str:
    """The database's plan for the query (PostgreSQL told to avoid a sequential scan,
    as it would on a large table; here the table is empty)."""
    with rt.sessions() as session:
        bind = session.get_bind()
        compiled = query.compile(bind, compile_kwargs={"literal_binds": True})
        if bind.dialect.name == "postgresql":
            session.execute(text("SET LOCAL enable_seqscan = off"))
            return "\n".join(session.scalars(text(f"EXPLAIN {compiled}")))
        rows = session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        return "\n".join(str(row[-1]) for row in rows)


def test_its_every_second_look_for_unconfirmed_texts_reads_only_the_partial_index(
    rt: Runtime,
) -> None:
    """Texts past their delivery deadline are found in the index of texts still waiting
    for a report (confirm_by IS NOT NULL), never by reading the message history."""
    plan = plan_of(rt, past_confirm_by(utcnow()))
    assert "ix_message_confirm_by" in plan, plan


def test_its_every_second_look_for_stuck_texts_reads_only_the_texts_in_flight(
    rt: Runtime,
) -> None:
    """Unanswered inbound texts and unsent outbound ones are found in the partial index
    of texts in flight: the message history (millions of rows) is never scanned."""
    for query in (unanswered_since(utcnow()), unsent_since(utcnow())):
        plan = plan_of(rt, query)
        assert "ix_message_in_flight" in plan, plan


def mood_check(
    rt: Runtime, patient: Patient, period: str, queued: datetime, closes: datetime
) -> int:
    with rt.sessions.begin() as session:
        row = MoodCheck(
            patient_id=patient.id,
            period=period,
            due_at=queued,
            closes_at=closes,
            status="queued",
            queued_at=queued,
        )
        session.add(row)
        session.flush()
        return row.id


def test_it_starts_again_a_mood_check_whose_start_job_died_before_it_was_asked(
    rt: Runtime, patient: Patient
) -> None:
    now = utcnow()
    long_ago = now - timedelta(seconds=rt.settings.stale_claim_seconds + 5)
    lost = mood_check(rt, patient, "2026-11-30", long_ago, now + timedelta(days=3))
    mood_check(rt, patient, "2026-12-07", now, now + timedelta(days=7))  # just started
    mood_check(rt, patient, "2026-11-23", long_ago, now - timedelta(minutes=1))  # closed
    sweep(rt, now)
    jobs = rt.queue().jobs
    assert [(j.func_name, j.args[1:]) for j in jobs] == [
        (
            "conversation.jobs.start_dialogue",
            ("EXTERNAL_mood_check", {"mood_check_id": str(lost)}),
        )
    ], "only the open questionnaire started long ago, once"
    sweep(rt, now + timedelta(seconds=1))
    assert len(rt.queue().jobs) == 1, "not again on the next sweep"


def test_it_does_not_ask_a_mood_check_again_that_another_start_asked(
    rt: Runtime, patient: Patient
) -> None:
    """Two starts of one questionnaire (the sweeper's and a slow first one): the second
    finds it sent and returns without calling Rasa (nothing listens at RASA_URL here)."""
    now = utcnow()
    row_id = mood_check(rt, patient, "2026-11-30", now, now + timedelta(days=3))
    with rt.sessions.begin() as session:
        mark_asked(session, patient.id, now)
    assert start_dialogue(patient.id, "EXTERNAL_mood_check", {"mood_check_id": str(row_id)}) == 0
    with rt.sessions() as session:
        assert session.get_one(MoodCheck, row_id).status == "sent"


def test_it_skips_a_mood_check_whose_patient_was_paused_before_it_started(
    rt: Runtime, patient: Patient
) -> None:
    now = utcnow()
    row_id = mood_check(rt, patient, "2026-11-30", now, now + timedelta(days=3))
    with rt.sessions.begin() as session:
        session.get_one(Patient, patient.id).status = "paused"
    assert start_dialogue(patient.id, "EXTERNAL_mood_check", {"mood_check_id": str(row_id)}) == 0
    with rt.sessions() as session:
        assert session.get_one(MoodCheck, row_id).status == "skipped"
