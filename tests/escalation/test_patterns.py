"""escalation.patterns: the rules over time, one table per rule, with the edges.

Fixed datetimes throughout: NOW is Friday 2026-11-20 12:00 UTC; doses are at 09:00 unless
a case says otherwise, so "today's" dose is already due.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from escalation.patterns import (
    DoseRecord,
    Finding,
    MedicineContext,
    Outcome,
    PatientContext,
    adherence_rate,
    apply_modifiers,
    combine,
    high_risk,
    highest,
    low_adherence,
    missed_streak,
    missed_streaks,
    phq2_positive,
    score_rules,
    silence,
)
from escalation.rules import RISKS
from escalation.thresholds import Thresholds, load_thresholds

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
LETTERS: dict[str, Outcome] = {"T": "taken", "M": "missed", "U": "unanswered", "L": "later"}


@pytest.fixture(scope="module")
def t() -> Thresholds:
    return load_thresholds()


def at(days_ago: float, hour: int = 9, minute: int = 0) -> datetime:
    """``hour:minute`` UTC on the day ``days_ago`` days before NOW's day."""
    return NOW.replace(hour=hour, minute=minute) - timedelta(days=days_ago)


def daily(med: str, outcomes: str, hour: int = 9, end: int = 0) -> list[DoseRecord]:
    """One dose a day, oldest first, the last ``end`` days ago: "TMU" = taken, missed,
    unanswered (and L = later)."""
    n = len(outcomes)
    return [
        DoseRecord(med, at(end + n - 1 - i, hour), LETTERS[letter])
        for i, letter in enumerate(outcomes)
    ]


def twice_daily(med: str, days: Sequence[str]) -> list[DoseRecord]:
    """Two doses a day (09:00 and 11:00, both before NOW), oldest day first: ["MT", "MM"]."""
    out: list[DoseRecord] = []
    for i, pair in enumerate(days):
        out += daily(med, pair[0], 9, len(days) - 1 - i)
        out += daily(med, pair[1], 11, len(days) - 1 - i)
    return out


def tiers(findings: Sequence[Finding]) -> list[tuple[str, str]]:
    return [(f.tier, f.rule) for f in findings]


# --- missed_streak ---------------------------------------------------------------------

STREAKS: list[tuple[str, list[DoseRecord], int]] = [
    ("none scheduled", [], 0),
    ("all taken", daily("lithium", "TTT"), 0),
    ("today missed", daily("lithium", "TTM"), 1),
    ("two missed", daily("lithium", "TMM"), 2),
    ("five missed", daily("lithium", "MMMMM"), 5),
    ("missed then taken today", daily("lithium", "MMT"), 0),
    ("missed then later today", daily("lithium", "MML"), 0),
    ("unanswered today ends it", daily("lithium", "MMU"), 0),
    ("unanswered between ends it", daily("lithium", "MUM"), 1),
    ("half a day taken is not missed", twice_daily("lithium", ["MM", "MT"]), 0),
    ("both doses missed, two days", twice_daily("lithium", ["MM", "MM"]), 2),
    ("missed and unanswered is not missed", twice_daily("lithium", ["MM", "MU"]), 0),
    (
        "today not over: neither counts nor ends",
        daily("lithium", "MMM") + [DoseRecord("lithium", at(0, 20), "unanswered")],
        2,
    ),
    (
        "today not over, one already taken: ends",
        daily("lithium", "MT") + [DoseRecord("lithium", at(0, 20), "unanswered")],
        0,
    ),
    ("tomorrow's dose ignored", daily("lithium", "MM") + daily("lithium", "U", end=-1), 2),
    (
        "days with nothing scheduled are skipped",
        [DoseRecord("lithium", at(4), "missed"), DoseRecord("lithium", at(2), "missed")],
        2,
    ),
    ("another medicine's doses ignored", daily("lithium", "M") + daily("sertraline", "MM"), 1),
    ("names match whatever the case", daily("Lithium ", "MM"), 2),
]


