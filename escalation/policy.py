"""The escalation policy (tiers, deadlines, channels) as data: escalation/policy.yaml, or
the file ESCALATION_POLICY names. Tests and demos use a policy in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_POLICY = Path(__file__).resolve().parent / "policy.yaml"
TIERS = ("emergency", "urgent", "prompt", "routine")
CHANNELS = ("sms", "email", "webhook")


class PolicyError(ValueError):
    """The policy file is invalid; the message names the tier and field."""


@dataclass(frozen=True)
class TierPolicy:
    page: bool
    channels: tuple[str, ...]
    ack_within: timedelta
    contact_within: timedelta
    backup_after: timedelta | None = None
    supervisor_after: timedelta | None = None


@dataclass(frozen=True)
class Policy:
    version: str
    tiers: dict[str, TierPolicy]

    def tier(self, name: str) -> TierPolicy:
        return self.tiers[name]


def _seconds(tier: str, raw: dict[str, object], key: str, required: bool) -> timedelta | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, int | float) or value <= 0:
        raise PolicyError(f"tiers.{tier}.{key} must be a positive number of seconds")
    return timedelta(seconds=float(value))


def parse_policy(doc: object) -> Policy:
    if not isinstance(doc, dict) or not isinstance(doc.get("tiers"), dict):
        raise PolicyError("the policy needs a version and a tiers mapping")
    tiers: dict[str, TierPolicy] = {}
    for name in TIERS:
        raw = doc["tiers"].get(name)
        if not isinstance(raw, dict):
            raise PolicyError(f"tiers.{name} is missing")
        channels = tuple(raw.get("channels") or ())
        bad = [c for c in channels if c not in CHANNELS]
        if bad or not channels:
            raise PolicyError(f"tiers.{name}.channels must be some of {', '.join(CHANNELS)}")
        ack = _seconds(name, raw, "ack_within", True)
        contact = _seconds(name, raw, "contact_within", True)
        assert ack is not None and contact is not None
        tiers[name] = TierPolicy(
            page=bool(raw.get("page")),
            channels=channels,
            ack_within=ack,
            contact_within=contact,
            backup_after=_seconds(name, raw, "backup_after", False),
            supervisor_after=_seconds(name, raw, "supervisor_after", False),
        )
    return Policy(version=str(doc.get("version", "")), tiers=tiers)


@lru_cache(maxsize=4)
def load_policy(path: str = "") -> Policy:
    file = Path(path) if path else DEFAULT_POLICY
    try:
        return parse_policy(yaml.safe_load(file.read_text()))
    except OSError as exc:
        raise PolicyError(f"cannot read the escalation policy {file}: {exc.strerror}") from None
