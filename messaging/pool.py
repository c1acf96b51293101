"""The pool of sending numbers: each patient is pinned to one number of it.

Every text to a patient (check-ins, answers, crisis replies, reminders) goes from their
own number, so the whole conversation is one thread on their phone and a STOP they send
in it covers everything we send. The send rate limit is per number
(messaging/ratelimit.py), so N numbers send N times as fast.

Rules (pure functions below, applied by `patient_number` and `follow_texted`):

1. A new patient gets the pool number with the fewest patients (ties: the first in the
   pool's order), so a number added to the pool takes the new patients until it has
   caught up.
2. A patient without a number (enrolled before the pool) gets one the same way on their
   next send; so does a patient whose number left the pool: they see a new number.
3. A patient who texts another pool number moves to it: the answer reaches the thread
   they wrote in, and a STOP or START they send there applies to the number we send from.
4. Texts to people who are not patients (clinician pages, replies to unknown senders)
   go from the number they texted, if it is in the pool, else from the pool's first.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from store.models import Message, Patient

log = logging.getLogger(__name__)


def least_used(pool: Sequence[str], counts: Mapping[str, int]) -> str:
    """The pool number with the fewest patients; ties go to the first in the pool."""
    return min(pool, key=lambda number: counts.get(number, 0))


def keeps(current: str | None, pool: Sequence[str]) -> bool:
    """Whether a patient's number still serves: assigned, and still in the pool."""
    return current is not None and current in pool


def moves_to(current: str | None, texted: str | None, pool: Sequence[str]) -> str | None:
    """The number a patient moves to by texting `texted`: another number of the pool;
    None when they stay (same number, or one outside the pool)."""
    if texted is None or texted not in pool or texted == current:
        return None
    return texted


def patients_per_number(session: Session, pool: Sequence[str]) -> dict[str, int]:
    rows = session.execute(
        select(Patient.sending_number, func.count(Patient.id))
        .where(Patient.sending_number.in_(pool))
        .group_by(Patient.sending_number)
    ).all()
    return {str(number): int(count) for number, count in rows}


def choose(session: Session, pool: Sequence[str]) -> str:
    """The number a patient enrolled now gets (rule 1)."""
    return least_used(pool, patients_per_number(session, pool))


def patient_number(session: Session, patient: Patient, pool: Sequence[str]) -> str:
    """The number to text this patient from: their own, or one assigned now (rule 2).

    The assignment is a compare-and-set on the number they had, so two workers sending
    to the same patient at once agree on one number.
    """
    current = patient.sending_number
    if current is not None and keeps(current, pool):
        return current
    chosen = choose(session, pool)
    if not _move(session, patient, current, chosen):
        session.refresh(patient, ["sending_number"])
        return patient_number(session, patient, pool)
    log.info("patient %s %s a sending number", patient.id, "got" if current is None else "moved to")
    return chosen


def follow_texted(
    session: Session, patient: Patient, texted: str | None, pool: Sequence[str]
) -> bool:
    """Move the patient to the pool number they texted (rule 3); True if they moved."""
    target = moves_to(patient.sending_number, texted, pool)
    if target is None or not _move(session, patient, patient.sending_number, target):
        return False
    log.info("patient %s moved to the sending number they texted", patient.id)
    return True


def _move(session: Session, patient: Patient, was: str | None, to: str) -> bool:
    """Compare-and-set the patient's number from `was` to `to`; False if it had changed."""
    same = Patient.sending_number.is_(None) if was is None else Patient.sending_number == was
    result = session.execute(
        update(Patient)
        .where(Patient.id == patient.id, same)
        .values(sending_number=to)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(patient, "sending_number", to)  # as stored: nothing more to flush
    return True


def reply_number(session: Session, msg: Message, pool: Sequence[str]) -> str:
    """The number for a text to someone who is not a patient (rule 4)."""
    if msg.in_reply_to_id is not None:
        texted = session.scalar(select(Message.our_number).where(Message.id == msg.in_reply_to_id))
        if texted in pool:
            return str(texted)
    return pool[0]
