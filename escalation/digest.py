"""The daily digest: prompt and routine items go to the on-call clinician by email once a
day instead of paging anyone."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import select

from escalation.alerts import ACTIVE, patient_ref
from escalation.notifiers.email import EmailNotifier
from escalation.oncall import current
from medfollow.runtime import Runtime
from store.models import Alert, Patient, utcnow

DIGEST_KEY = "medfollow:digest:last"
DIGEST_TIERS = ("prompt", "routine")


def digest_lines(rt: Runtime) -> tuple[list[str], str | None]:
    """One line per active prompt or routine item (no message text), and who gets it."""
    with rt.sessions() as session:
        oncall = current(session)
        alerts = session.scalars(
            select(Alert)
            .where(Alert.state.in_(ACTIVE), Alert.tier.in_(DIGEST_TIERS))
            .order_by(Alert.tier, Alert.due_at)
        ).all()
        lines = []
        for alert in alerts:
            patient = session.get(Patient, alert.patient_id) if alert.patient_id else None
            due = alert.due_at.strftime("%Y-%m-%d %H:%M UTC") if alert.due_at else "-"
            lines.append(
                f"{alert.code} {alert.tier:<8} {patient_ref(patient):<10} due {due}: "
                f"{alert.summary}"
            )
        return lines, oncall.primary.email if oncall else None


def send_digest(rt: Runtime) -> int:
    """Email the digest to the on-call clinician now; return the number of items."""
    lines, to = digest_lines(rt)
    if not lines or to is None:
        return 0
    notifier = EmailNotifier(rt.settings)
    message = EmailMessage()
    message["Subject"] = f"[medfollow] {len(lines)} items for the care team"
    message["From"] = rt.settings.smtp_from
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=rt.settings.smtp_from.rpartition("@")[2] or "x")
    message.set_content(
        "Items to review (open them in medfollow for the evidence):\n\n" + "\n".join(lines)
    )
    notifier.send(message, to)
    return len(lines)


def digest_due(rt: Runtime, now: datetime | None = None, hour_utc: int = 13) -> bool:
    """True once a day, at or after `hour_utc` (13:00 UTC is 8 or 9 in the morning on the
    US East coast): the first caller that day claims it in Redis."""
    at = now or utcnow()
    if at.hour < hour_utc:
        return False
    key = f"{DIGEST_KEY}:{at.strftime('%Y-%m-%d')}"
    return bool(rt.redis.set(key, 1, nx=True, ex=2 * 86400))
