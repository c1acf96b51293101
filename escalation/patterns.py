"""Risk rules that look over time: missed-dose streaks, adherence, silence, scores,
several signals together, and the tier modifiers. Pure.

No database, no I/O, no clock: dataclasses in, :class:`Finding` lists out, and ``now``
is always passed in. Every cut-off comes from :class:`escalation.thresholds.Thresholds`
(the clinic's escalation/thresholds.yaml); the R-numbers are the research summary's rule
table (shared/clinical/RISK_AND_COMPLIANCE.md §7.2).

Conventions:

- Tiers are :data:`escalation.rules.RISKS`: none < routine < prompt < urgent < emergency.
- Windows are half-open: "within N days of ``now``" means after ``now - N days`` and at
  or before ``now``. Anything after ``now`` is in the future and is ignored (a dose
  scheduled later today only tells :func:`missed_streaks` that today is not over).
- A :class:`DoseRecord` is one scheduled dose check-in of one medicine with its final
  outcome so far. ``"unanswered"`` means the check-in's reply window closed without a
  reply; the caller decides when that is. ``"later"`` ("I'll take it later") is an
  answer but not a confirmed dose.
- Reasons name medicines and scores for the care team. They are clinical content: show
  them to clinicians, never log them.

Order for a caller (escalation/context.py does this for every live alert): the base tier
is the highest of the message assessment (:func:`escalation.rules.assess`) and these
findings; then :func:`apply_modifiers`; then :func:`combine` over the recent alert tiers,
which were stored after their own modifiers, so the new signal is compared like with
like. No function here ever lowers a tier.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from fractions import Fraction
from typing import Literal, get_args

from escalation.rules import RISKS, higher
from escalation.thresholds import (
    FIBSER_MAX,
    GAD7_MAX,
    ITEM9_MAX,
    PHQ9_MAX,
    Rise,
    Step,
    Thresholds,
    first_step,
)

Outcome = Literal["taken", "missed", "unanswered", "later"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
# A dose the patient answered for (the check-in was not silent).
ANSWERED = ("taken", "missed", "later")


@dataclass(frozen=True)
class DoseRecord:
    medication: str
    scheduled_at: datetime
    outcome: Outcome

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown dose outcome {self.outcome!r}")


@dataclass(frozen=True)
class MedicineContext:
    """One of the patient's medicines: when it started and when its dose last changed."""

    name: str
    drug_class: str
    started_at: datetime | None = None
    changed_at: datetime | None = None
    never_stop_suddenly: bool = False


@dataclass(frozen=True)
class PatientContext:
    """``age_band``: one of the thresholds' age bands ("under_25"), or None when not
    recorded; ``high_risk`` as flagged by the team."""

    age_band: str | None
    high_risk: bool = False


@dataclass(frozen=True)
class Finding:
    tier: str
    rule: str
    reason: str


def _rank(tier: str) -> int:
    if tier not in RISKS:
        raise ValueError(f"unknown tier {tier!r}; expected one of {', '.join(RISKS)}")
    return RISKS.index(tier)


def _within(at: datetime | None, now: datetime, window: timedelta) -> bool:
    return at is not None and now - window < at <= now


def _name(name: str) -> str:
    return name.strip().lower()


def highest(findings: Iterable[Finding]) -> Finding | None:
    """The finding with the highest tier; the first of equals. None when there are none."""
    best: Finding | None = None
    for finding in findings:
        if best is None or _rank(finding.tier) > _rank(best.tier):
            best = finding
    return best


# --- Missed-dose streaks -------------------------------------------------------------


def missed_streak(
    doses: Sequence[DoseRecord], medication: str, now: datetime, *, tz: tzinfo | None = None
) -> int:
    """Consecutive missed days of one medicine, ending at the latest scheduled day.

    A missed day is a local day on which every scheduled dose of the medicine was
    reported "missed". Only "missed" counts: a day with an "unanswered" dose is not a
    missed day and ends the streak (silence is :func:`silence`'s business), and so does
    a day with a "taken" or "later" dose. Days with nothing scheduled are skipped, so a
    Mon/Wed/Fri medicine missed on Monday and Wednesday has a streak of 2. A day that
    still has a dose scheduled after ``now`` is not over: it neither counts nor ends the
    streak, unless a dose already taken (or "later") ends it.

    The local day is ``scheduled_at.date()`` in ``tz`` (default: the datetimes' own zone;
    pass the patient's zone).
    """
    key = _name(medication)

    def day_of(at: datetime) -> date:
        return (at.astimezone(tz) if tz else at).date()

    past: dict[date, list[str]] = {}
    open_days: set[date] = set()
    for dose in doses:
        if _name(dose.medication) != key:
            continue
        day = day_of(dose.scheduled_at)
        if dose.scheduled_at > now:
            open_days.add(day)
        else:
            past.setdefault(day, []).append(dose.outcome)
    streak = 0
    for day in sorted(past, reverse=True):
        outcomes = past[day]
        if day in open_days:
            if any(o in ("taken", "later") for o in outcomes):
                break
            continue
        if all(o == "missed" for o in outcomes):
            streak += 1
        else:
            break
    return streak


