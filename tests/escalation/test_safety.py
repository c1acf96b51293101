"""escalation.safety: the deterministic crisis screen and the crisis reply.

The tables are the regression file: every miss or false alarm found is added to them
(REVIEW_* hold the ones found in the first review) and the lexicon is fixed.
"""

from __future__ import annotations

import pytest

from escalation.safety import LEXICON_VERSION, Screen, crisis_reply, screen
from messaging.segments import encode_info

CRISES: list[tuple[str, tuple[str, ...]]] = [
    # ideation: direct, slang, stretched, indirect
    ("i want to die", ("ideation",)),
    ("i just want to die", ("ideation",)),
    ("wanna dieee", ("ideation",)),
    ("I WANT TO DIEEEE", ("ideation",)),
    ("kms", ("ideation",)),
    ("i wanna kms", ("ideation",)),
    ("unalive myself", ("ideation",)),
    ("i want to unalive", ("ideation",)),
    ("im going to kill myself", ("ideation",)),
    ("i want to kill myself", ("ideation",)),
    ("thinking about suicide", ("ideation",)),
    ("i feel suicidal", ("ideation",)),
    ("i'm gonna end it all", ("ideation",)),
    ("going to end my life", ("ideation",)),
    ("I want to end it tonight", ("ideation",)),
    ("i have a plan to end my life", ("ideation",)),
    ("i wish i was dead", ("ideation",)),
    ("everyone would be better off without me", ("ideation",)),
    ("they’d be better off without me", ("ideation",)),
    ("i dont want to wake up tomorrow", ("ideation",)),
    ("I don't want to wake up", ("ideation",)),
    ("i don’t want to be alive anymore", ("ideation",)),
    ("no reason to live", ("ideation",)),
    ("there's no point in living", ("ideation",)),
    # self-injury
    ("i cut myself last night", ("self_injury",)),
    ("I've been cutting myself again", ("self_injury",)),
    ("i hurt myself", ("self_injury",)),
    ("i've been hurting myself", ("self_injury",)),
    ("i want to hurt myself", ("self_injury",)),
    # overdose
    ("i took all my pills", ("overdose",)),
    ("took a bunch of my meds", ("overdose",)),
    ("i overdosed", ("overdose",)),
    ("💊💊💊 tonight", ("overdose",)),
    ("i swallowed the whole bottle", ("overdose",)),
    ("took too many pills", ("overdose",)),
    ("I'm gonna take all my pills", ("overdose",)),
    ("i OD'd", ("overdose",)),
    # more than one reason at once
    ("i took all my pills because i want to die", ("ideation", "overdose")),
    ("i cut myself and i feel suicidal", ("ideation", "self_injury")),
]

FALSE_ALARMS = [
    "lol im dead 😂 that video",
    "this meeting is killing me",
    "dying of laughter",
    "I could kill for a pizza",
    "my phone died",
    "the dead battery",
    "I'm dying to see the game",
    "took my pills this morning",
    "I want to stop my lithium",
    "kill the lights",
    "my feet are killing me",
    "i'm dead tired",
    "i nearly died laughing",
    "this traffic is killing me",
    "dead serious",
    "cutting my pills in half",
    "my plants are dying",
    "killing it at work today",
    "the pharmacy gave me the whole bottle",
    "i took a bunch of my vitamins",
]

# Misses found in the first review (2026-11-22), now caught: kept as regressions.
REVIEW_MISSES: list[tuple[str, tuple[str, ...]]] = [
    ("burned myself on purpose", ("self_injury",)),
    # `self[- ]?harm\b` fails on "harming" (and "self harm" is filed under ideation).
    ("been self harming", ("self_injury",)),
    ("I took all of my lithium", ("overdose",)),
    ("i took 20 of my pills", ("overdose",)),
    ("I took way too many pills", ("overdose",)),
    ("took a handful of my pills", ("overdose",)),
    ("i just took 30 sertraline", ("overdose",)),
    ("i should just die", ("ideation",)),
    ("i dont want to exist anymore", ("ideation",)),
    ("i want it all to end", ("ideation",)),
    ("i'd rather be dead", ("ideation",)),
    ("i cant go on", ("ideation",)),
    ("nobody would miss me", ("ideation",)),
    ("im going to jump off a bridge", ("ideation",)),
    ("i bought a gun to end it", ("ideation",)),
]

# False alarms found in the first review (2026-11-22), now cleared: kept as regressions.
REVIEW_FALSE_ALARMS: list[str] = [
    # Adherence answers: the overdose pattern has no notion of "on schedule".
    "I took all my pills this morning like you said",
    "took all my meds today",
    "I took all my pills at 8",
    "i took all of my meds on time",
    "I took a lot of my medicine this week, all on schedule",
    # Dosing questions.
    "should i take all my pills at once or spread them out",
    "can i take all of my meds together?",
    "I will take the whole bottle back to the pharmacy",
    # `my ?self` matches "my self-esteem".
    "i hurt my self-esteem",
    # Idioms.
    "i wanna die of embarrassment lol",
    "i'm going to die if i don't eat",
    # Someone else's overdose.
    "did you hear about the overdose on the news",
]


@pytest.mark.parametrize(("text", "reasons"), CRISES + REVIEW_MISSES)
def test_it_flags_crisis_language_with_its_reasons(text: str, reasons: tuple[str, ...]) -> None:
    found = screen(text)
    assert found.tier == "emergency"
    assert found.crisis
    assert found.reasons == reasons
    assert found.version == LEXICON_VERSION


def test_it_covers_each_reason_with_at_least_three_phrasings() -> None:
    for reason in ("ideation", "self_injury", "overdose"):
        assert sum(reasons == (reason,) for _, reasons in CRISES) >= 3, reason


@pytest.mark.parametrize("text", FALSE_ALARMS + REVIEW_FALSE_ALARMS)
def test_it_does_not_flag_idioms_or_ordinary_medicine_talk(text: str) -> None:
    assert screen(text) == Screen("none")
    assert not screen(text).crisis


def test_it_reads_an_empty_message_as_no_crisis() -> None:
    assert screen("").tier == "none"


def test_it_puts_988_before_911_in_the_crisis_reply() -> None:
    reply = crisis_reply()
    assert "988" in reply and "911" in reply
    assert reply.index("988") < reply.index("911")


def test_it_names_poison_control_in_the_crisis_reply() -> None:
    assert "Poison Control" in crisis_reply()
    assert "1-800-222-1222" in crisis_reply()


def test_it_keeps_the_crisis_reply_gsm7_and_within_320_characters() -> None:
    info = encode_info(crisis_reply())
    assert info.encoding == "GSM-7"
    assert info.units <= 320
    assert len(crisis_reply()) <= 320
