"""compliance.keywords.classify: carrier keywords, plain-language revocation, opt-in, help.

Every misclassification found is added to these tables and fixed (REVIEW_CASES holds
the ones found in the first review).
"""

from __future__ import annotations

import pytest

from compliance.keywords import Compliance, classify

OUT = Compliance.OPT_OUT
IN = Compliance.OPT_IN
HELP = Compliance.HELP

CARRIER_KEYWORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]


def variants(word: str) -> list[str]:
    """Several ways a person types one keyword: casing, punctuation, emoji, spaces."""
    lower = word.lower()
    return [
        word,
        lower,
        word.capitalize(),
        f"{word.capitalize()}.",
        f"{word}!!",
        f"{lower} 🛑",
        f" {lower} ",
        f"“{word}”",
        f"{lower}\n",
        f"{word} please",
    ]


@pytest.mark.parametrize("opted_out", [False, True])
@pytest.mark.parametrize(
    "text", [v for word in CARRIER_KEYWORDS for v in variants(word)] + ["stop all", "opt out"]
)
def test_it_treats_every_carrier_keyword_as_an_opt_out(text: str, opted_out: bool) -> None:
    assert classify(text, opted_out=opted_out) is OUT


@pytest.mark.parametrize(
    "text",
    [
        "Stop.",
        "STOP!!",
        "stop 🛑",
        " quit ",
        "stop!!! 🛑🛑",
        "Stop now",
        "stop thanks",
        "Stop pls",
        "'stop'",
    ],
)
def test_it_ignores_casing_punctuation_and_emoji_around_a_keyword(text: str) -> None:
    assert classify(text, opted_out=False) is OUT


@pytest.mark.parametrize(
    "text",
    [
        "stop texting me",
        "Please stop texting me!",
        "pls stop sending these texts",
        "Stop sending me texts",
        "stop contacting me",
        "Stop the texts",
        "stop the reminders",
        "stop all messages",
        "dont text me anymore",
        "don’t text me anymore",
        "don't message me",
        "do not contact me",
        "no more messages",
        "no more texts please",
        "unsubscribe me",
        "unsubscribe please",
        "take me off this list",
        "Take me off your list",
        "remove me",
        "opt me out",
        "i want to stop getting these texts",
        "I would like to stop receiving messages",
        "no más mensajes",
        "No mas mensajes",
        "alto",
        "Parar",
    ],
)
def test_it_treats_a_plain_language_request_as_an_opt_out(text: str) -> None:
    """The FCC rule: consent may be revoked by any reasonable means, not only STOP."""
    assert classify(text, opted_out=False) is OUT


@pytest.mark.parametrize("opted_out", [False, True])
@pytest.mark.parametrize(
    "text", ["START", "start", "Start.", "UNSTOP", "unstop!", "resume", "opt in"]
)
def test_it_treats_start_and_unstop_as_an_opt_in(text: str, opted_out: bool) -> None:
    assert classify(text, opted_out=opted_out) is IN


@pytest.mark.parametrize(
    ("text", "opted_out", "expected"),
    [
        ("YES", True, IN),
        ("yes", True, IN),
        ("Yes!", True, IN),
        ("YES 👍", True, IN),
        ("y", True, IN),
        ("YES", False, None),
        ("yes", False, None),
        ("Yes!", False, None),
        ("y", False, None),
        ("yes I took it", False, None),
        ("yes I took it", True, None),
    ],
)
def test_it_reads_yes_as_an_opt_in_only_when_opted_out(
    text: str, opted_out: bool, expected: Compliance | None
) -> None:
    assert classify(text, opted_out=opted_out) is expected


@pytest.mark.parametrize("opted_out", [False, True])
@pytest.mark.parametrize(
    "text",
    [
        "HELP",
        "help",
        "help?",
        "Help!",
        "INFO",
        "Info?",
        "who is this",
        "Who is this?",
        "whos this",
        "who dis",
        "ayuda",
    ],
)
def test_it_answers_help_info_and_who_is_this_with_help(text: str, opted_out: bool) -> None:
    assert classify(text, opted_out=opted_out) is HELP