@pytest.mark.parametrize(
    ("doses", "expected"), [(d, e) for _, d, e in STREAKS], ids=[i for i, _, _ in STREAKS]
)
def test_it_counts_consecutive_fully_missed_days(doses: list[DoseRecord], expected: int) -> None:
    assert missed_streak(doses, "lithium", NOW) == expected


def test_it_counts_local_days_in_the_patients_zone() -> None:
    # 14:00 UTC on the 19th and 02:00 UTC on the 20th: two UTC days, one New York day.
    doses = [
        DoseRecord("lithium", datetime(2026, 11, 19, 14, tzinfo=UTC), "missed"),
        DoseRecord("lithium", datetime(2026, 11, 20, 2, tzinfo=UTC), "missed"),
    ]
    assert missed_streak(doses, "lithium", NOW) == 2
    assert missed_streak(doses, "lithium", NOW, tz=ZoneInfo("America/New_York")) == 1


# --- missed_streaks --------------------------------------------------------------------

CLOZAPINE = MedicineContext("clozapine", "antipsychotic", never_stop_suddenly=True)
LITHIUM = MedicineContext("lithium", "mood_stabiliser", never_stop_suddenly=True)
LAMOTRIGINE = MedicineContext("lamotrigine", "mood_stabiliser", never_stop_suddenly=True)
VALPROATE = MedicineContext("valproate", "mood_stabiliser", never_stop_suddenly=True)
CARBAMAZEPINE = MedicineContext("carbamazepine", "mood_stabiliser", never_stop_suddenly=True)
ALPRAZOLAM = MedicineContext("alprazolam", "benzodiazepine", never_stop_suddenly=True)
LOOSE_BENZO = MedicineContext("somebenzo", "benzodiazepine", never_stop_suddenly=False)
GUANFACINE = MedicineContext("guanfacine", "non_stimulant_adhd", never_stop_suddenly=True)
BUPROPION = MedicineContext("bupropion", "atypical_antidepressant", never_stop_suddenly=False)

MISSED: list[tuple[str, MedicineContext, str, list[tuple[str, str]]]] = [
    ("clozapine one day", CLOZAPINE, "TM", [("urgent", "R12")]),
    ("clozapine none", CLOZAPINE, "TT", []),
    ("lithium one day", LITHIUM, "TM", []),
    ("lithium two days", LITHIUM, "TMM", [("urgent", "R13")]),
    ("lamotrigine two days", LAMOTRIGINE, "TMM", []),
    ("lamotrigine three days", LAMOTRIGINE, "TMMM", [("urgent", "R13")]),
    ("valproate one day", VALPROATE, "TM", []),
    ("valproate two days", VALPROATE, "MM", [("prompt", "R18")]),
    ("carbamazepine two days", CARBAMAZEPINE, "MM", [("prompt", "R18")]),
    ("benzodiazepine one day", ALPRAZOLAM, "M", []),
    ("benzodiazepine two days", ALPRAZOLAM, "MM", [("prompt", "R18")]),
    ("benzodiazepine not flagged, two days", LOOSE_BENZO, "MM", [("prompt", "R18")]),
    ("never-stop two days", GUANFACINE, "MM", [("prompt", "R18")]),
    ("other one day", BUPROPION, "TM", []),
    ("other two days", BUPROPION, "MM", [("prompt", "R18")]),
]


@pytest.mark.parametrize(
    ("med", "outcomes", "expected"),
    [(m, o, e) for _, m, o, e in MISSED],
    ids=[i for i, _, _, _ in MISSED],
)
def test_it_applies_the_missed_days_rule_of_each_medicine(
    t: Thresholds, med: MedicineContext, outcomes: str, expected: list[tuple[str, str]]
) -> None:
    findings = missed_streaks(daily(med.name, outcomes), [med], NOW, t)
    assert tiers(findings) == expected
    for finding in findings:
        assert finding.reason.startswith(finding.rule)
        assert med.name in finding.reason


