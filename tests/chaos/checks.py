"""What must hold after every fault, as pure functions over the stored rows (and what the
fault proxy saw go to Twilio), so each rule can be tested on its own.

- every inbound text processed exactly once and answered, in order per patient (by the
  database and by the order the replies reached Twilio);
- every due check-in sent exactly once;
- every alert on a paging tier delivered, or its failure raised as an alert;
- every outbound text in a final state. The one allowed loss: a send whose worker died
  mid-call is `failed` with "outcome unknown" (Twilio sends are not idempotent).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

SENT = frozenset({"queued", "accepted", "scheduled", "sending", "sent", "delivered"})
UNKNOWN = "outcome unknown"
PAGING_TIERS = frozenset({"emergency", "urgent"})


@dataclass(frozen=True)
class Msg:
    id: int
    patient_id: int | None
    direction: str
    kind: str
    status: str
    body: str
    in_reply_to_id: int | None
    provider_sid: str | None
    processed_at: datetime | None
    error_message: str | None


@dataclass(frozen=True)
class Due:
    id: int
    patient_id: int
    status: str


@dataclass(frozen=True)
class AlertRow:
    id: int
    code: str
    tier: str
    kind: str
    summary: str
    delivered: bool  # a delivery with status `sent` exists


@dataclass
class Report:
    inbound: int = 0
    replies: int = 0
    checkins_due: int = 0
    checkin_texts: int = 0
    alerts: int = 0
    alerts_delivered: int = 0
    alerts_failure_raised: int = 0
    sent: int = 0
    unknown_outcome: int = 0
    forwarded: int = 0
    forwarded_unrecorded: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"inbound={self.inbound} replies={self.replies} checkins_due={self.checkins_due} "
            f"checkin_texts={self.checkin_texts} alerts={self.alerts} "
            f"(delivered={self.alerts_delivered}, failure_alerted={self.alerts_failure_raised}) "
            f"outbound_sent={self.sent} unknown_outcome={self.unknown_outcome} "
            f"twilio_sends={self.forwarded} twilio_sends_not_recorded={self.forwarded_unrecorded}"
        )


def check_outbound(msgs: list[Msg], report: Report) -> None:
    for m in msgs:
        if m.direction != "outbound":
            continue
        if m.status in SENT and m.provider_sid:
            report.sent += 1
        elif m.status == "failed" and UNKNOWN in (m.error_message or ""):
            report.unknown_outcome += 1
        elif m.status not in ("suppressed", "failed"):
            report.problems.append(f"outbound {m.id} ({m.kind}) left {m.status}")
        elif m.status == "failed" and m.kind != "page":
            report.problems.append(f"outbound {m.id} ({m.kind}) failed: {m.error_message}")


def check_answers(msgs: list[Msg], report: Report) -> None:
    """Every inbound text processed once with at least one reply, no turn's replies
    stored twice, and per patient: processed in arrival order, replies in that order."""
    replies: dict[int, list[Msg]] = defaultdict(list)
    for m in msgs:
        if m.direction == "outbound" and m.kind == "reply" and m.in_reply_to_id is not None:
            replies[m.in_reply_to_id].append(m)
    by_patient: dict[int, list[Msg]] = defaultdict(list)
    for m in msgs:
        if m.patient_id is not None:
            by_patient[m.patient_id].append(m)
    for patient_id, thread in by_patient.items():
        thread.sort(key=lambda m: m.id)
        inbound = [m for m in thread if m.direction == "inbound" and m.kind == "message"]
        report.inbound += len(inbound)
        for m in inbound:
            if m.status != "processed" or m.processed_at is None:
                report.problems.append(f"inbound {m.id} of patient {patient_id} is {m.status}")
                continue
            answers = replies.get(m.id, [])
            report.replies += len(answers)
            if not answers:
                report.problems.append(f"inbound {m.id} of patient {patient_id} has no reply")
            bodies = [a.body for a in answers]
            if len(bodies) != len(set(bodies)):
                report.problems.append(f"inbound {m.id} was answered twice: {len(bodies)} replies")
        done = [m.processed_at for m in inbound if m.processed_at is not None]
        if done != sorted(done):
            report.problems.append(f"patient {patient_id}: texts processed out of arrival order")
        order = [m.in_reply_to_id for m in thread if m.kind == "reply" and m.in_reply_to_id]
        if order != sorted(order):
            report.problems.append(f"patient {patient_id}: replies stored out of order")


def check_twilio_order(msgs: list[Msg], forwarded_sids: list[str], report: Report) -> None:
    """What the fault proxy handed to Twilio: each send is one stored row (or one of
    the documented unknown outcomes), and each patient's replies went in order."""
    by_sid = {m.provider_sid: m for m in msgs if m.provider_sid}
    report.forwarded = len(forwarded_sids)
    seen: dict[int, list[int]] = defaultdict(list)
    for sid in forwarded_sids:
        m = by_sid.get(sid)
        if m is None:
            report.forwarded_unrecorded += 1
            continue
        if m.kind == "reply" and m.patient_id is not None and m.in_reply_to_id is not None:
            seen[m.patient_id].append(m.in_reply_to_id)
    if report.forwarded_unrecorded > report.unknown_outcome:
        report.problems.append(
            f"{report.forwarded_unrecorded} sends reached Twilio without a stored sid, but "
            f"only {report.unknown_outcome} sends are marked outcome unknown"
        )
    for patient_id, order in seen.items():
        if order != sorted(order):
            report.problems.append(f"patient {patient_id}: replies reached Twilio out of order")