@pytest.mark.parametrize(
    ("opt_out_type", "text", "opted_out", "expected"),
    [
        ("STOP", "hello", False, OUT),
        ("STOP", "START", True, OUT),
        ("stop", "yes", True, OUT),
        (" STOP ", "thanks", False, OUT),
        ("START", "STOP", False, IN),
        ("START", "i took it", False, IN),
        ("HELP", "STOP", False, HELP),
        ("help", "yes", True, HELP),
        ("", "STOP", False, OUT),
        ("OTHER", "STOP", False, OUT),
        ("OTHER", "hello", False, None),
    ],
)
def test_it_lets_twilio_opt_out_type_override_the_text(
    opt_out_type: str, text: str, opted_out: bool, expected: Compliance | None
) -> None:
    assert classify(text, opted_out=opted_out, opt_out_type=opt_out_type) is expected


NOT_OPT_OUTS = [
    # A request to stop a *medicine* is a clinical question, never a revocation.
    "I want to stop my lithium",
    "can i stop my zoloft?",
    "should I stop taking sertraline",
    "i want to stop taking lithium",
    "when can I stop the sertraline",
    "my doctor said stop the lithium",
    "please stop the lithium",
    "stop the meds",
    "I stopped my meds",
    "i want to quit my meds",
    "no more pills",
    "no more lithium",
    "the pharmacy said to end the old prescription",
    "end of the day dose",
    "I quit smoking",
    "take me to the ER",
    "cancel my appointment",
    # Not exactly HELP: a question for the conversation, not the compliance reply.
    "help me understand my dose",
    "help me",
    "the end",
    "no",
]


@pytest.mark.parametrize("opted_out", [False, True])
@pytest.mark.parametrize("text", NOT_OPT_OUTS)
def test_it_does_not_take_a_medicine_sentence_for_a_compliance_keyword(
    text: str, opted_out: bool
) -> None:
    assert classify(text, opted_out=opted_out) is None


# Found in the first review (2026-11-22) and fixed: kept as regressions.
REVIEW_CASES: list[tuple[str, Compliance | None]] = [
    # `(?:remove|take) me (?:off|from)` reads "take me off <medicine>" as an opt-out:
    # a patient asking to come off a medicine would be silently unsubscribed.
    ("can you take me off the zoloft", None),
    ("my mom said take me off lithium", None),
    ("dr said to take me off sertraline", None),
    ("take me off this med", None),
    ("remove me from the lithium", None),
    # Plain-language revocations the classifier misses (FCC: any reasonable means).
    ("please stop", OUT),
    ("stop, please", OUT),
    ("STOP STOP STOP", OUT),
    ("STOP texting", OUT),
    ("please stop texting", OUT),
    ("quit texting me", OUT),
    ("I don't want these texts anymore", OUT),
    ("never text me again", OUT),
    ("i want to opt out", OUT),
    ("please unsubscribe", OUT),
    ("cancel my subscription", OUT),
    ("I no longer want to receive messages", OUT),
    # The apostrophe stops "who's this" from matching "whos this".
    ("who's this", HELP),
    ("who’s this?", HELP),
    ("i want these messages to stop", OUT),
    ("enough with the texts", OUT),
    ("leave me alone", OUT),
]


@pytest.mark.parametrize(("text", "expected"), REVIEW_CASES)
def test_it_classifies_the_review_cases_correctly(text: str, expected: Compliance | None) -> None:
    assert classify(text, opted_out=False) is expected


@pytest.mark.parametrize(
    ("text", "invited", "expected"),
    [
        ("YES", True, IN),
        ("Yes!", True, IN),
        ("y", True, IN),
        ("START", True, IN),
        ("yes I took it", True, None),
        ("STOP", True, Compliance.OPT_OUT),
        ("YES", False, None),
    ],
)
def test_it_reads_yes_as_the_opt_in_of_an_invited_patient(
    text: str, invited: bool, expected: Compliance | None
) -> None:
    assert classify(text, opted_out=False, invited=invited) is expected