def test_it_reports_each_medicine_and_unlisted_ones(t: Thresholds) -> None:
    doses = daily("clozapine", "M") + daily("lithium", "MM") + daily("newdrug", "MM")
    findings = missed_streaks(doses, [CLOZAPINE, LITHIUM, BUPROPION], NOW, t)
    assert tiers(findings) == [("urgent", "R12"), ("urgent", "R13"), ("prompt", "R18")]
    assert "never stop suddenly" in findings[0].reason
    assert "newdrug" in findings[2].reason


# --- adherence -------------------------------------------------------------------------

RATES: list[tuple[str, list[DoseRecord], float | None]] = [
    ("all taken", daily("x", "T" * 14), 1.0),
    ("eleven of fourteen", daily("x", "T" * 11 + "MUL"), 11 / 14),
    ("later is not confirmed", daily("x", "TTTTTTL"), 6 / 7),
    ("unanswered counts as scheduled", daily("x", "TTTTTUU"), 5 / 7),
    ("seven scheduled is enough", daily("x", "M" * 7), 0.0),
    ("six scheduled is too few", daily("x", "T" * 6), None),
    ("only the last 14 days", daily("x", "M" * 6 + "T" * 14), 1.0),
    (
        "exactly 14 days ago is outside",
        daily("x", "T" * 7) + [DoseRecord("x", NOW - 14 * DAY, "missed")],
        1.0,
    ),
    (
        "just inside 14 days is in",
        daily("x", "T" * 7) + [DoseRecord("x", NOW - 14 * DAY + MINUTE, "missed")],
        7 / 8,
    ),
    ("future doses are not scheduled yet", daily("x", "T" * 7) + daily("x", "U", end=-1), 1.0),
]


@pytest.mark.parametrize(
    ("doses", "expected"), [(d, e) for _, d, e in RATES], ids=[i for i, _, _ in RATES]
)
def test_it_computes_the_confirmed_dose_rate(
    doses: list[DoseRecord], expected: float | None
) -> None:
    assert adherence_rate(doses, 14, NOW) == expected


LOW: list[tuple[str, list[DoseRecord], bool]] = [
    ("exactly 80% is not low", daily("x", "TTTTTTTTMM"), False),
    ("70% is low", daily("x", "TTTTTTTMMM"), True),
    ("12 of 15 is exactly 80%", daily("a", "T" * 8) + daily("b", "TTTTMMM"), False),
    ("11 of 14 is low", daily("x", "T" * 11 + "MMM"), True),
    ("too few to judge", daily("x", "MMMMMM"), False),
    (
        "a miss exactly at the window edge is outside",
        daily("x", "TTTTTTTTMM") + [DoseRecord("x", NOW - 14 * DAY, "missed")],
        False,
    ),
    (
        "a miss just inside the window counts",
        daily("x", "TTTTTTTTMM") + [DoseRecord("x", NOW - 14 * DAY + MINUTE, "missed")],
        True,
    ),
    ("two medicines pooled", daily("a", "TTTTTT") + daily("b", "TTMMMM"), True),
]


@pytest.mark.parametrize(
    ("doses", "fires"), [(d, f) for _, d, f in LOW], ids=[i for i, _, _ in LOW]
)
def test_it_flags_low_adherence_below_the_threshold(
    t: Thresholds, doses: list[DoseRecord], fires: bool
) -> None:
    findings = low_adherence(doses, NOW, t)
    assert tiers(findings) == ([("prompt", "R18")] if fires else [])
    if fires:
        assert "not PDC" in findings[0].reason


# --- silence ---------------------------------------------------------------------------

HIGH = PatientContext("25_64", high_risk=True)
LOW_RISK = PatientContext("25_64", high_risk=False)

