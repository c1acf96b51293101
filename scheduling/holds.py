"""Texts held for the patient's quiet-hours window (status `held`, `send_after` set):
released when the window opens, by the scheduler's sweep, once each.

Only texts the clinic starts are ever held (messaging.outbound.HOLDABLE: a plan change's
notice). The send path never sees a held text: it sends `pending` ones only, so the
release, a compare-and-set from `held` to `pending`, is what lets one go, and the flush
job it queues sends it in the patient's order. A text whose `send_after` has passed
while the patient is still outside the window (the scheduler was down until after the
window closed, or the window changed) is held again until the window next opens.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text, update

from conversation.jobs import enqueue_flush
from medfollow.runtime import Runtime
from scheduling.gate import window_opens
from store.models import IN_FLIGHT, Clinic, Message, Patient, utcnow


def release_held(rt: Runtime, now: datetime | None = None) -> int:
    """Release every held text whose time has come and whose patient's window is open
    now; queue one flush per patient. Returns how many texts were released."""
    at = now or utcnow()
    patients: set[int] = set()
    released = 0
    with rt.sessions.begin() as session:
        due = session.execute(
            select(Message.id, Message.patient_id, Message.send_after)
            # Every second: the partial index of texts in flight, never the history.
            .where(text(IN_FLIGHT), Message.status == "held", Message.send_after <= at)
            .order_by(Message.id)
        ).all()
        for message_id, patient_id, send_after in due:
            patient = session.get(Patient, patient_id) if patient_id is not None else None
            clinic = session.get(Clinic, patient.clinic_id) if patient is not None else None
            later = window_opens(patient, clinic, at) if patient is not None else None
            if later is not None:
                session.execute(
                    update(Message)
                    .where(Message.id == message_id, Message.status == "held")
                    .where(Message.send_after == send_after)
                    .values(send_after=later)
                )
                continue
            moved = session.execute(
                update(Message)
                .where(Message.id == message_id, Message.status == "held")
                .values(status="pending")
            )
            if moved.rowcount == 1:  # type: ignore[attr-defined]
                released += 1
                if patient_id is not None:
                    patients.add(patient_id)
    for patient_id in sorted(patients):
        enqueue_flush(rt, patient_id)
    return released
