"""FHIR codes and identifier systems medfollow uses, and the mappings of its own states."""

from __future__ import annotations

import re

# Our identifier systems (URNs: not resolvable, only unique).
PATIENT_SYSTEM = "urn:medfollow:patient"
ALERT_SYSTEM = "urn:medfollow:alert"
LOINC = "http://loinc.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# Questionnaire totals with a LOINC code ("[Reported]" panel totals).
SCORE_CODES = {
    "PHQ-9": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
    "PHQ-2": ("55758-7", "Patient Health Questionnaire 2 item (PHQ-2) total score [Reported]"),
    "GAD-7": ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]"),
}

# A dose event's outcome as a MedicationStatement status.
DOSE_STATUS = {"taken": "completed", "missed": "not-taken", "later": "intended"}

# A message's delivery status as a Communication status.
MESSAGE_STATUS = {
    "pending": "preparation",
    "held": "preparation",
    "claimed": "in-progress",
    "queued": "in-progress",
    "sending": "in-progress",
    "sent": "completed",
    "delivered": "completed",
    "received": "completed",
    "processed": "completed",
    "failed": "not-done",
    "undelivered": "not-done",
    "suppressed": "not-done",
}

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NAMED_DAYS = {"daily": WEEKDAYS, "weekdays": WEEKDAYS[:5], "weekends": WEEKDAYS[5:]}

_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)\s*([A-Za-z%µ/]+)$")


def dose_quantity(dose: str) -> tuple[float, str] | None:
    """ "50mg" -> (50.0, "mg"); None for a dose that is not a number and a unit."""
    match = _QUANTITY.match(dose.strip())
    return (float(match[1]), match[2]) if match else None


def dose_text(value: float, unit: str) -> str:
    """(50.0, "mg") -> "50mg"; (0.5, "mg") -> "0.5mg"."""
    return f"{value:g}{unit}"


def days_list(days: str) -> list[str]:
    """Our days spec as FHIR dayOfWeek codes."""
    return list(NAMED_DAYS.get(days, tuple(d for d in days.split(",") if d)))


def days_spec(codes: list[str]) -> str:
    """FHIR dayOfWeek codes as our days spec (all seven, or none, is daily)."""
    chosen = [d for d in WEEKDAYS if d in codes]
    for name, members in NAMED_DAYS.items():
        if tuple(chosen) == members:
            return name
    return ",".join(chosen) if chosen else "daily"