SILENCE: list[
    tuple[str, PatientContext, list[DoseRecord], list[tuple[datetime, str]], str | None]
] = [
    ("three unanswered", HIGH, daily("x", "TUUU"), [], "prompt"),
    ("two unanswered", HIGH, daily("x", "TTUU"), [], None),
    ("not high-risk", LOW_RISK, daily("x", "UUUU"), [], None),
    (
        "not flagged but a recent T2",
        LOW_RISK,
        daily("x", "UUU"),
        [(NOW - 3 * DAY, "urgent")],
        "urgent",
    ),
    ("recent T1", HIGH, daily("x", "UUU"), [(NOW - 13 * DAY, "emergency")], "urgent"),
    ("T2 exactly 14 days ago", HIGH, daily("x", "UUU"), [(NOW - 14 * DAY, "urgent")], "prompt"),
    (
        "T2 just inside 14 days",
        HIGH,
        daily("x", "UUU"),
        [(NOW - 14 * DAY + MINUTE, "urgent")],
        "urgent",
    ),
    ("a recent T3 does not raise", HIGH, daily("x", "UUU"), [(NOW - DAY, "prompt")], "prompt"),
    ("a future alert is ignored", LOW_RISK, daily("x", "UUU"), [(NOW + MINUTE, "urgent")], None),
    ("an answer breaks the run", HIGH, daily("x", "UUTU"), [], None),
    ("a missed dose is an answer", HIGH, daily("x", "UUMU"), [], None),
    ("later is an answer", HIGH, daily("x", "UULU"), [], None),
    (
        "one check-in, two medicines, one answered",
        HIGH,
        daily("a", "UUU") + daily("b", "UUM"),
        [],
        None,
    ),
    (
        "one check-in, two medicines, none answered",
        HIGH,
        daily("a", "UUU") + daily("b", "UUU"),
        [],
        "prompt",
    ),
    ("future check-ins are ignored", HIGH, daily("x", "TUU") + daily("x", "U", end=-1), [], None),
    ("nothing scheduled", HIGH, [], [], None),
]


@pytest.mark.parametrize(
    ("patient", "doses", "recent", "expected"),
    [(p, d, r, e) for _, p, d, r, e in SILENCE],
    ids=[i for i, *_ in SILENCE],
)
def test_it_flags_silence_from_a_high_risk_patient(
    t: Thresholds,
    patient: PatientContext,
    doses: list[DoseRecord],
    recent: list[tuple[datetime, str]],
    expected: str | None,
) -> None:
    findings = silence(doses, patient, recent, NOW, t)
    assert tiers(findings) == ([(expected, "R19")] if expected else [])


@pytest.mark.parametrize(
    ("first_days_ago", "fires"), [(4, False), (5, True)], ids=["4 days", "5 days"]
)
def test_it_can_require_the_silence_to_last_some_days(
    t: Thresholds, first_days_ago: int, fires: bool
) -> None:
    # R19's "(>= 5 days)" as clinic configuration: the first unanswered check-in is at
    # 12:00 (NOW's time of day) so 5 days ago is exactly 5 days.
    five_days = dataclasses.replace(t, silence=dataclasses.replace(t.silence, min_days=5))
    doses = [DoseRecord("x", NOW - first_days_ago * DAY, "unanswered")]
    doses += [DoseRecord("x", NOW - n * DAY, "unanswered") for n in (2, 1)]
    assert bool(silence(doses, HIGH, [], NOW, five_days)) is fires
    assert silence(doses, HIGH, [], NOW, t)  # off by default


# --- scores ----------------------------------------------------------------------------