def check_checkins(due: list[Due], msgs: list[Msg], report: Report) -> None:
    """Each due check-in started once and its text sent once (one per patient here)."""
    texts: dict[int, int] = defaultdict(int)
    unknown: dict[int, int] = defaultdict(int)
    for m in msgs:
        if m.direction == "outbound" and m.kind == "checkin" and m.patient_id is not None:
            if m.status in SENT:
                texts[m.patient_id] += 1
            elif UNKNOWN in (m.error_message or ""):
                unknown[m.patient_id] += 1
    report.checkins_due += len(due)
    per_patient: dict[int, int] = defaultdict(int)
    for c in due:
        per_patient[c.patient_id] += 1
        if c.status in ("due", "queued", "skipped"):
            report.problems.append(f"check-in {c.id} of patient {c.patient_id} is {c.status}")
    for patient_id, count in per_patient.items():
        sent = texts.get(patient_id, 0)
        report.checkin_texts += sent
        if sent + unknown.get(patient_id, 0) != count:
            states = sorted(c.status for c in due if c.patient_id == patient_id)
            outbound = sorted(
                f"{m.kind}:{m.status}"
                for m in msgs
                if m.patient_id == patient_id and m.direction == "outbound"
            )
            report.problems.append(
                f"patient {patient_id}: {count} check-in(s) due, {sent} text(s) sent "
                f"(check-ins {states}, texts {outbound})"
            )


def check_alerts(alerts: list[AlertRow], report: Report) -> None:
    failed_codes = {
        code for a in alerts if a.kind == "page_failed" for code in a.summary.split() if code
    }
    for a in alerts:
        if a.tier not in PAGING_TIERS:
            continue
        report.alerts += 1
        if a.delivered:
            report.alerts_delivered += 1
        elif a.code in failed_codes or f"{a.code}." in failed_codes:
            report.alerts_failure_raised += 1
        elif a.kind != "page_failed":
            report.problems.append(f"alert {a.code} ({a.tier}) neither paged nor failure-alerted")


def check_crisis_replies(msgs: list[Msg], alerts: list[AlertRow], report: Report) -> None:
    """A crisis text gets the crisis reply sent, or a delivery_failed alert."""
    crisis_sent = {m.in_reply_to_id for m in msgs if m.kind == "crisis" and m.status in SENT}
    crises = [m for m in msgs if m.direction == "inbound" and m.body == CRISIS_BODY]
    undelivered = sum(1 for a in alerts if a.kind == "delivery_failed")
    missing = [m.id for m in crises if m.id not in crisis_sent]
    if len(missing) > undelivered:
        report.problems.append(f"crisis texts without a crisis reply or an alert: {missing}")


CRISIS_BODY = "i want to die"


def evaluate(
    msgs: list[Msg], due: list[Due], alerts: list[AlertRow], forwarded_sids: list[str]
) -> Report:
    report = Report()
    check_outbound(msgs, report)
    check_answers(msgs, report)
    check_twilio_order(msgs, forwarded_sids, report)
    check_checkins(due, msgs, report)
    check_alerts(alerts, report)
    check_crisis_replies(msgs, alerts, report)
    return report
