"""Items for the care team, raised by the dialogues: alerts with a tier and deadline.

They go through the escalation lifecycle (escalation/alerts.py): a new signal of the
same kind joins the patient's open alert, and tiers the policy pages are paged.
"""

from __future__ import annotations

import os

from sqlalchemy.orm import Session

from escalation.alerts import TIER_ORDER, Raised, raise_alert
from escalation.policy import load_policy

# What the patient is told happens next, and by when, for the tier the alert ended at
# (after the risk modifiers, so never less urgent than what the care team was asked).
# The times are the escalation policy's default contact deadlines.
NEXT_STEP = {
    "emergency": "We have asked your care team to contact you right away.",
    "urgent": "We have asked your care team to call you today, within 2 hours.",
    "prompt": "We have asked your care team to contact you within 1 business day.",
    "routine": "We have noted it for your care team to look at.",
}


def next_step(tier: str) -> str:
    """The plain-words next step for an alert of this tier."""
    if tier not in NEXT_STEP:
        raise ValueError(f"unknown tier {tier!r}")
    return NEXT_STEP[tier]


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