SCORES: list[tuple[str, str, int, int | None, int | None, list[tuple[str, str]]]] = [
    ("phq9 below 10", "phq9", 9, 0, None, []),
    ("phq9 at 10", "phq9", 10, 0, None, [("prompt", "R17")]),
    ("phq9 at 19", "phq9", 19, 0, None, [("prompt", "R17")]),
    ("phq9 at 20", "phq9", 20, 0, None, [("prompt", "R16")]),
    ("phq9 at 27", "phq9", 27, 0, None, [("prompt", "R16")]),
    ("item 9 at 1", "phq9", 5, 1, None, [("urgent", "R6")]),
    ("item 9 at 2", "phq9", 5, 2, None, [("urgent", "R5")]),
    ("item 9 at 3 and severe", "phq9", 27, 3, None, [("urgent", "R5"), ("prompt", "R16")]),
    ("item 9 alone, partial PHQ-9", "phq9", 1, 1, None, [("urgent", "R6")]),
    ("item 9 unanswered", "phq9", 12, None, None, [("prompt", "R17")]),
    ("phq9 rise of 5", "phq9", 9, 0, 4, [("prompt", "R16")]),
    ("phq9 rise of 4", "phq9", 9, 0, 5, []),
    ("phq9 rise into moderate", "phq9", 15, 0, 10, [("prompt", "R17"), ("prompt", "R16")]),
    ("phq9 fall", "phq9", 5, 0, 20, []),
    ("PHQ-9 spelling", "PHQ-9", 10, 0, None, [("prompt", "R17")]),
    ("gad7 at 14", "gad7", 14, None, None, []),
    ("gad7 at 15", "gad7", 15, None, None, [("prompt", "R17")]),
    ("gad7 at 21", "GAD_7", 21, None, None, [("prompt", "R17")]),
    ("gad7 rise of 5", "gad7", 8, None, 3, [("prompt", "R17")]),
    ("gad7 rise of 4", "gad7", 8, None, 4, []),
    ("gad7 severe and rising", "gad7", 15, None, 10, [("prompt", "R17"), ("prompt", "R17")]),
    ("fibser burden 2", "fibser", 2, None, None, []),
    ("fibser burden 3", "fibser", 3, None, None, [("prompt", "R15")]),
    ("fibser burden 4", "fibser", 4, None, None, [("prompt", "R15")]),
    ("fibser burden 5", "fibser", 5, None, None, [("prompt", "R14")]),
    ("fibser burden 6", "FIBSER", 6, None, None, [("prompt", "R14")]),
]


@pytest.mark.parametrize(
    ("instrument", "total", "item9", "previous", "expected"),
    [(i, to, n, p, e) for _, i, to, n, p, e in SCORES],
    ids=[i for i, *_ in SCORES],
)
def test_it_scores_questionnaires_against_the_cut_offs(
    t: Thresholds,
    instrument: str,
    total: int,
    item9: int | None,
    previous: int | None,
    expected: list[tuple[str, str]],
) -> None:
    findings = score_rules(instrument, total, item9, previous, t)
    assert tiers(findings) == expected
    assert all(f.reason.startswith(f.rule) for f in findings)


def test_it_names_the_phq9_band_in_the_reason(t: Thresholds) -> None:
    (finding,) = score_rules("phq9", 16, 0, None, t)
    assert "moderately severe" in finding.reason


BAD_SCORES: list[tuple[str, str, int, int | None, int | None]] = [
    ("unknown instrument", "phq8", 5, None, None),
    ("phq9 above 27", "phq9", 28, 0, None),
    ("negative", "phq9", -1, 0, None),
    ("item 9 above 3", "phq9", 10, 4, None),
    ("previous above 27", "phq9", 10, 0, 30),
    ("a bool", "phq9", True, 0, None),
    ("gad7 above 21", "gad7", 22, None, None),
    ("gad7 has no item 9", "gad7", 10, 1, None),
    ("fibser above 6", "fibser", 7, None, None),
    ("fibser has no rise", "fibser", 3, None, 1),
]


@pytest.mark.parametrize(
    ("instrument", "total", "item9", "previous"),
    [(i, to, n, p) for _, i, to, n, p in BAD_SCORES],
    ids=[i for i, *_ in BAD_SCORES],
)
def test_it_rejects_impossible_scores(
    t: Thresholds, instrument: str, total: int, item9: int | None, previous: int | None
) -> None:
    with pytest.raises(ValueError):
        score_rules(instrument, total, item9, previous, t)


@pytest.mark.parametrize(("total", "positive"), [(0, False), (1, False), (2, True), (6, True)])
def test_it_triggers_the_phq9_from_the_phq2(t: Thresholds, total: int, positive: bool) -> None:
    assert phq2_positive(total, t) is positive


def test_it_rejects_an_impossible_phq2(t: Thresholds) -> None:
    with pytest.raises(ValueError):
        phq2_positive(7, t)


