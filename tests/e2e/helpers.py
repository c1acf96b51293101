"""Helpers for end-to-end tests: post as Twilio over HTTP, and wait for replies."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import requests
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from medfollow.runtime import Runtime
from scheduling.planner import WEEKDAYS
from store.enrolment import MedSpec, enrol, ensure_clinic
from store.models import Message, Patient

T = TypeVar("T")


def post_sms(rt: Runtime, phone: str, body: str, sid: str | None = None) -> requests.Response:
    s = rt.settings
    params = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": s.twilio_account_sid,
        "From": phone,
        "To": s.twilio_from_number,
        "Body": body,
        "NumMedia": "0",
    }
    url = f"{s.public_base_url}/twilio/sms"
    signature = RequestValidator(s.twilio_auth_token.reveal()).compute_signature(url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=15)


def enrol_patient(rt: Runtime, phone: str, name: str) -> Patient:
    """A patient whose scheduled doses fall three days from now only, so the scheduler
    (which plans a day ahead) never sends them a check-in in the middle of a test."""
    s = rt.settings
    with rt.sessions.begin() as session:
        clinic = ensure_clinic(session, s.clinic_name, s.clinic_phone, s.clinic_hours)
        patient = enrol(
            session,
            clinic,
            phone=phone,
            name=name,
            tz="America/New_York",
            meds=[MedSpec("sertraline", "50mg", ("09:00",))],
            consent="v1",
            # An adult: an unknown age band counts as under 25 (the conservative default),
            # which would lift every alert of a patient starting an antidepressant.
            age_band="25_64",
        )
        later = (datetime.now(UTC) + timedelta(days=3)).weekday()
        patient.regimen[0].days = WEEKDAYS[later]
        return patient


def thread(rt: Runtime, patient_id: int) -> list[Message]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(Message).where(Message.patient_id == patient_id).order_by(Message.id)
            )
        )


def wait_for(check: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
