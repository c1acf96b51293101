"""Items for the care team, raised by the dialogues: alerts with a tier and deadline.

They go through the escalation lifecycle (escalation/alerts.py): a new signal of the
same kind joins the patient's open alert, and tiers the policy pages are paged.
"""

from __future__ import annotations

import os

from sqlalchemy.orm import Session

from escalation.alerts import TIER_ORDER, Raised, raise_alert
from escalation.policy import load_policy


def raise_followup(
    session: Session,
    *,
    patient_id: int,
    tier: str,
    rules: list[str],
    summary: str,
    message_id: int | None = None,
    kind: str | None = None,
) -> Raised:
    """Raise (or join) the care-team alert; the scheduler pages it within seconds."""
    if tier not in TIER_ORDER:
        raise ValueError(f"unknown tier {tier!r}")
    return raise_alert(
        session,
        load_policy(os.environ.get("ESCALATION_POLICY", "")),
        patient_id=patient_id,
        tier=tier,
        kind=kind or rules[0],
        rules=rules,
        summary=summary,
        message_id=message_id,
    )