# --- combine ---------------------------------------------------------------------------

COMBINE: list[tuple[str, list[tuple[datetime, str]], bool, bool]] = [
    ("two urgent", [(NOW - timedelta(hours=2), "urgent"), (NOW, "urgent")], False, True),
    ("two urgent, contacted", [(NOW - timedelta(hours=2), "urgent"), (NOW, "urgent")], True, False),
    ("one urgent", [(NOW, "urgent")], False, False),
    ("urgent and prompt", [(NOW - MINUTE, "prompt"), (NOW, "urgent")], False, False),
    ("urgent and emergency", [(NOW - MINUTE, "emergency"), (NOW, "urgent")], False, True),
    ("exactly 24 h apart", [(NOW - DAY, "urgent"), (NOW, "urgent")], False, False),
    ("just inside 24 h", [(NOW - DAY + MINUTE, "urgent"), (NOW, "urgent")], False, True),
    ("one in the future", [(NOW + MINUTE, "urgent"), (NOW, "urgent")], False, False),
    (
        "three urgent",
        [(NOW - 3 * MINUTE, "urgent"), (NOW - MINUTE, "urgent"), (NOW, "urgent")],
        False,
        True,
    ),
    ("nothing", [], False, False),
]


@pytest.mark.parametrize(
    ("recent", "contacted", "fires"),
    [(r, c, f) for _, r, c, f in COMBINE],
    ids=[i for i, *_ in COMBINE],
)
def test_it_combines_urgent_signals_within_24_hours(
    t: Thresholds, recent: list[tuple[datetime, str]], contacted: bool, fires: bool
) -> None:
    findings = combine(recent, contacted, NOW, t)
    assert tiers(findings) == ([("emergency", "COMBINE")] if fires else [])
    if fires:
        assert f"{len(recent)} signals" in findings[0].reason


def test_it_rejects_an_unknown_tier_when_combining(t: Thresholds) -> None:
    with pytest.raises(ValueError, match="unknown tier"):
        combine([(NOW, "T2")], False, NOW, t)


# --- modifiers -------------------------------------------------------------------------

YOUNG = PatientContext("under_25")
OLDER = PatientContext("25_64")


def med(
    name: str,
    drug_class: str,
    started_days_ago: float | timedelta,
    changed_days_ago: float | None = None,
) -> MedicineContext:
    started = (
        started_days_ago if isinstance(started_days_ago, timedelta) else started_days_ago * DAY
    )
    changed = NOW - changed_days_ago * DAY if changed_days_ago is not None else None
    return MedicineContext(name, drug_class, NOW - started, changed, never_stop_suddenly=True)


NEW_SSRI = med("sertraline", "ssri", 10)
OLD_SSRI = med("sertraline", "ssri", 365)

