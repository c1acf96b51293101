"""A scheduled mood questionnaire's row as the dialogue and the scheduler move it.

due -> queued (scheduling/mood.py starts it) -> sent (the PHQ-2's first question is
asked) -> answered (the PHQ-2 is complete) or unanswered (its period closed first). A
row never asked is skipped. Every change is a compare-and-set on the status: a start
that runs twice, or an answer that comes late, changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Result, update
from sqlalchemy.orm import Session

from store.models import MoodCheck

# The start job's entity naming the row (never passed on to Rasa).
ENTITY = "mood_check_id"


def _count(result: Result[Any]) -> int:
    return int(result.rowcount)  # type: ignore[attr-defined]


def mark_asked(session: Session, patient_id: int, at: datetime) -> int:
    """The PHQ-2 was started: the patient's started questionnaire of an open period is
    sent. Returns how many rows moved (0 when none was started, e.g. a patient's own
    mood report)."""
    return _count(
        session.execute(
            update(MoodCheck)
            .where(
                MoodCheck.patient_id == patient_id,
                MoodCheck.status == "queued",
                MoodCheck.closes_at > at,
            )
            .values(status="sent", sent_at=at)
        )
    )


def mark_answered(session: Session, patient_id: int, at: datetime) -> int:
    """The PHQ-2 is complete: the patient's asked questionnaire of an open period is
    answered. Returns how many rows moved."""
    return _count(
        session.execute(
            update(MoodCheck)
            .where(
                MoodCheck.patient_id == patient_id,
                MoodCheck.status == "sent",
                MoodCheck.closes_at > at,
            )
            .values(status="answered", answered_at=at)
        )
    )


def close_periods(session: Session, at: datetime) -> tuple[int, int]:
    """Rows whose period has closed: asked ones are unanswered, ones never asked (due, or
    started but never asked) are skipped. Returns (unanswered, skipped)."""
    unanswered = session.execute(
        update(MoodCheck)
        .where(MoodCheck.status == "sent", MoodCheck.closes_at <= at)
        .values(status="unanswered")
    )
    skipped = session.execute(
        update(MoodCheck)
        .where(MoodCheck.status.in_(("due", "queued")), MoodCheck.closes_at <= at)
        .values(status="skipped")
    )
    return _count(unanswered), _count(skipped)


def still_queued(session: Session, mood_check_id: int) -> bool:
    """Whether this started questionnaire is still waiting to be asked."""
    row = session.get(MoodCheck, mood_check_id)
    return row is not None and row.status == "queued"


def mark_skipped(session: Session, mood_check_id: int) -> None:
    """A questionnaire that cannot go out (opted out, paused, in crisis) is skipped."""
    session.execute(
        update(MoodCheck)
        .where(MoodCheck.id == mood_check_id, MoodCheck.status.in_(("due", "queued")))
        .values(status="skipped")
    )