def missed_streaks(
    doses: Sequence[DoseRecord],
    medicines: Sequence[MedicineContext],
    now: datetime,
    t: Thresholds,
    *,
    tz: tzinfo | None = None,
) -> list[Finding]:
    """A finding per medicine whose missed-day streak reaches its rule (§4.1, R12/R13/R18).

    The first ``missed_days`` rule matching the medicine applies. A dose of a medicine
    not in ``medicines`` is matched by name only (no class, not flagged never-stop).
    Run this whenever a dose outcome is recorded, so a streak is seen when it reaches
    its threshold (a dose taken afterwards ends it).
    """
    context = {_name(m.name): m for m in medicines}
    names = sorted({_name(d.medication) for d in doses} | set(context))
    findings: list[Finding] = []
    for name in names:
        med = context.get(name)
        rule = t.missed_days_rule(
            name, med.drug_class if med else "", med.never_stop_suddenly if med else False
        )
        days = missed_streak(doses, name, now, tz=tz)
        if days >= rule.at_least:
            flag = " (never stop suddenly)" if med and med.never_stop_suddenly else ""
            findings.append(
                Finding(
                    rule.tier,
                    rule.rule,
                    f"{rule.rule} {name}{flag}: {days} consecutive day(s) with every dose "
                    f"missed (threshold {rule.at_least})",
                )
            )
    return findings


# --- Adherence ---------------------------------------------------------------------


def _adherence(
    doses: Sequence[DoseRecord], days: int, now: datetime, min_scheduled: int
) -> tuple[int, int] | None:
    """(confirmed taken, scheduled) in the window, or None below ``min_scheduled``."""
    window = timedelta(days=days)
    scheduled = [d for d in doses if _within(d.scheduled_at, now, window)]
    if len(scheduled) < min_scheduled:
        return None
    return sum(d.outcome == "taken" for d in scheduled), len(scheduled)


def adherence_rate(
    doses: Sequence[DoseRecord], days: int, now: datetime, *, min_scheduled: int = 7
) -> float | None:
    """Doses confirmed taken ÷ doses scheduled in the ``days`` before ``now``.

    Every scheduled dose counts, answered or not; only "taken" is confirmed ("later" is
    not). None when fewer than ``min_scheduled`` doses were scheduled. This is the SMS
    confirmed-dose rate, a separate metric from PDC (which needs pharmacy fill data).
    """
    counts = _adherence(doses, days, now, min_scheduled)
    return None if counts is None else counts[0] / counts[1]


def low_adherence(doses: Sequence[DoseRecord], now: datetime, t: Thresholds) -> list[Finding]:
    """R18: the confirmed-dose rate over the rolling window is below the threshold."""
    a = t.adherence
    counts = _adherence(doses, a.window_days, now, a.min_scheduled)
    # Exact arithmetic: 8 of 10 at a threshold of 0.80 is not below it.
    if counts is None or Fraction(*counts) >= Fraction(str(a.below)):
        return []
    taken, scheduled = counts
    return [
        Finding(
            a.tier,
            a.rule,
            f"{a.rule} confirmed-dose rate {taken / scheduled:.0%} ({taken} of {scheduled} "
            f"scheduled doses) over {a.window_days} days, below {a.below:.0%} "
            "(SMS confirmations, not PDC)",
        )
    ]


# --- Silence -------------------------------------------------------------------------


def _recent(
    recent_alert_tiers: Sequence[tuple[datetime, str]],
    tiers: Iterable[str],
    now: datetime,
    window: timedelta,
) -> bool:
    wanted = set(tiers)
    return any(tier in wanted and _within(at, now, window) for at, tier in recent_alert_tiers)


def high_risk(
    patient: PatientContext, medicines: Sequence[MedicineContext], now: datetime, t: Thresholds
) -> bool:
    """R19's high-risk patient: flagged by the team, or a ``silence.high_risk_starts``
    medicine (clozapine, lithium) started within its window, or under 25 (the age band
    may be) starting an antidepressant or after a dose change (the modifier's rule).
    Recent urgent or emergency alerts count too, inside :func:`silence`."""
    s = t.silence
    window = timedelta(days=s.start_within_days)
    started = any(
        _name(med.name) in s.start_names and _within(med.started_at, now, window)
        for med in medicines
    )
    return patient.high_risk or started or _young_on_new_antidepressant(patient, medicines, now, t)