MODIFIERS: list[
    tuple[
        str, str, PatientContext, list[MedicineContext], list[tuple[datetime, str]], str, list[str]
    ]
] = [
    (
        "young, new antidepressant",
        "routine",
        YOUNG,
        [NEW_SSRI],
        [],
        "prompt",
        ["young_antidepressant"],
    ),
    ("older, new antidepressant", "routine", OLDER, [NEW_SSRI], [], "routine", []),
    ("young, long-standing antidepressant", "routine", YOUNG, [OLD_SSRI], [], "routine", []),
    (
        "young, started 55 days ago",
        "prompt",
        YOUNG,
        [med("sertraline", "ssri", 55)],
        [],
        "urgent",
        ["young_antidepressant"],
    ),
    (
        "young, started exactly 8 weeks ago",
        "prompt",
        YOUNG,
        [med("sertraline", "ssri", 56)],
        [],
        "prompt",
        [],
    ),
    (
        "young, started just inside 8 weeks",
        "prompt",
        YOUNG,
        [med("sertraline", "ssri", 56 * DAY - MINUTE)],
        [],
        "urgent",
        ["young_antidepressant"],
    ),
    (
        "young, dose changed 27 days ago",
        "prompt",
        YOUNG,
        [med("sertraline", "ssri", 365, 27)],
        [],
        "urgent",
        ["young_antidepressant"],
    ),
    (
        "young, dose changed exactly 4 weeks ago",
        "prompt",
        YOUNG,
        [med("sertraline", "ssri", 365, 28)],
        [],
        "prompt",
        [],
    ),
    (
        "young, new atypical antidepressant",
        "routine",
        YOUNG,
        [med("bupropion", "atypical_antidepressant", 3)],
        [],
        "prompt",
        ["young_antidepressant"],
    ),
    (
        "young, new stimulant",
        "routine",
        YOUNG,
        [med("amphetamine", "stimulant", 3)],
        [],
        "routine",
        [],
    ),
    ("65 and over", "routine", PatientContext("65_plus"), [NEW_SSRI], [], "routine", []),
    (
        "age not recorded",
        "routine",
        PatientContext(None),
        [NEW_SSRI],
        [],
        "prompt",
        ["young_antidepressant"],
    ),
    (
        "age band not listed",
        "routine",
        PatientContext("18-24"),
        [NEW_SSRI],
        [],
        "prompt",
        ["young_antidepressant"],
    ),
    (
        "T1 29 days ago",
        "routine",
        OLDER,
        [],
        [(NOW - 29 * DAY, "emergency")],
        "prompt",
        ["recent_emergency"],
    ),
    (
        "T1 exactly 30 days ago",
        "routine",
        OLDER,
        [],
        [(NOW - 30 * DAY, "emergency")],
        "routine",
        [],
    ),
    ("T2 yesterday", "routine", OLDER, [], [(NOW - DAY, "urgent")], "routine", []),
    (
        "clozapine week 7",
        "prompt",
        OLDER,
        [med("clozapine", "antipsychotic", 49)],
        [],
        "urgent",
        ["clozapine_start"],
    ),
    (
        "clozapine exactly 8 weeks",
        "prompt",
        OLDER,
        [med("clozapine", "antipsychotic", 56)],
        [],
        "prompt",
        [],
    ),
    (
        "clozapine not started yet",
        "prompt",
        OLDER,
        [med("clozapine", "antipsychotic", -1)],
        [],
        "prompt",
        [],
    ),
    (
        "lamotrigine week 3",
        "prompt",
        OLDER,
        [med("lamotrigine", "mood_stabiliser", 21)],
        [],
        "urgent",
        ["lamotrigine_start"],
    ),
    (
        "lamotrigine month 3",
        "prompt",
        OLDER,
        [med("lamotrigine", "mood_stabiliser", 90)],
        [],
        "prompt",
        [],
    ),
    (
        "several modifiers raise once",
        "routine",
        YOUNG,
        [NEW_SSRI, med("clozapine", "antipsychotic", 7)],
        [(NOW - DAY, "emergency")],
        "prompt",
        ["young_antidepressant", "recent_emergency", "clozapine_start"],
    ),
    ("urgent to emergency", "urgent", YOUNG, [NEW_SSRI], [], "emergency", ["young_antidepressant"]),
    (
        "emergency stays emergency",
        "emergency",
        YOUNG,
        [NEW_SSRI],
        [],
        "emergency",
        ["young_antidepressant"],
    ),
    ("no signal stays none", "none", YOUNG, [NEW_SSRI], [], "none", []),
]


@pytest.mark.parametrize(
    ("tier", "patient", "medicines", "recent", "expected", "ids"),
    [(ti, p, m, r, e, i) for _, ti, p, m, r, e, i in MODIFIERS],
    ids=[i for i, *_ in MODIFIERS],
)
def test_it_applies_each_modifier_within_its_window(
    t: Thresholds,
    tier: str,
    patient: PatientContext,
    medicines: list[MedicineContext],
    recent: list[tuple[datetime, str]],
    expected: str,
    ids: list[str],
) -> None:
    assert apply_modifiers(tier, patient, medicines, recent, NOW, t) == (expected, ids)


