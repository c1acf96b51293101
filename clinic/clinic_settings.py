"""Clinic settings an admin changes: quiet hours, escalation deadlines, approved texts.

No Flask here; the caller audits and commits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.overrides import DEADLINES, Overrides, apply_overrides, check_overrides
from escalation.policy import TIERS, Policy, PolicyError
from messaging.segments import MAX_GSM_UNITS, encode_info
from scheduling.preferences import check_quiet
from store.models import Clinic, MessageTemplate, utcnow


class ClinicSettingsError(ValueError):
    """The setting cannot be saved; the message says why."""


@dataclass(frozen=True)
class DeadlineRow:
    tier: str
    key: str
    file_minutes: float | None  # the policy file's value
    override_minutes: float | None  # the clinic's, if set


def set_quiet_hours(clinic: Clinic, start: str, end: str) -> str:
    """Store the clinic's window (checked against 08:00-21:00); returns 'old -> new'."""
    try:
        check_quiet(start, end)
    except ValueError as exc:
        raise ClinicSettingsError(str(exc)) from None
    before = f"{clinic.quiet_start}-{clinic.quiet_end}"
    clinic.quiet_start, clinic.quiet_end = start.strip(), end.strip()
    return f"{before} -> {clinic.quiet_start}-{clinic.quiet_end}"


def overrides_from_form(form: Mapping[str, str]) -> Overrides:
    """Fields named '<tier>.<deadline>' in minutes; blank keeps the policy file's value."""
    doc: dict[str, dict[str, int]] = {}
    for tier in TIERS:
        for key in DEADLINES:
            raw = form.get(f"{tier}.{key}", "").strip()
            if not raw:
                continue
            try:
                minutes = float(raw)
            except ValueError:
                raise ClinicSettingsError(f"{tier} {key}: {raw!r} is not a number") from None
            doc.setdefault(tier, {})[key] = round(minutes * 60)
    return doc


def set_escalation(clinic: Clinic, policy: Policy, overrides: Overrides) -> str:
    """Store the deadlines after checking them against the policy file; returns the JSON."""
    try:
        apply_overrides(policy, check_overrides(overrides))
    except PolicyError as exc:
        raise ClinicSettingsError(str(exc)) from None
    clinic.escalation_overrides = json.dumps(overrides, sort_keys=True) if overrides else None
    return clinic.escalation_overrides or "{}"


def deadline_rows(policy: Policy, overrides: Overrides) -> list[DeadlineRow]:
    rows = []
    for tier in TIERS:
        for key in DEADLINES:
            value = getattr(policy.tier(tier), key)
            mine = overrides.get(tier, {}).get(key)
            rows.append(
                DeadlineRow(
                    tier,
                    key,
                    value.total_seconds() / 60 if value is not None else None,
                    mine / 60 if mine is not None else None,
                )
            )
    return rows


def add_template(
    session: Session, clinic: Clinic, name: str, body: str, by: str
) -> MessageTemplate:
    """An approved text: plain GSM-7 (no emoji or smart quotes) within 320 characters."""
    name, body = name.strip(), body.strip()
    if not name or len(name) > 100:
        raise ClinicSettingsError("a template needs a name of 1 to 100 characters")
    info = encode_info(body)
    if not body or info.encoding != "GSM-7" or info.units > MAX_GSM_UNITS:
        raise ClinicSettingsError(
            f"the text must be plain GSM-7 characters (no emoji or curly quotes), 1 to "
            f"{MAX_GSM_UNITS} long"
        )
    template = MessageTemplate(clinic_id=clinic.id, name=name, body=body, approved_by=by)
    session.add(template)
    session.flush()
    return template


def retire_template(session: Session, template_id: int) -> MessageTemplate:
    template = session.get(MessageTemplate, template_id)
    if template is None or template.retired_at is not None:
        raise ClinicSettingsError("no such template in use")
    template.retired_at = utcnow()
    return template


def templates_in_use(session: Session, clinic: Clinic) -> list[MessageTemplate]:
    return list(
        session.scalars(
            select(MessageTemplate)
            .where(MessageTemplate.clinic_id == clinic.id, MessageTemplate.retired_at.is_(None))
            .order_by(MessageTemplate.name)
        )
    )
