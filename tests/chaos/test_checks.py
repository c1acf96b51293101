"""The chaos checks themselves: each rule finds the fault it is meant to find."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.chaos.checks import (
    UNKNOWN,
    AlertRow,
    Due,
    Msg,
    Report,
    check_alerts,
    check_answers,
    check_checkins,
    check_outbound,
    check_twilio_order,
)

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def inbound(id: int, patient: int = 1, status: str = "processed") -> Msg:  # noqa: A002
    at = T0 + timedelta(seconds=id) if status == "processed" else None
    return Msg(id, patient, "inbound", "message", status, "hi", None, None, at, None)


def reply(
    id: int,  # noqa: A002
    to: int,
    patient: int = 1,
    body: str = "Hi!",
    status: str = "queued",
    error: str | None = None,
) -> Msg:
    sid = f"SM{id}" if status == "queued" else None
    return Msg(id, patient, "outbound", "reply", status, body, to, sid, None, error)


def test_it_passes_a_thread_answered_once_in_order() -> None:
    report = Report()
    msgs = [inbound(1), reply(2, 1), inbound(3), reply(4, 3)]
    check_answers(msgs, report)
    check_outbound(msgs, report)
    check_twilio_order(msgs, ["SM2", "SM4"], report)
    assert report.problems == []
    assert (report.inbound, report.replies, report.sent, report.forwarded) == (2, 2, 2, 2)


def test_it_finds_a_text_never_processed_or_never_answered() -> None:
    report = Report()
    check_answers([inbound(1, status="received"), inbound(2)], report)
    assert report.problems == [
        "inbound 1 of patient 1 is received",
        "inbound 2 of patient 1 has no reply",
    ]


def test_it_finds_a_turn_answered_twice() -> None:
    report = Report()
    check_answers([inbound(1), reply(2, 1), reply(3, 1)], report)
    assert report.problems == ["inbound 1 was answered twice: 2 replies"]


def test_it_finds_replies_out_of_order_in_the_database_and_at_twilio() -> None:
    report = Report()
    msgs = [inbound(1), inbound(2), reply(3, 2), reply(4, 1)]
    check_answers(msgs, report)
    check_twilio_order(msgs, ["SM3", "SM4"], report)
    assert "patient 1: replies stored out of order" in report.problems
    assert "patient 1: replies reached Twilio out of order" in report.problems


def test_it_allows_an_unrecorded_send_only_as_a_documented_unknown_outcome() -> None:
    lost = reply(2, 1, status="failed", error=f"send {UNKNOWN}: worker stopped mid-send")
    report = Report()
    check_outbound([inbound(1), lost], report)
    check_twilio_order([inbound(1), lost], ["SMx"], report)
    assert report.problems == [] and report.unknown_outcome == 1

    report = Report()
    check_twilio_order([inbound(1), reply(2, 1)], ["SM2", "SMx"], report)
    assert report.forwarded_unrecorded == 1
    assert report.problems and "without a stored sid" in report.problems[0]


def test_it_finds_a_send_left_pending_or_failed() -> None:
    report = Report()
    check_outbound([reply(1, 0, status="pending"), reply(2, 0, status="failed", error="x")], report)
    assert report.problems == [
        "outbound 1 (reply) left pending",
        "outbound 2 (reply) failed: x",
    ]


def checkin_text(id: int, patient: int) -> Msg:  # noqa: A002
    return Msg(id, patient, "outbound", "checkin", "queued", "did you", None, f"SM{id}", None, None)


def test_it_finds_a_check_in_not_sent_or_sent_twice() -> None:
    report = Report()
    due = [Due(1, 1, "sent"), Due(2, 2, "queued"), Due(3, 3, "sent")]
    check_checkins(due, [checkin_text(10, 1), checkin_text(11, 3), checkin_text(12, 3)], report)
    assert report.problems == [
        "check-in 2 of patient 2 is queued",
        "patient 2: 1 check-in(s) due, 0 text(s) sent (check-ins ['queued'], texts [])",
        "patient 3: 1 check-in(s) due, 2 text(s) sent "
        "(check-ins ['sent'], texts ['checkin:queued', 'checkin:queued'])",
    ]


def test_it_accepts_an_alert_paged_or_its_failure_alerted_and_finds_one_neither() -> None:
    alerts = [
        AlertRow(1, "A1", "emergency", "crisis", "", True),
        AlertRow(2, "A2", "urgent", "general", "", False),
        AlertRow(3, "A3", "urgent", "page_failed", "Paging the primary for alert A2 failed.", True),
        AlertRow(4, "A4", "emergency", "crisis", "", False),
        AlertRow(5, "A5", "prompt", "general", "", False),
    ]
    report = Report()
    check_alerts(alerts, report)
    assert (report.alerts, report.alerts_delivered, report.alerts_failure_raised) == (4, 2, 1)
    assert report.problems == ["alert A4 (emergency) neither paged nor failure-alerted"]
