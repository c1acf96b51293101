"""What a patient's plan says about timing: quiet hours (the patient's, else the clinic's),
how often the mood questionnaire goes out, how long a check-in waits for its answer and
when the one reminder goes. Values left unset on the patient come from the clinic (quiet
hours) or from the settings (the rest)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import time, timedelta

from medfollow.settings import Settings
from scheduling.planner import QuietHours
from store.models import Clinic, Patient

# The federal limit (TCPA) for texts the clinic starts: 08:00 to 21:00 local.
FEDERAL_START = time(8, 0)
FEDERAL_END = time(21, 0)
DEFAULT_QUIET = QuietHours()  # 09:00-20:00, the clinic default
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_MOOD_EVERY_DAYS = 365
MAX_ANSWER_MINUTES = 24 * 60


def parse_hhmm(text: str, what: str = "time") -> time:
    match = _HHMM.match(text.strip())
    if match is None:
        raise ValueError(f"bad {what} {text!r}: expected HH:MM (24-hour), e.g. 09:00")
    return time(int(match[1]), int(match[2]))


def check_quiet(start: str, end: str) -> QuietHours:
    """The window scheduled texts may go out in, checked against the federal limit."""
    begin, finish = parse_hhmm(start, "start"), parse_hhmm(end, "end")
    if not begin < finish:
        raise ValueError(f"the window must start before it ends, got {start}-{end}")
    if begin < FEDERAL_START or finish > FEDERAL_END:
        raise ValueError(
            f"the window {start}-{end} must lie within 08:00-21:00 (the federal limit for "
            "texts the clinic starts)"
        )
    return QuietHours(begin, finish)


def quiet_hours(patient: Patient, clinic: Clinic | None) -> QuietHours:
    """The patient's own window where set, else the clinic's, else 09:00-20:00."""
    return window_of(
        patient.quiet_start,
        patient.quiet_end,
        clinic.quiet_start if clinic else None,
        clinic.quiet_end if clinic else None,
    )


@functools.lru_cache(maxsize=1024)  # pure; the same few windows recur for every patient
def window_of(
    own_start: str | None, own_end: str | None, clinic_start: str | None, clinic_end: str | None
) -> QuietHours:
    """The window from the stored strings: each end the patient's where set, else the
    clinic's, else the 09:00-20:00 default."""
    start = own_start or clinic_start or "09:00"
    end = own_end or clinic_end or "20:00"
    try:
        return check_quiet(start, end)
    except ValueError:
        # A stored window that is no longer valid (e.g. only one end set on the patient
        # and it crosses the clinic's other end): the stricter default, never wider.
        return DEFAULT_QUIET


def check_plan(
    mood_every_days: int | None, answer_minutes: int | None, reminder_minutes: int | None
) -> None:
    """Errors for plan values out of range (None: keep the default)."""
    if mood_every_days is not None and not 0 <= mood_every_days <= MAX_MOOD_EVERY_DAYS:
        raise ValueError(f"mood questionnaires every 0-{MAX_MOOD_EVERY_DAYS} days (0: never)")
    if answer_minutes is not None and not 10 <= answer_minutes <= MAX_ANSWER_MINUTES:
        raise ValueError(f"a check-in waits 10-{MAX_ANSWER_MINUTES} minutes for its answer")
    if reminder_minutes is not None and reminder_minutes < 1:
        raise ValueError("the reminder wait must be at least one minute")
    if (
        answer_minutes is not None
        and reminder_minutes is not None
        and reminder_minutes >= answer_minutes
    ):
        raise ValueError("the reminder must come before the answer window closes")


@dataclass(frozen=True)
class Waits:
    """How long a check-in waits for its answer, and when its one reminder goes."""

    answer: timedelta
    reminder: timedelta


def waits(patient: Patient, settings: Settings) -> Waits:
    return waits_of(patient.answer_window_minutes, patient.reminder_after_minutes, settings)


def waits_of(answer_minutes: int | None, reminder_minutes: int | None, settings: Settings) -> Waits:
    """The waits from the plan's stored minutes (None: the settings' default)."""
    answer = answer_minutes or settings.checkin_answer_minutes
    reminder = reminder_minutes or settings.checkin_reminder_minutes
    return Waits(timedelta(minutes=answer), timedelta(minutes=min(reminder, answer - 1)))


def mood_every_days(patient: Patient, settings: Settings) -> int:
    """Days between mood questionnaires; 0 means none."""
    return mood_every_of(patient.mood_every_days, settings)


