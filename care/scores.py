"""Questionnaire answers, stored one item at a time as each answer arrives."""

from __future__ import annotations

from sqlalchemy.orm import Session

from store.models import Score


def items_of(score: Score) -> dict[int, int]:
    pairs = (p.split("=") for p in score.items.split(",") if p)
    return {int(k): int(v) for k, v in pairs}


def save_item(
    session: Session, patient_id: int, score_id: int | None, instrument: str, item: int, value: int
) -> Score:
    """Add one item's answer to the patient's open score (created on the first answer)."""
    score = session.get(Score, score_id) if score_id else None
    if score is None or score.patient_id != patient_id or score.complete:
        score = Score(patient_id=patient_id, instrument=instrument, items="")
        session.add(score)
    answers = items_of(score)
    answers[item] = value
    score.items = ",".join(f"{k}={v}" for k, v in sorted(answers.items()))
    score.instrument = instrument
    score.total = sum(answers.values())
    session.flush()
    return score


def finish(session: Session, score_id: int, instrument: str) -> Score | None:
    score = session.get(Score, score_id)
    if score is not None:
        score.complete, score.instrument = True, instrument
    return score


def previous_total(session: Session, patient_id: int, before_id: int) -> int | None:
    """The total of the patient's last completed PHQ-9 before this one (for a rise)."""
    from sqlalchemy import select

    return session.scalars(
        select(Score.total)
        .where(
            Score.patient_id == patient_id,
            Score.instrument == "PHQ-9",
            Score.complete.is_(True),
            Score.id < before_id,
        )
        .order_by(Score.id.desc())
    ).first()
