"""A scheduled check-in on the real stack: planned, sent at its time, answered, recorded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from medfollow.runtime import Runtime
from medfollow.stack import Stack
from store.enrolment import MedSpec, enrol, ensure_clinic
from tests.e2e.helpers import post_sms, thread, wait_for

ZONES = (
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Europe/Berlin",
    "America/Sao_Paulo",
)


def zone_in_daytime() -> ZoneInfo:
    """A zone where it is daytime now, so the check-in is inside quiet hours' window."""
    for name in ZONES:
        zone = ZoneInfo(name)
        if 10 <= datetime.now(zone).hour < 18:
            return zone
    raise AssertionError("no listed zone is in daytime (add one)")


def test_it_sends_a_due_checkin_and_records_the_answer(stack: tuple[Stack, Runtime]) -> None:
    _, rt = stack
    zone = zone_in_daytime()
    due = (datetime.now(zone) + timedelta(minutes=2)).strftime("%H:%M")
    s = rt.settings
    with rt.sessions.begin() as session:
        clinic = ensure_clinic(session, s.clinic_name, s.clinic_phone, s.clinic_hours)
        patient = enrol(
            session,
            clinic,
            phone="+15555550601",
            name="Jules Example",
            tz=str(zone),
            meds=[MedSpec("sertraline", "50mg", (due,))],
            consent="v1",
        )
        patient_id, phone = patient.id, patient.phone
    question = wait_for(
        lambda: [m for m in thread(rt, patient_id) if m.kind == "checkin"],
        150,
        "the scheduled check-in",
    )[0]
    assert "did you take" in question.body
    assert post_sms(rt, phone, "yep took it").status_code == 200
    env = {**os.environ, "DATABASE_URL": s.database_url.reveal()}
    medfollow = str(Path(sys.executable).parent / "medfollow")

    def recorded() -> list[dict[str, object]] | None:
        shown = subprocess.run(
            [medfollow, "patient", "show", "--phone", phone, "--json"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        events: list[dict[str, object]] = json.loads(shown.stdout)["dose_events"]
        return events or None

    events = wait_for(recorded, 30, "the dose event")
    assert [e["outcome"] for e in events] == ["taken"]