def silence(
    doses: Sequence[DoseRecord],
    patient: PatientContext,
    recent_alert_tiers: Sequence[tuple[datetime, str]],
    now: datetime,
    t: Thresholds,
) -> list[Finding]:
    """R19: a high-risk patient left the last N check-ins unanswered.

    A check-in is the doses scheduled at one instant (one message may ask about several
    medicines); it is unanswered when none of its doses has an answer. The patient is
    high-risk when flagged so, or when a T1/T2 alert (``silence.recent_tiers``) was
    raised in the prior ``recent_within_days``, which also raises the tier (R19's "T2 if
    a T1/T2 event occurred in the prior 14 days").
    """
    s = t.silence
    for _, tier in recent_alert_tiers:
        _rank(tier)
    recent = _recent(recent_alert_tiers, s.recent_tiers, now, timedelta(days=s.recent_within_days))
    if not (patient.high_risk or recent):
        return []
    checkins: dict[datetime, bool] = {}
    for dose in doses:
        if dose.scheduled_at <= now:
            answered = dose.outcome in ANSWERED
            checkins[dose.scheduled_at] = checkins.get(dose.scheduled_at, False) or answered
    run: list[datetime] = []
    for at in sorted(checkins, reverse=True):
        if checkins[at]:
            break
        run.append(at)
    if len(run) < s.unanswered_checkins:
        return []
    first = run[-1]
    if s.min_days and now - first < timedelta(days=s.min_days):
        return []
    tier = higher(s.tier, s.recent_tier) if recent else s.tier
    why = f"; a T1/T2 alert in the prior {s.recent_within_days} days" if recent else ""
    return [
        Finding(
            tier,
            s.rule,
            f"{s.rule} no reply to the last {len(run)} check-ins, since "
            f"{first:%Y-%m-%d %H:%M %Z}".rstrip()
            + why,
        )
    ]


# --- Questionnaire scores ------------------------------------------------------------

INSTRUMENTS = {
    "phq9": ("PHQ-9", PHQ9_MAX),
    "gad7": ("GAD-7", GAD7_MAX),
    "fibser": ("FIBSER", FIBSER_MAX),
}