@pytest.mark.parametrize(
    ("tier", "expected"),
    [("routine", "emergency"), ("prompt", "emergency"), ("urgent", "emergency")],
)
def test_it_stacks_modifiers_when_configured(t: Thresholds, tier: str, expected: str) -> None:
    stacking = dataclasses.replace(t, modifiers=dataclasses.replace(t.modifiers, stack=True))
    medicines = [NEW_SSRI, med("clozapine", "antipsychotic", 7)]
    recent = [(NOW - DAY, "emergency")]
    raised, ids = apply_modifiers(tier, YOUNG, medicines, recent, NOW, stacking)
    assert raised == expected
    assert len(ids) == 3


@pytest.mark.parametrize("tier", RISKS)
@pytest.mark.parametrize("stack", [False, True])
def test_it_never_lowers_a_tier(t: Thresholds, tier: str, stack: bool) -> None:
    config = dataclasses.replace(t, modifiers=dataclasses.replace(t.modifiers, stack=stack))
    for medicines, recent in [([], []), ([NEW_SSRI], [(NOW - DAY, "emergency")])]:
        raised, _ = apply_modifiers(tier, YOUNG, medicines, recent, NOW, config)
        assert RISKS.index(raised) >= RISKS.index(tier)


def test_it_rejects_an_unknown_tier_to_modify(t: Thresholds) -> None:
    with pytest.raises(ValueError, match="unknown tier"):
        apply_modifiers("T2", YOUNG, [], [], NOW, t)


HIGH_RISK = [
    ("flagged by the team", PatientContext("25_64", high_risk=True), [], True),
    ("clozapine week 3", OLDER, [med("clozapine", "antipsychotic", 21)], True),
    ("lithium week 7", OLDER, [med("lithium", "mood_stabiliser", 49)], True),
    ("lithium exactly 8 weeks", OLDER, [med("lithium", "mood_stabiliser", 56)], False),
    ("young on a new SSRI", YOUNG, [NEW_SSRI], True),
    ("adult on a new SSRI", OLDER, [NEW_SSRI], False),
    ("age unknown on a new SSRI", PatientContext(None), [NEW_SSRI], True),
    ("nothing new", OLDER, [OLD_SSRI, med("lithium", "mood_stabiliser", 400)], False),
]


@pytest.mark.parametrize(
    ("patient", "medicines", "expected"),
    [row[1:] for row in HIGH_RISK],
    ids=[row[0] for row in HIGH_RISK],
)
def test_it_decides_who_is_high_risk_for_r19(
    t: Thresholds, patient: PatientContext, medicines: list[MedicineContext], expected: bool
) -> None:
    assert high_risk(patient, medicines, NOW, t) is expected


def test_it_treats_an_unknown_band_as_the_thresholds_say(t: Thresholds) -> None:
    adult = dataclasses.replace(t, age_bands=dataclasses.replace(t.age_bands, unknown="25_64"))
    assert apply_modifiers("routine", PatientContext(None), [NEW_SSRI], [], NOW, adult) == (
        "routine",
        [],
    )
    assert apply_modifiers("routine", PatientContext(None), [NEW_SSRI], [], NOW, t)[0] == "prompt"


# --- highest and records ---------------------------------------------------------------

ROUTINE = Finding("routine", "R21", "a")
PROMPT = Finding("prompt", "R18", "b")
URGENT = Finding("urgent", "R12", "c")
URGENT_TOO = Finding("urgent", "R13", "d")


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ([], None),
        ([PROMPT], PROMPT),
        ([ROUTINE, URGENT, PROMPT], URGENT),
        ([URGENT, URGENT_TOO], URGENT),
        ([URGENT_TOO, URGENT], URGENT_TOO),
    ],
    ids=["none", "one", "highest", "first of equals", "first of equals, reversed"],
)
def test_it_picks_the_highest_finding(findings: list[Finding], expected: Finding | None) -> None:
    assert highest(findings) == expected


def test_it_rejects_an_unknown_dose_outcome() -> None:
    with pytest.raises(ValueError, match="unknown dose outcome"):
        DoseRecord("x", NOW, "skipped")  # type: ignore[arg-type]
