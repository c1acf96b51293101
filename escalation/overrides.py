"""A clinic's own escalation deadlines, stored as data (Clinic.escalation_overrides) and
applied over the policy file: {"urgent": {"ack_within": 1200, "backup_after": 2400}}.

Only deadlines can be changed here (seconds); whether a tier pages, and on which
channels, stays in the versioned policy file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.policy import TIERS, Policy, PolicyError, TierPolicy
from store.models import Clinic, Patient

DEADLINES = ("ack_within", "backup_after", "supervisor_after", "contact_within")
MAX_SECONDS = 30 * 24 * 3600

Overrides = dict[str, dict[str, int]]
log = logging.getLogger(__name__)


def parse_overrides(raw: str | None) -> Overrides:
    """The stored JSON, checked: known tiers and deadlines, whole positive seconds."""
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError:
        raise PolicyError("the clinic's escalation deadlines are not valid JSON") from None
    return check_overrides(doc)


def check_overrides(doc: object) -> Overrides:
    if not isinstance(doc, Mapping):
        raise PolicyError("escalation deadlines must be a mapping of tier to deadlines")
    clean: Overrides = {}
    for tier, values in doc.items():
        if tier not in TIERS or not isinstance(values, Mapping):
            raise PolicyError(f"unknown tier {tier!r} in the escalation deadlines")
        for key, seconds in values.items():
            if key not in DEADLINES:
                raise PolicyError(f"{tier}.{key} is not a deadline that can be changed")
            if not isinstance(seconds, int) or isinstance(seconds, bool):
                raise PolicyError(f"{tier}.{key} must be whole seconds")
            if not 0 < seconds <= MAX_SECONDS:
                raise PolicyError(f"{tier}.{key} must be between 1 second and 30 days")
            clean.setdefault(tier, {})[key] = seconds
    return clean


def apply_overrides(policy: Policy, overrides: Overrides) -> Policy:
    """The policy with these deadlines replaced; each paging tier must still acknowledge
    before its backup is paged, and page the backup before the supervisor."""
    if not overrides:
        return policy
    tiers = dict(policy.tiers)
    for name, values in overrides.items():
        changed: dict[str, Any] = {k: timedelta(seconds=v) for k, v in values.items()}
        tiers[name] = _ordered(name, replace(tiers[name], **changed))
    return Policy(version=f"{policy.version}+clinic", tiers=tiers)


def _ordered(name: str, tier: TierPolicy) -> TierPolicy:
    steps = [tier.ack_within, tier.backup_after, tier.supervisor_after]
    present = [s for s in steps if s is not None]
    if present != sorted(present):
        raise PolicyError(
            f"{name}: acknowledge-by must come before the backup page, and that before "
            "the supervisor page"
        )
    return tier


def clinic_policy(session: Session, policy: Policy, patient_id: int | None) -> Policy:
    """The policy as the patient's clinic has changed it (the first clinic for a sender
    who is not enrolled). A stored value that no longer checks out is ignored."""
    query = select(Clinic.escalation_overrides)
    if patient_id is not None:
        query = query.join(Patient, Patient.clinic_id == Clinic.id).where(Patient.id == patient_id)
    raw = session.scalars(query.order_by(Clinic.id)).first()
    try:
        return apply_overrides(policy, parse_overrides(raw))
    except PolicyError as exc:
        log.warning("the clinic's escalation deadlines are ignored: %s", exc)
        return policy