def mood_every_of(stored: int | None, settings: Settings) -> int:
    """Days between mood questionnaires from the plan's stored value (None: the default)."""
    return stored if stored is not None else settings.mood_every_days


def conversation_quiet(settings: Settings) -> timedelta:
    """A check-in waits until the patient's conversation has been quiet this long."""
    return timedelta(minutes=settings.conversation_quiet_minutes)


def set_clinic_quiet(clinic: Clinic, start: str, end: str) -> QuietHours:
    """Change the clinic's window (checked first: nothing changes on an error)."""
    quiet = check_quiet(start, end)
    clinic.quiet_start, clinic.quiet_end = (
        quiet.start.strftime("%H:%M"),
        quiet.end.strftime("%H:%M"),
    )
    return quiet


def set_patient_quiet(
    patient: Patient,
    clinic: Clinic | None,
    start: str | None,
    end: str | None,
    *,
    patient_asked: bool = False,
) -> QuietHours:
    """The patient's own window; None for both goes back to the clinic's. One end alone
    keeps the clinic's other end, and the result must still be a valid window. Wider
    than 09:00-20:00 only when the patient asked for it (the caller records that)."""
    effective_start = start or (clinic.quiet_start if clinic else "09:00")
    effective_end = end or (clinic.quiet_end if clinic else "20:00")
    quiet = check_quiet(effective_start, effective_end)
    wider = quiet.start < DEFAULT_QUIET.start or quiet.end > DEFAULT_QUIET.end
    if (start or end) and wider and not patient_asked:
        raise ValueError(
            "a patient's window may go beyond 09:00-20:00 only when the patient asked for "
            "it (--patient-asked)"
        )
    patient.quiet_start = parse_hhmm(start).strftime("%H:%M") if start else None
    patient.quiet_end = parse_hhmm(end).strftime("%H:%M") if end else None
    return quiet


def set_plan(
    patient: Patient,
    *,
    mood_every_days: int | None,
    answer_minutes: int | None,
    reminder_minutes: int | None,
    settings: Settings,
) -> None:
    """Change the plan's cadence and waits (None: leave as is), checked as a whole against
    the values that will be in force."""
    check_plan(mood_every_days, answer_minutes, reminder_minutes)
    answer = answer_minutes or patient.answer_window_minutes or settings.checkin_answer_minutes
    reminder = (
        reminder_minutes or patient.reminder_after_minutes or settings.checkin_reminder_minutes
    )
    check_plan(None, answer, reminder)
    if mood_every_days is not None:
        patient.mood_every_days = mood_every_days
    if answer_minutes is not None:
        patient.answer_window_minutes = answer_minutes
    if reminder_minutes is not None:
        patient.reminder_after_minutes = reminder_minutes


def plan_record(patient: Patient, clinic: Clinic | None, settings: Settings) -> dict[str, object]:
    """The plan's scheduling settings in force, for `patient show` and the CLI."""
    quiet = quiet_hours(patient, clinic)
    wait = waits(patient, settings)
    return {
        "quiet_hours": f"{quiet.start:%H:%M}-{quiet.end:%H:%M}",
        "quiet_hours_own": patient.quiet_start is not None or patient.quiet_end is not None,
        "mood_every_days": mood_every_days(patient, settings),
        "answer_window_minutes": int(wait.answer.total_seconds() // 60),
        "reminder_after_minutes": int(wait.reminder.total_seconds() // 60),
    }


def check_defaults(settings: Settings) -> None:
    """The scheduling settings, checked when the scheduler starts (a clear error, not a
    scheduler that plans nothing)."""
    from medfollow.settings import SettingsError

    try:
        check_plan(
            settings.mood_every_days,
            settings.checkin_answer_minutes,
            settings.checkin_reminder_minutes,
        )
        parse_hhmm(settings.mood_check_time, "MOOD_CHECK_TIME")
    except ValueError as exc:
        raise SettingsError(f"scheduling settings: {exc}") from None
    if settings.conversation_quiet_minutes < 0 or settings.scheduler_stale_seconds < 10:
        raise SettingsError(
            "CONVERSATION_QUIET_MINUTES must be 0 or more and SCHEDULER_STALE_SECONDS 10 or more"
        )
    if settings.checkin_send_deadline_seconds < 60:
        raise SettingsError("CHECKIN_SEND_DEADLINE_SECONDS must be 60 or more")