def _check(label: str, name: str, value: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= hi:
        raise ValueError(f"{label} {name} must be a whole number from 0 to {hi}, not {value!r}")


def phq2_positive(total: int, t: Thresholds) -> bool:
    """The PHQ-2 total calls for the full PHQ-9."""
    _check("PHQ-2", "total", total, 6)
    return total >= t.phq2_trigger


def score_rules(
    instrument: str,
    total: int,
    item9: int | None,
    previous_total: int | None,
    t: Thresholds,
) -> list[Finding]:
    """Findings for a PHQ-9, GAD-7 or FIBSER result (R5, R6, R14-R17).

    ``instrument``: "phq9", "gad7" or "fibser" (case, "-" and "_" ignored). For FIBSER,
    ``total`` is the burden item (0-6). ``item9`` is PHQ-9 only: pass it as soon as it is
    answered, even for a partial PHQ-9. ``previous_total`` is the score to compare a rise
    against (the previous PHQ-9; for GAD-7 the research summary says "since baseline",
    so pass the baseline if that is the clinic's choice); FIBSER has no rise rule.

    Every rule that fires is reported (an item-9 finding and a total finding together),
    so the care team sees all the reasons; :func:`highest` picks the tier.
    """
    key = instrument.lower().replace("-", "").replace("_", "").strip()
    if key not in INSTRUMENTS:
        raise ValueError(f"unknown instrument {instrument!r}; expected PHQ-9, GAD-7 or FIBSER")
    label, hi = INSTRUMENTS[key]
    _check(label, "total", total, hi)
    if item9 is not None:
        if key != "phq9":
            raise ValueError(f"{label} has no item 9")
        _check(label, "item 9", item9, ITEM9_MAX)
    if previous_total is not None:
        if key == "fibser":
            raise ValueError("FIBSER has no rise rule")
        _check(label, "previous total", previous_total, hi)

    findings: list[Finding] = []

    def step(steps: tuple[Step, ...], value: int, what: str) -> None:
        s = first_step(steps, value)
        if s:
            findings.append(Finding(s.tier, s.rule, f"{s.rule} {what} (at least {s.at_least})"))

    def rise(r: Rise) -> None:
        if previous_total is not None and total - previous_total >= r.by:
            findings.append(
                Finding(
                    r.tier,
                    r.rule,
                    f"{r.rule} {label} rose {total - previous_total} points, "
                    f"{previous_total} to {total} (at least {r.by})",
                )
            )

    if key == "phq9":
        if item9 is not None:
            step(t.phq9.item9, item9, f"PHQ-9 item 9 = {item9}")
        step(t.phq9.total, total, f"PHQ-9 total {total}, {t.phq9.band(total)}")
        rise(t.phq9.rise)
    elif key == "gad7":
        step(t.gad7.total, total, f"GAD-7 total {total}")
        rise(t.gad7.rise)
    else:
        step(t.fibser.burden, total, f"FIBSER burden {total}")
    return findings


# --- Several signals together --------------------------------------------------------


def combine(
    recent: Sequence[tuple[datetime, str]], contacted: bool, now: datetime, t: Thresholds
) -> list[Finding]:
    """Several signals at ``combine.min_tier`` or higher within the window, and no
    clinician contact yet -> ``combine.tier`` (§7.2: several T2 signals in 24 h -> T1).

    ``recent``: (raised at, tier) of the patient's signals, the current one included.
    ``contacted``: a clinician has reached the patient since the earliest of them.
    """
    c = t.combine
    floor = _rank(c.min_tier)
    hits = [
        at
        for at, tier in recent
        if _rank(tier) >= floor and _within(at, now, timedelta(hours=c.within_hours))
    ]
    if contacted or len(hits) < c.at_least:
        return []
    return [
        Finding(
            c.tier,
            c.rule,
            f"{c.rule} {len(hits)} signals at {c.min_tier} or higher within "
            f"{c.within_hours} h and no clinician contact yet",
        )
    ]


# --- Modifiers -----------------------------------------------------------------------


def _may_be_under(age_band: str | None, age: int, t: Thresholds) -> bool:
    """True when someone in the band may be younger than ``age``. A band that is not
    recorded or not listed counts as the thresholds' ``age_bands.unknown`` band."""
    return t.age_bands.youngest(age_band) < age


def _young_on_new_antidepressant(
    patient: PatientContext, medicines: Sequence[MedicineContext], now: datetime, t: Thresholds
) -> bool:
    y = t.modifiers.young_antidepressant
    return _may_be_under(patient.age_band, y.under_age, t) and any(
        _name(med.drug_class) in y.classes
        and (
            _within(med.started_at, now, timedelta(days=y.start_within_days))
            or _within(med.changed_at, now, timedelta(days=y.change_within_days))
        )
        for med in medicines
    )


def apply_modifiers(
    tier: str,
    patient: PatientContext,
    medicines: Sequence[MedicineContext],
    recent_alert_tiers: Sequence[tuple[datetime, str]],
    now: datetime,
    t: Thresholds,
) -> tuple[str, list[str]]:
    """The tier raised by the §7.2 modifiers, and the ids of the modifiers that applied.

    - ``young_antidepressant``: the age band may be under ``under_age`` (an unknown
      band counts as ``age_bands.unknown``, the youngest by default) and an
      antidepressant started within ``start_within_days`` or had its dose changed within
      ``change_within_days``.
    - ``recent_emergency``: an alert of that tier within ``within_days``.
    - ``medicine_start`` ids (clozapine_start, lamotrigine_start): the medicine started
      within ``within_days``.

    Raises by ``raise_by`` once whatever the number of modifiers, or once per modifier
    when ``stack`` is set. Never lowers; emergency stays emergency (its modifiers are
    still reported). "none" (no signal) is returned unchanged with no modifiers.
    """
    rank = _rank(tier)
    for _, recent_tier in recent_alert_tiers:
        _rank(recent_tier)
    if tier == "none":
        return tier, []
    m = t.modifiers
    ids: list[str] = []
    if _young_on_new_antidepressant(patient, medicines, now, t):
        ids.append("young_antidepressant")
    r = m.recent_emergency
    if _recent(recent_alert_tiers, (r.tier,), now, timedelta(days=r.within_days)):
        ids.append("recent_emergency")
    for start in m.medicine_start:
        window = timedelta(days=start.within_days)
        if any(
            _name(med.name) in start.names and _within(med.started_at, now, window)
            for med in medicines
        ):
            ids.append(start.id)
    steps = m.raise_by * (len(ids) if m.stack else min(len(ids), 1))
    return RISKS[min(rank + steps, len(RISKS) - 1)], ids
