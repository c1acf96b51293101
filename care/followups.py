"""Items for the care team (stored as alerts): what happened, how urgent, by when."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.orm import Session

from store.models import Alert, utcnow

# Default deadlines by tier (the research summary's proposal; the escalation work makes
# them clinic configuration): emergency acknowledged in 5 minutes, urgent contact in 2
# hours, prompt within a business day, routine at the next review.
DEADLINES = {
    "emergency": timedelta(minutes=5),
    "urgent": timedelta(hours=2),
    "prompt": timedelta(days=1),
    "routine": timedelta(days=7),
}
TIERS = ("emergency", "urgent", "prompt", "routine")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def higher(a: str, b: str) -> str:
    """The more urgent of two tiers ("none" is below routine)."""
    order = {t: i for i, t in enumerate(TIERS)}
    return min((a, b), key=lambda t: order.get(t, len(TIERS)))


def new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


def raise_followup(
    session: Session,
    *,
    patient_id: int,
    tier: str,
    rules: list[str],
    summary: str,
    message_id: int | None = None,
) -> Alert:
    """Create a care-team item with its deadline; the escalation work pages on it."""
    if tier not in DEADLINES:
        raise ValueError(f"unknown tier {tier!r}")
    alert = Alert(
        code=new_code(),
        patient_id=patient_id,
        tier=tier,
        rules=",".join(rules),
        summary=summary,
        evidence_message_id=message_id,
        due_at=utcnow() + DEADLINES[tier],
    )
    session.add(alert)
    session.flush()
    return alert
