"""Paging on real PostgreSQL/SQLite, Redis and a real local SMTP server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from escalation.alerts import acknowledge, raise_alert
from escalation.oncall import add_clinician, set_on_call
from escalation.paging import LOST_PAGE_AFTER, claim_level, escalate_due, page_alert, policy_of
from medfollow.runtime import Runtime
from store.models import Alert, AlertDelivery, Clinician, Message, Patient
from tests.support import free_ports

POLICY = """
version: unit
tiers:
  emergency:
    {page: true, channels: [sms, email], ack_within: 5, backup_after: 1,
     supervisor_after: 60, contact_within: 15}
  urgent:
    {page: true, channels: [sms, email], ack_within: 30, backup_after: 60,
     contact_within: 120}
  prompt: {page: false, channels: [email], ack_within: 600, contact_within: 600}
  routine: {page: false, channels: [email], ack_within: 6000, contact_within: 6000}
"""


class Inbox:
    def __init__(self) -> None:
        self.to: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.to.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    port = free_ports(1)[0]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def paging_rt(rt: Runtime, inbox: tuple[Inbox, int], tmp_path: Path) -> Runtime:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    rt.settings = replace(rt.settings, escalation_policy=str(policy), smtp_port=inbox[1])
    return rt


def rota(rt: Runtime, primary_phone: str | None = "+15555550180") -> None:
    with rt.sessions.begin() as session:
        session.add(Clinician(name="Dr P", email="p@test.invalid", phone=primary_phone))
        session.flush()
        add_clinician(session, "Dr B", "b@test.invalid", "+15555550181")
        set_on_call(session, "p@test.invalid", "b@test.invalid")


def emergency(rt: Runtime, patient: Patient) -> int:
    with rt.sessions.begin() as session:
        raised = raise_alert(
            session,
            policy_of(rt),
            patient_id=patient.id,
            tier="emergency",
            kind="suicidality",
            rules=["R1"],
            summary="Crisis language in a text.",
        )
        return raised.alert_id


def pages(rt: Runtime, phone: str) -> list[Message]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(Message).where(Message.kind == "page", Message.external_phone == phone)
            )
        )


def deliveries(rt: Runtime, alert_id: int) -> list[AlertDelivery]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(AlertDelivery)
                .where(AlertDelivery.alert_id == alert_id)
                .order_by(AlertDelivery.id)
            )
        )


def test_it_pages_the_on_call_clinician_by_sms(paging_rt: Runtime, patient: Patient) -> None:
    rota(paging_rt)
    alert_id = emergency(paging_rt, patient)
    assert page_alert(alert_id) is True
    [page] = pages(paging_rt, "+15555550180")
    assert page.status == "delivered" and "Reply ACK" in page.body
    assert "Sam" not in page.body, "a page carries initials, not the name"
    [delivery] = deliveries(paging_rt, alert_id)
    assert (delivery.channel, delivery.status, delivery.level) == ("sms", "sent", 1)
    with paging_rt.sessions() as session:
        alert = session.get_one(Alert, alert_id)
    assert (alert.state, alert.level) == ("notified", 1)


def test_it_pages_exactly_once_when_two_workers_race(paging_rt: Runtime, patient: Patient) -> None:
    rota(paging_rt)
    alert_id = emergency(paging_rt, patient)
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(page_alert(alert_id))) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True]
    assert len(pages(paging_rt, "+15555550180")) == 1


def test_it_uses_email_and_the_backup_when_the_sms_page_is_refused(
    paging_rt: Runtime, patient: Patient, inbox: tuple[Inbox, int]
) -> None:
    rota(paging_rt, primary_phone="+1555")  # a number no carrier accepts
    alert_id = emergency(paging_rt, patient)
    page_alert(alert_id)
    got = [(d.channel, d.status, d.level) for d in deliveries(paging_rt, alert_id)]
    assert got[:2] == [("sms", "failed", 1), ("email", "sent", 1)]
    assert ("sms", "sent", 2) in got, "the backup is paged at once"
    assert inbox[0].to == ["p@test.invalid"]
    failed = deliveries(paging_rt, alert_id)[0]
    assert failed.error and "21211" in failed.error


def test_it_pages_the_backup_when_nobody_acknowledges_in_time(
    paging_rt: Runtime, patient: Patient
) -> None:
    rota(paging_rt)
    emergency(paging_rt, patient)
    assert escalate_due(paging_rt) == 1  # the primary, at once
    assert escalate_due(paging_rt) == 0
    time.sleep(1.2)  # past backup_after (1 s)
    assert escalate_due(paging_rt) == 1
    assert len(pages(paging_rt, "+15555550181")) == 1


def test_it_does_not_re_escalate_an_acknowledged_alert(
    paging_rt: Runtime, patient: Patient
) -> None:
    rota(paging_rt)
    alert_id = emergency(paging_rt, patient)
    escalate_due(paging_rt)
    with paging_rt.sessions.begin() as session:
        code = session.get_one(Alert, alert_id).code
        primary = session.scalars(
            select(Clinician).where(Clinician.email == "p@test.invalid")
        ).one()
        assert acknowledge(session, code, primary) is True
        assert acknowledge(session, code, primary) is False, "acknowledged once only"
    time.sleep(1.2)
    assert escalate_due(paging_rt) == 0
    assert not pages(paging_rt, "+15555550181")


def test_it_raises_a_failed_page_alert_when_nobody_is_on_call(
    paging_rt: Runtime, patient: Patient
) -> None:
    alert_id = emergency(paging_rt, patient)
    assert page_alert(alert_id) is False
    with paging_rt.sessions() as session:
        kinds = {a.kind: a for a in session.scalars(select(Alert))}
    assert set(kinds) == {"suicidality", "page_failed"}
    assert kinds["page_failed"].tier == "emergency"
    assert deliveries(paging_rt, alert_id)[0].error == "no primary on call"


def test_it_retries_a_transient_failure_and_stores_every_attempt(
    paging_rt: Runtime, patient: Patient, tmp_path: Path
) -> None:
    rota(paging_rt, primary_phone=None)  # email only
    closed = free_ports(1)[0]  # nothing listens: a transient error
    paging_rt.settings = replace(paging_rt.settings, smtp_port=closed)
    alert_id = emergency(paging_rt, patient)
    page_alert(alert_id)
    first = [(d.channel, d.status) for d in deliveries(paging_rt, alert_id) if d.level == 1]
    assert first == [("email", "retrying"), ("email", "retrying"), ("email", "failed")]
    assert any(d.level == 2 and d.status == "sent" for d in deliveries(paging_rt, alert_id)), (
        "then the backup is paged"
    )


def test_it_emails_prompt_and_routine_items_in_a_daily_digest(
    paging_rt: Runtime, patient: Patient, inbox: tuple[Inbox, int]
) -> None:
    from datetime import UTC, datetime

    from escalation.digest import digest_due, send_digest

    rota(paging_rt)
    with paging_rt.sessions.begin() as session:
        raised = raise_alert(
            session,
            policy_of(paging_rt),
            patient_id=patient.id,
            tier="prompt",
            kind="R15",
            rules=["R15"],
            summary="Side effect.",
        )
        assert raised.page is False
    assert escalate_due(paging_rt) == 0, "prompt items are not paged"
    assert send_digest(paging_rt) == 1
    assert inbox[0].to == ["p@test.invalid"]
    morning = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert digest_due(paging_rt, morning) is True
    assert digest_due(paging_rt, morning) is False, "once a day"
    assert digest_due(paging_rt, datetime(2026, 11, 24, 6, 0, tzinfo=UTC)) is False


def test_it_pages_again_a_level_claimed_by_a_worker_that_never_tried(
    paging_rt: Runtime, patient: Patient
) -> None:
    rota(paging_rt)
    alert_id = emergency(paging_rt, patient)
    # A worker claimed level 1, then died (or lost the database) before its first attempt.
    assert claim_level(paging_rt, alert_id, 0, 1)
    assert escalate_due(paging_rt) == 0, "not yet: that worker may still be paging"
    with paging_rt.sessions.begin() as session:
        alert = session.get_one(Alert, alert_id)
        alert.created_at = alert.created_at - LOST_PAGE_AFTER - timedelta(seconds=1)
    assert escalate_due(paging_rt) == 1
    assert [(d.channel, d.status, d.level) for d in deliveries(paging_rt, alert_id)] == [
        ("sms", "sent", 1)
    ]
    escalate_due(paging_rt)  # (the backup's deadline has passed too: it may be paged now)
    level_one = [d for d in deliveries(paging_rt, alert_id) if d.level == 1]
    assert len(level_one) == 1, "the primary is paged again once, not on every sweep"
