"""escalation.rules.assess: from a message (and the patient's medicines) to a tier.

One row per branch; the higher tier always wins when several rules fire.
"""

from __future__ import annotations

import pytest

from escalation.rules import RISKS, Assessment, Event, MedicineFacts, assess, higher

SERTRALINE = MedicineFacts("sertraline", "ssri", never_stop_suddenly=True)
BUPROPION = MedicineFacts("bupropion", "atypical_antidepressant", never_stop_suddenly=False)
ALPRAZOLAM = MedicineFacts("alprazolam", "benzodiazepine", never_stop_suddenly=True)
LITHIUM = MedicineFacts("lithium", "mood_stabiliser", never_stop_suddenly=True)
CLOZAPINE = MedicineFacts("clozapine", "antipsychotic", never_stop_suddenly=True)
STIMULANT = MedicineFacts("amphetamine", "stimulant", never_stop_suddenly=False)
# A benzodiazepine flagged as safe to stop still counts as one when it runs out.
LOOSE_BENZO = MedicineFacts("somebenzo", "benzodiazepine", never_stop_suddenly=False)

CASES: list[tuple[str, Event, tuple[MedicineFacts, ...], str, tuple[str, ...]]] = [
    # (id, event, medicines, risk, the rule numbers that fired, in order)
    ("greet", Event("hi", "greet"), (SERTRALINE,), "none", ()),
    ("unknown intent", Event("?", "something_new"), (), "none", ()),
    (
        "ideation",
        Event("i want to die", "self_harm", "emergency", ("R1",)),
        (),
        "emergency",
        ("R1", "R7"),
    ),
    ("screen only", Event("kms", "greet", "emergency", ("R1",)), (), "emergency", ("R1",)),
    (
        "overdose",
        Event("took all my pills", "dose_taken", "emergency", ("R2",)),
        (),
        "emergency",
        ("R2",),
    ),
    ("self injury", Event("cut myself", "", "emergency", ("R8",)), (), "emergency", ("R8",)),
    (
        "two screen reasons",
        Event("...", "", "emergency", ("R1", "R2")),
        (),
        "emergency",
        ("R1", "R2"),
    ),
    ("self harm intent", Event("no point anymore", "self_harm"), (), "urgent", ("R7",)),
    ("red flag", Event("rash with blisters", "red_flag_symptom"), (), "urgent", ("R10",)),
    ("side effect", Event("headaches", "side_effect"), (), "routine", ("R21",)),
    ("access cost", Event("cant afford it", "access_barrier"), (ALPRAZOLAM,), "prompt", ("R18",)),
    (
        "ran out, benzodiazepine",
        Event("i ran out of my xanax", "access_barrier"),
        (ALPRAZOLAM,),
        "urgent",
        ("R18", "R10"),
    ),
    (
        "ran out, benzodiazepine not flagged never-stop",
        Event("none left", "access_barrier"),
        (LOOSE_BENZO,),
        "urgent",
        ("R18", "R10"),
    ),
    (
        "ran out, never-stop medicine",
        Event("I RAN OUT", "access_barrier"),
        (LITHIUM,),
        "urgent",
        ("R18", "R10"),
    ),
    (
        "ran out, safe to stop",
        Event("i ran out", "access_barrier"),
        (BUPROPION,),
        "prompt",
        ("R18",),
    ),
    (
        "ran out words with another intent",
        Event("i ran out", "greet"),
        (ALPRAZOLAM,),
        "none",
        (),
    ),
    ("ask for a person", Event("call me", "request_clinician"), (), "prompt", ("R23",)),
    ("missed dose question", Event("i forgot", "ask_missed_dose"), (), "routine", ("R22",)),
    ("medicine question", Event("what is it for", "ask_med_info"), (), "routine", ("R22",)),
    ("mood report", Event("feeling down", "mood_report"), (), "routine", ()),
    (
        "stop, never-stop medicine",
        Event("i want to stop", "stop_medication"),
        (SERTRALINE,),
        "urgent",
        ("R13",),
    ),
    (
        "stop, one never-stop medicine among others",
        Event("i want to stop", "stop_medication"),
        (BUPROPION, LITHIUM),
        "urgent",
        ("R13",),
    ),
    (
        "stop, safe to stop",
        Event("i want to stop", "stop_medication"),
        (BUPROPION, STIMULANT),
        "prompt",
        ("R23",),
    ),
    ("stop, no medicines", Event("stop it", "stop_medication"), (), "prompt", ("R23",)),
    ("clozapine missed", Event("no", "dose_missed"), (CLOZAPINE,), "urgent", ("R12",)),
    ("other medicine missed", Event("no", "dose_missed"), (LITHIUM,), "none", ()),
    ("clozapine taken", Event("yes", "dose_taken"), (CLOZAPINE,), "none", ()),
    (
        "urgent interaction",
        Event("advil?", "ask_interaction", interaction_tiers=("urgent",)),
        (LITHIUM,),
        "urgent",
        ("R11",),
    ),
    (
        "prompt interaction",
        Event("?", "ask_interaction", interaction_tiers=("prompt",)),
        (SERTRALINE,),
        "prompt",
        ("R11",),
    ),
    (
        "two interactions",
        Event("?", "ask_interaction", interaction_tiers=("prompt", "urgent")),
        (LITHIUM,),
        "urgent",
        ("R11", "R11"),
    ),
    (
        "interaction not in table",
        Event("tylenol?", "ask_interaction"),
        (LITHIUM,),
        "routine",
        ("R22",),
    ),
    (
        "opt out with crisis words",
        Event("stop texting me i want to die", "", "emergency", ("R1",), compliance="opt_out"),
        (),
        "emergency",
        ("R1",),
    ),
    ("opt out alone", Event("STOP", "", compliance="opt_out"), (), "none", ()),
    (
        "crisis beats the red flag",
        Event("...", "red_flag_symptom", "emergency", ("R2",)),
        (),
        "emergency",
        ("R2", "R10"),
    ),
    (
        "urgent beats prompt",
        Event("i ran out", "access_barrier", interaction_tiers=("prompt",)),
        (ALPRAZOLAM,),
        "urgent",
        ("R18", "R10", "R11"),
    ),
    (
        "clozapine missed and a crisis",
        Event("...", "dose_missed", "emergency", ("R1",)),
        (CLOZAPINE,),
        "emergency",
        ("R1", "R12"),
    ),
]


