"""Paging: reach the on-call clinician for an alert, and re-escalate when nobody answers.

`page_alert` runs as an RQ job (the webhook enqueues it for a crisis at once; the
scheduler's sweep picks up every other alert within a second or two). `escalate_due`
runs in the scheduler: an unacknowledged alert past its backup deadline pages the
backup, then the supervisor.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy import select, update

from escalation.alerts import patient_ref, raise_alert
from escalation.notifiers.base import Notifier, NotifyError, Page
from escalation.notifiers.registry import make_notifier
from escalation.notifiers.sms import SmsNotifier
from escalation.oncall import OnCall, current
from escalation.overrides import clinic_policy
from escalation.policy import Policy, TierPolicy, load_policy
from medfollow import runtime
from medfollow.runtime import Runtime
from store.models import Alert, AlertDelivery, Clinician, Patient, utcnow

log = logging.getLogger(__name__)
LEVELS = {1: "primary", 2: "backup", 3: "supervisor"}


def policy_of(rt: Runtime) -> Policy:
    return load_policy(rt.settings.escalation_policy)


def notifier(rt: Runtime, channel: str) -> Notifier:
    return SmsNotifier(rt) if channel == "sms" else make_notifier(channel, rt.settings)


def address(clinician: Clinician, channel: str, rt: Runtime) -> str | None:
    if channel == "sms":
        return clinician.phone
    if channel == "email":
        return clinician.email
    return rt.settings.pager_webhook_url or None


def claim_level(rt: Runtime, alert_id: int, from_level: int, to_level: int) -> bool:
    """Compare-and-set the escalation level: only one worker pages each level."""
    with rt.sessions.begin() as session:
        result = session.execute(
            update(Alert)
            .where(
                Alert.id == alert_id,
                Alert.level == from_level,
                Alert.state.in_(("open", "notified")),
            )
            .values(level=to_level)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def page_alert(alert_id: int, level: int = 1) -> bool:
    """Page the clinician at `level` for an alert (once); True if someone was reached."""
    rt = runtime.current()
    if not claim_level(rt, alert_id, level - 1, level):
        return False
    return _page(rt, alert_id, level)


def _page(rt: Runtime, alert_id: int, level: int) -> bool:
    """Try each channel of the tier in order; a failure moves to the next channel, and
    when every channel fails the next level is paged at once. Every attempt is stored."""
    policy = policy_of(rt)
    with rt.sessions() as session:
        alert = session.get_one(Alert, alert_id)
        oncall = current(session)
        patient = session.get(Patient, alert.patient_id) if alert.patient_id else None
        page = Page(
            alert.code,
            alert.tier,
            alert.summary,
            # A system alert (kind "system:...", e.g. the scheduler's heartbeat) has no patient.
            "none (system alert)" if alert.kind.startswith("system:") else patient_ref(patient),
            alert.due_at or utcnow(),
            f"Reply ACK {alert.code}",
        )
        tier = policy.tier(alert.tier)
    who = oncall.at_level(level) if oncall else None
    if who is None:
        return _nobody(rt, alert_id, level, oncall)
    refused = False
    for channel in tier.channels:
        to = address(who, channel, rt)
        if not to:
            continue
        provider_id, permanent = _attempts(rt, alert_id, who.id, channel, to, level, page)
        refused = refused or permanent
        if provider_id is None:
            continue
        with rt.sessions.begin() as session:
            session.execute(
                update(Alert)
                .where(Alert.id == alert_id, Alert.state == "open")
                .values(state="notified", notified_at=utcnow())
            )
        if refused and page.tier == "emergency":
            # The clinician's first channel refused the page: their reachability is in
            # doubt, so the backup is paged now too rather than at the deadline.
            _next_level(rt, alert_id, level)
        return True
    _page_failed(rt, alert_id, level)
    return _next_level(rt, alert_id, level)


TRANSIENT_RETRIES = 2
RETRY_PAUSE = 1.0


def _attempts(
    rt: Runtime, alert_id: int, clinician_id: int, channel: str, to: str, level: int, page: Page
) -> tuple[str | None, bool]:
    """Send on one channel, retrying transient errors twice (a second apart); every
    attempt is stored. Returns (provider id or None, whether the failure was permanent)."""
    for attempt in range(TRANSIENT_RETRIES + 1):
        try:
            provider_id = notifier(rt, channel).notify(page, to)
        except NotifyError as exc:
            last = attempt == TRANSIENT_RETRIES or exc.permanent
            status = "failed" if last else "retrying"
            _record(rt, alert_id, clinician_id, channel, to, level, status, error=str(exc))
            log.warning(
                "page of alert %s by %s: %s (permanent=%s)",
                alert_id,
                channel,
                status,
                exc.permanent,
            )
            if last:
                return None, exc.permanent
            time.sleep(RETRY_PAUSE)
            continue
        _record(rt, alert_id, clinician_id, channel, to, level, "sent", provider_id=provider_id)
        return provider_id, False
    return None, False


def _nobody(rt: Runtime, alert_id: int, level: int, oncall: OnCall | None) -> bool:
    log.warning("alert %s: no %s on call", alert_id, LEVELS.get(level, "clinician"))
    _record(
        rt,
        alert_id,
        None,
        "none",
        "-",
        level,
        "failed",
        error=f"no {LEVELS.get(level, 'clinician')} on call",
    )
    if oncall is None or level >= 3:
        _page_failed(rt, alert_id, level)
        return False
    return _next_level(rt, alert_id, level)


def _next_level(rt: Runtime, alert_id: int, level: int) -> bool:
    if level >= 3 or not claim_level(rt, alert_id, level, level + 1):
        return False
    return _page(rt, alert_id, level + 1)


def _page_failed(rt: Runtime, alert_id: int, level: int) -> None:
    """A page that reached nobody is itself an alert (unless it is one already)."""
    with rt.sessions.begin() as session:
        alert = session.get_one(Alert, alert_id)
        if alert.kind == "page_failed" or alert.tier not in ("emergency", "urgent"):
            return
        raise_alert(
            session,
            policy_of(rt),
            patient_id=alert.patient_id,
            tier=alert.tier,
            kind="page_failed",
            rules=["R20"],
            modify=False,  # R20: the tier of the alert nobody could be paged about
            summary=f"Paging the {LEVELS.get(level, 'clinician')} for alert {alert.code} failed.",
        )


def _record(
    rt: Runtime,
    alert_id: int,
    clinician_id: int | None,
    channel: str,
    to: str,
    level: int,
    status: str,
    *,
    error: str | None = None,
    provider_id: str | None = None,
) -> None:
    with rt.sessions.begin() as session:
        session.add(
            AlertDelivery(
                alert_id=alert_id,
                clinician_id=clinician_id,
                channel=channel,
                to=to,
                level=level,
                status=status,
                error=error,
                provider_id=provider_id,
            )
        )


def escalate_due(rt: Runtime) -> int:
    """Page what is due: new alerts nobody paged yet, and the next level for alerts not
    acknowledged in time. Returns how many pages were attempted."""
    policy = policy_of(rt)
    now = utcnow()
    with rt.sessions() as session:
        alerts = session.scalars(select(Alert).where(Alert.state.in_(("open", "notified")))).all()
        attempted = set(
            session.execute(select(AlertDelivery.alert_id, AlertDelivery.level)).tuples()
        )
        due: list[tuple[int, int]] = []
        lost: list[tuple[int, int]] = []
        for alert in alerts:
            tier = clinic_policy(session, policy, alert.patient_id).tier(alert.tier)
            if not tier.page:
                continue
            if alert.level == 0:
                due.append((alert.id, 1))
            elif alert.state == "open" and (alert.id, alert.level) not in attempted:
                # Claimed but never tried: the worker paging it died or lost the database
                # between the claim and the first attempt. Page that level again.
                claimed = alert.created_at + _claim_offset(tier, alert.level)
                if now >= claimed + LOST_PAGE_AFTER:
                    lost.append((alert.id, alert.level))
            elif alert.state == "notified" and alert.level in (1, 2):
                after = tier.backup_after if alert.level == 1 else tier.supervisor_after
                if after is not None and now >= alert.created_at + after:
                    due.append((alert.id, alert.level + 1))
    pages = 0
    for alert_id, level in due:
        if claim_level(rt, alert_id, level - 1, level):
            _page(rt, alert_id, level)
            pages += 1
    for alert_id, level in lost:
        log.warning("alert %s: level %s was claimed but never paged; paging again", alert_id, level)
        _page(rt, alert_id, level)
        pages += 1
    return pages


# How long a claimed page may go without any attempt stored before the sweep pages again.
LOST_PAGE_AFTER = timedelta(seconds=60)


def _claim_offset(tier: TierPolicy, level: int) -> timedelta:
    """When a level was claimed, counted from the alert's creation (level 1 at once)."""
    if level >= 3 and tier.supervisor_after is not None:
        return tier.supervisor_after
    if level >= 2 and tier.backup_after is not None:
        return tier.backup_after
    return timedelta(0)
