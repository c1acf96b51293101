"""The pieces of the benchmarks that decide a figure: which reply answers which text, when
a step of the webhook's rate search counts as held, and who sends the next text."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from bench.turns import Cohort, kind_of, outcome
from bench.webhook_ack import Summary, held, render_search
from medfollow.runtime import Runtime
from store.models import Message
from tests.conftest import make_patient, new_sid

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _inbound(rt: Runtime, patient_id: int, sid: str, status: str, at: datetime) -> int:
    with rt.sessions.begin() as session:
        msg = Message(
            patient_id=patient_id,
            direction="inbound",
            provider_sid=sid,
            body="hi",
            status=status,
            created_at=at,
            updated_at=at,
        )
        session.add(msg)
        session.flush()
        return msg.id


def _reply(rt: Runtime, patient_id: int, to: int, status: str, at: datetime) -> None:
    with rt.sessions.begin() as session:
        session.add(
            Message(
                patient_id=patient_id,
                direction="outbound",
                body="Hello",
                status=status,
                kind="reply",
                in_reply_to_id=to,
                created_at=at,
                updated_at=at,
            )
        )


def test_it_pairs_each_text_with_its_first_reply_sent_and_counts_the_rest(rt: Runtime) -> None:
    pid = make_patient(rt).id
    sids = [new_sid() for _ in range(4)]
    answered = _inbound(rt, pid, sids[0], "processed", T0)
    _reply(rt, pid, answered, "sent", T0 + timedelta(seconds=3))
    _reply(rt, pid, answered, "sent", T0 + timedelta(seconds=2))
    _inbound(rt, pid, sids[1], "processed", T0)  # the dialogue had nothing to say
    waiting = _inbound(rt, pid, sids[2], "processed", T0)
    _reply(rt, pid, waiting, "pending", T0)
    _inbound(rt, pid, sids[3], "received", T0)  # not yet taken by a worker

    pairs, no_reply, still = outcome(rt, sids)

    assert [(b - a).total_seconds() for a, b in pairs] == [2.0]
    assert no_reply == 1
    assert still == 2


def _summary(rate: float, p99: float, answered: int, achieved: float, non_200: int = 0) -> Summary:
    return Summary(
        rate=rate,
        scheduled=100,
        sent=100,
        answered=answered,
        achieved=achieved,
        p50=p99 / 2,
        p90=p99,
        p99=p99,
        max=p99,
        non_200=non_200,
        statuses={200: answered - non_200},
        errors={} if answered == 100 else {"no answer in time": 100 - answered},
        retried=0,
        max_lag_ms=0.0,
        generator_cpu=0.0,
        server_cpu=0.0,
        postgres_cpu=0.0,
        machine_cpu=0.0,
        windows=[],
    )


def test_it_holds_a_step_only_with_p99_under_the_limit_every_answer_and_the_pace() -> None:
    assert held(_summary(100, 99.0, 100, 100.0), 100.0)
    assert not held(_summary(100, 100.0, 100, 100.0), 100.0)
    assert not held(_summary(100, 20.0, 99, 100.0), 100.0)
    assert not held(_summary(100, 20.0, 100, 100.0, non_200=1), 100.0)
    assert not held(_summary(100, 20.0, 100, 90.0), 100.0)


def test_it_reports_the_highest_step_held_before_the_first_failure() -> None:
    steps = [_summary(100, 10.0, 100, 100.0), _summary(200, 30.0, 100, 200.0)]
    steps.append(_summary(300, 150.0, 100, 300.0))
    text = "\n".join(render_search(steps, 60.0, 100.0))
    assert "**200 requests/s**" in text
    assert "between the highest step held and the next one" in text
    none = "\n".join(render_search([_summary(100, math.inf, 100, 100.0)], 60.0, 100.0))
    assert "**none of the steps**" in none


def test_it_hands_out_new_senders_before_reusing_any() -> None:
    cohort = Cohort(size=3)
    assert cohort.phones(2) == ["+15550000000", "+15550000001"]
    assert cohort.phones(2) == ["+15550000002", "+15550000000"]


def test_it_groups_numbered_processes_by_type() -> None:
    assert [kind_of(n) for n in ("worker-3", "rasa-2", "web", "actions")] == [
        "worker",
        "rasa",
        "web",
        "actions",
    ]