def rule_numbers(assessment: Assessment) -> tuple[str, ...]:
    return tuple(r.split()[0] for r in assessment.reasons if r.startswith("R"))


@pytest.mark.parametrize(
    ("event", "medicines", "risk", "rules"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_it_assesses_each_branch(
    event: Event, medicines: tuple[MedicineFacts, ...], risk: str, rules: tuple[str, ...]
) -> None:
    result = assess(event, medicines)
    assert result.risk == risk
    assert rule_numbers(result) == rules


def test_it_names_the_screen_rule_and_the_compliance_action() -> None:
    event = Event("STOP i want to die", "", "emergency", ("R1",), compliance="opt_out")
    result = assess(event, [])
    assert result.reasons == ("R1 safety screen", "compliance: opt_out")


def test_it_gives_no_reasons_when_nothing_fires() -> None:
    assert assess(Event("hello", "greet"), []) == Assessment("none", ())


@pytest.mark.parametrize("a", RISKS)
@pytest.mark.parametrize("b", RISKS)
def test_it_keeps_the_higher_tier_whatever_the_order(a: str, b: str) -> None:
    expected = RISKS[max(RISKS.index(a), RISKS.index(b))]
    assert higher(a, b) == higher(b, a) == expected


@pytest.mark.parametrize(
    "order",
    [("urgent", "prompt", "routine"), ("routine", "prompt", "urgent"), ("prompt", "urgent")],
)
def test_it_never_lets_a_later_lower_tier_downgrade(order: tuple[str, ...]) -> None:
    event = Event("?", "ask_interaction", interaction_tiers=order)
    assert assess(event, []).risk == "urgent"
