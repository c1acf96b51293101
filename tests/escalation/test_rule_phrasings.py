"""Every rule the message assessment fires, by at least three phrasings, through the
same path as triage: the safety screen on the words and the patient's medicines, then
escalation.rules.assess with the NLU intent. The NLU is not run here: each row names
the intent it gives (the NLU's own held-out evaluation is in nlu/eval)."""

from __future__ import annotations

from collections import Counter

import pytest

from education.library import load_library
from escalation.rules import Event, MedicineFacts, assess
from escalation.safety import screen

# (rule, text, medicines, intent, interaction tiers, the tier)
ROWS: list[tuple[str, str, tuple[str, ...], str, tuple[str, ...], str]] = [
    ("R1", "i want to die", (), "self_harm", (), "emergency"),
    ("R1", "im gonna kill myself tonight", ("sertraline",), "self_harm", (), "emergency"),
    ("R1", "everyone would be better off without me", (), "mood_report", (), "emergency"),
    ("R1", "i want to unalive", (), "out_of_scope", (), "emergency"),
    ("R2", "i took all my pills", ("lithium",), "dose_taken", (), "emergency"),
    ("R2", "just swallowed the whole bottle of my seroquel", (), "dose_taken", (), "emergency"),
    ("R2", "i overdosed on my meds", (), "self_harm", (), "emergency"),
    ("R8", "i cut myself last night", (), "self_harm", (), "emergency"),
    ("R8", "been cutting again", (), "mood_report", (), "emergency"),
    ("R8", "i burned myself on purpose", (), "self_harm", (), "emergency"),
    ("R7", "i just feel hopeless lately", (), "self_harm", (), "urgent"),
    ("R7", "i feel so empty all the time", (), "self_harm", (), "urgent"),
    ("R7", "im tired of everything", (), "self_harm", (), "urgent"),
    ("R10", "my skin is breaking out", (), "red_flag_symptom", (), "urgent"),
    ("R10", "i feel really weird and shaky", (), "red_flag_symptom", (), "urgent"),
    ("R10", "something is wrong with my eyes", (), "red_flag_symptom", (), "urgent"),
    ("R10", "i have a rash", ("lamotrigine",), "side_effect", (), "urgent"),
    ("R10", "i ran out of my xanax", ("alprazolam",), "access_barrier", (), "urgent"),
    ("R21", "i get headaches", (), "side_effect", (), "routine"),
    ("R21", "my mouth is so dry", ("sertraline",), "side_effect", (), "routine"),
    ("R21", "feeling a bit sleepy after my pill", (), "side_effect", (), "routine"),
    ("R18", "i cant afford my meds this month", ("sertraline",), "access_barrier", (), "prompt"),
    ("R18", "the pharmacy is out of stock", ("bupropion",), "access_barrier", (), "prompt"),
    ("R18", "i ran out of my wellbutrin", ("bupropion",), "access_barrier", (), "prompt"),
    ("R18", "none left of my lithium", ("lithium",), "access_barrier", (), "urgent"),
    ("R23", "can i talk to a real person", (), "request_clinician", (), "prompt"),
    ("R23", "i need my doctor to call me", (), "request_clinician", (), "prompt"),
    ("R23", "please have the nurse ring me", (), "request_clinician", (), "prompt"),
    ("R23", "i want to stop my wellbutrin", ("bupropion",), "stop_medication", (), "prompt"),
    ("R22", "what is sertraline for", ("sertraline",), "ask_med_info", (), "routine"),
    ("R22", "should i take it with food", (), "ask_med_info", (), "routine"),
    ("R22", "i forgot my dose what do i do", (), "ask_missed_dose", (), "routine"),
    ("R22", "can i take tylenol with it", ("lithium",), "ask_interaction", (), "routine"),
    ("R13", "i want to stop my lithium", ("lithium",), "stop_medication", (), "urgent"),
    ("R13", "thinking of quitting zoloft", ("sertraline",), "stop_medication", (), "urgent"),
    ("R13", "im done with my klonopin", ("clonazepam",), "stop_medication", (), "urgent"),
    ("R12", "no", ("clozapine",), "dose_missed", (), "urgent"),
    ("R12", "missed it this morning", ("clozapine",), "dose_missed", (), "urgent"),
    ("R12", "forgot my clozaril yesterday", ("clozapine",), "dose_missed", (), "urgent"),
    (
        "R11",
        "can i take advil with my lithium",
        ("lithium",),
        "ask_interaction",
        ("urgent",),
        "urgent",
    ),
    ("R11", "is it ok to have a beer", ("sertraline",), "ask_interaction", ("prompt",), "prompt"),
    ("R11", "doc gave me cipro", ("clozapine",), "ask_interaction", ("urgent",), "urgent"),
]


def facts(names: tuple[str, ...]) -> list[MedicineFacts]:
    library = load_library()
    meds = [m for m in (library.get(n) for n in names) if m is not None]
    assert len(meds) == len(names), names
    return [MedicineFacts(m.name, m.drug_class, m.never_stop_suddenly) for m in meds]


@pytest.mark.parametrize(
    ("rule", "text", "medicines", "intent", "interactions", "tier"),
    ROWS,
    ids=[f"{r[0]}: {r[1]}" for r in ROWS],
)
def test_it_fires_each_rule_for_each_phrasing(
    rule: str,
    text: str,
    medicines: tuple[str, ...],
    intent: str,
    interactions: tuple[str, ...],
    tier: str,
) -> None:
    found = screen(text, medicines)
    event = Event(text, intent, found.tier, found.rules, interaction_tiers=interactions)
    result = assess(event, facts(medicines))
    assert rule in {r.split()[0] for r in result.reasons}, result.reasons
    assert result.risk == tier, result.reasons


def test_it_has_at_least_three_phrasings_for_every_rule() -> None:
    counts = Counter(row[0] for row in ROWS)
    fired = {"R1", "R2", "R7", "R8", "R10", "R11", "R12", "R13", "R18", "R21", "R22", "R23"}
    assert set(counts) == fired
    assert all(n >= 3 for n in counts.values()), counts
