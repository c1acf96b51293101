"""Risk rules: from what a message says (and the patient's medicines) to a tier. Pure.

This first cut maps the safety screen and the NLU intent to the tiers of the research
summary's table (R-numbers). The escalation work makes tiers and deadlines clinic
configuration and adds patterns over time. The higher tier always wins, and nothing is
downgraded on classifier confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

RISKS = ("none", "routine", "prompt", "urgent", "emergency")


@dataclass(frozen=True)
class MedicineFacts:
    """What the rules need to know about one of the patient's medicines."""

    name: str
    drug_class: str
    never_stop_suddenly: bool


@dataclass(frozen=True)
class Event:
    text: str
    intent: str
    screen_tier: str = "none"
    screen_rules: tuple[str, ...] = ()
    compliance: str | None = None
    interaction_tiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assessment:
    risk: str
    reasons: tuple[str, ...] = field(default_factory=tuple)


def higher(a: str, b: str) -> str:
    return a if RISKS.index(a) >= RISKS.index(b) else b


INTENT_RULES: dict[str, tuple[str, str]] = {
    "self_harm": ("urgent", "R7 possible ideation (screening questions follow)"),
    "red_flag_symptom": ("urgent", "R10 red-flag symptom"),
    "side_effect": ("routine", "R21 side effect reported (FIBSER follows)"),
    "access_barrier": ("prompt", "R18 access barrier"),
    "request_clinician": ("prompt", "R23 asked for a person"),
    "ask_missed_dose": ("routine", "R22 missed-dose question"),
    "ask_med_info": ("routine", "R22 medicine question"),
    "mood_report": ("routine", "mood report (PHQ follows)"),
}
RAN_OUT = ("ran out", "run out", "out of", "no more pills", "none left", "didn't refill")


def assess(event: Event, medicines: Sequence[MedicineFacts]) -> Assessment:
    """The tier this message calls for, with the rules that fired."""
    risk, reasons = "none", []

    def fire(tier: str, reason: str) -> None:
        nonlocal risk
        risk = higher(risk, tier)
        reasons.append(reason)

    if event.screen_tier != "none":
        for rule in event.screen_rules or ("safety screen",):
            fire(event.screen_tier, f"{rule} safety screen")
    if event.compliance:
        reasons.append(f"compliance: {event.compliance}")
    if event.intent in INTENT_RULES:
        fire(*INTENT_RULES[event.intent])
    if event.intent == "stop_medication":
        if any(m.never_stop_suddenly for m in medicines):
            fire("urgent", "R13 wants to stop a never-stop-suddenly medicine")
        else:
            fire("prompt", "R23 wants to stop a medicine")
    if event.intent == "access_barrier" and any(p in event.text.lower() for p in RAN_OUT):
        if any(m.drug_class == "benzodiazepine" or m.never_stop_suddenly for m in medicines):
            fire("urgent", "R10 ran out of a medicine that must not stop suddenly")
    if event.intent == "dose_missed" and any(m.name == "clozapine" for m in medicines):
        fire("urgent", "R12 clozapine dose missed")
    for tier in event.interaction_tiers:
        fire(tier, "R11 listed interaction")
    if event.intent == "ask_interaction" and not event.interaction_tiers:
        fire("routine", "R22 interaction question not in our table")
    return Assessment(risk, tuple(reasons))
