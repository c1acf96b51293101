"""The §7.2 modifiers applied live: every alert's tier is decided with the patient's age
band, medicines (when each started or had its dose changed) and recent alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from care.plans import change_regimen
from escalation.alerts import raise_alert
from escalation.context import medicine_contexts
from escalation.policy import load_policy
from medfollow.runtime import Runtime
from store.enrolment import MedSpec
from store.models import Alert, Message, Patient, utcnow
from tests.conftest import make_patient, signed_post, sms_params

POLICY = load_policy()
SSRI = MedSpec("sertraline", "50mg", ("09:00",))


def enrolled(rt: Runtime, band: str | None, meds: list[MedSpec], days_ago: int = 0) -> Patient:
    """A patient whose medicines entered the plan ``days_ago``."""
    patient = make_patient(rt, age_band=band, meds=meds)
    with rt.sessions.begin() as session:
        for entry in session.get_one(Patient, patient.id).regimen:
            entry.started_at = utcnow() - timedelta(days=days_ago)
    return patient


def signal(rt: Runtime, patient: Patient, tier: str, kind: str = "R15") -> tuple[Alert, bool]:
    with rt.sessions.begin() as session:
        raised = raise_alert(
            session, POLICY, patient_id=patient.id, tier=tier, kind=kind, rules=[kind], summary="t"
        )
    with rt.sessions() as session:
        alert = session.get_one(Alert, raised.alert_id)
    assert alert.tier == raised.tier
    return alert, raised.page


LIVE: list[tuple[str, str | None, list[MedSpec], int, str, str, list[str]]] = [
    ("young on a new SSRI", "under_25", [SSRI], 3, "prompt", "urgent", ["young_antidepressant"]),
    ("adult on a new SSRI", "25_64", [SSRI], 3, "prompt", "prompt", []),
    ("young, SSRI for a year", "under_25", [SSRI], 365, "prompt", "prompt", []),
    ("age not recorded", None, [SSRI], 3, "routine", "prompt", ["young_antidepressant"]),
    (
        "clozapine week 2",
        "25_64",
        [MedSpec("clozapine", "100mg", ("20:00",))],
        14,
        "urgent",
        "emergency",
        ["clozapine_start"],
    ),
    (
        "lamotrigine month 4",
        "65_plus",
        [MedSpec("lamotrigine", "100mg", ("08:00",))],
        120,
        "urgent",
        "urgent",
        [],
    ),
]


@pytest.mark.parametrize(
    ("band", "meds", "days_ago", "tier", "expected", "modifiers"),
    [row[1:] for row in LIVE],
    ids=[row[0] for row in LIVE],
)
def test_it_raises_a_live_alert_by_the_patients_modifiers(
    rt: Runtime,
    band: str | None,
    meds: list[MedSpec],
    days_ago: int,
    tier: str,
    expected: str,
    modifiers: list[str],
) -> None:
    patient = enrolled(rt, band, meds, days_ago)
    alert, _ = signal(rt, patient, tier)
    assert alert.tier == expected
    assert alert.rules.split(",") == ["R15", *(f"modifier:{m}" for m in modifiers)]


def test_it_pages_a_prompt_item_the_modifiers_make_urgent(rt: Runtime) -> None:
    patient = enrolled(rt, "under_25", [SSRI], 3)
    _, page = signal(rt, patient, "prompt")
    assert page is True, "urgent is paged; the prompt item alone would not be"


def test_it_raises_every_alert_for_30_days_after_an_emergency(rt: Runtime) -> None:
    patient = enrolled(rt, "25_64", [SSRI], 365)
    signal(rt, patient, "emergency", kind="suicidality")
    alert, _ = signal(rt, patient, "routine", kind="R22")
    assert (alert.tier, alert.rules) == ("prompt", "R22,modifier:recent_emergency")
    with rt.sessions.begin() as session:
        for old in session.scalars(select(Alert).where(Alert.patient_id == patient.id)):
            old.created_at = utcnow() - timedelta(days=30, minutes=1)
    later, _ = signal(rt, patient, "routine", kind="R21")
    assert later.tier == "routine"


def test_it_does_not_count_the_alert_a_signal_joins_as_a_recent_emergency(rt: Runtime) -> None:
    patient = enrolled(rt, "25_64", [SSRI], 365)
    first, _ = signal(rt, patient, "emergency", kind="suicidality")
    joined, page = signal(rt, patient, "emergency", kind="suicidality")
    assert joined.id == first.id and page is False
    assert joined.rules == "suicidality" and joined.signals == 2


def test_it_keeps_the_given_tier_when_told_not_to_modify(rt: Runtime) -> None:
    patient = enrolled(rt, "under_25", [SSRI], 3)
    with rt.sessions.begin() as session:
        raised = raise_alert(
            session,
            POLICY,
            patient_id=patient.id,
            tier="urgent",
            kind="page_failed",
            rules=["R20"],
            summary="t",
            modify=False,
        )
    assert raised.tier == "urgent"


def test_it_reads_starts_and_dose_changes_from_the_regimen_history(rt: Runtime) -> None:
    patient = enrolled(rt, "25_64", [SSRI, MedSpec("lithium", "300mg", ("08:00",))], 200)
    with rt.sessions.begin() as session:
        p = session.get_one(Patient, patient.id)
        change_regimen(session, p, MedSpec("sertraline", "100mg", ("09:00",)), "daily")
        change_regimen(session, p, MedSpec("lithium", "300 mg", ("20:00",)), "daily")
    with rt.sessions() as session:
        found = {m.name: m for m in medicine_contexts(session.get_one(Patient, patient.id))}
    now = utcnow()
    sertraline, lithium = found["sertraline"], found["lithium"]
    assert sertraline.started_at is not None and now - sertraline.started_at > timedelta(days=199)
    assert sertraline.changed_at is not None and now - sertraline.changed_at < timedelta(minutes=1)
    assert (sertraline.drug_class, sertraline.never_stop_suddenly) == ("ssri", True)
    assert lithium.changed_at is None, "new times at the same dose are not a dose change"


def test_it_raises_a_young_patients_alert_after_a_dose_change(rt: Runtime) -> None:
    patient = enrolled(rt, "under_25", [SSRI], 365)
    assert signal(rt, patient, "prompt", kind="R15")[0].tier == "prompt"
    with rt.sessions.begin() as session:
        p = session.get_one(Patient, patient.id)
        change_regimen(session, p, MedSpec("sertraline", "100mg", ("09:00",)), "daily")
    alert, _ = signal(rt, patient, "prompt", kind="R14")
    assert alert.tier == "urgent" and "modifier:young_antidepressant" in alert.rules


def test_it_tells_the_patient_to_go_now_when_a_modifier_makes_a_red_flag_an_emergency(
    rt: Runtime, client: FlaskClient
) -> None:
    lamotrigine = [MedSpec("lamotrigine", "25mg", ("08:00",))]
    patient = enrolled(rt, "25_64", lamotrigine, 10)
    signed_post(client, rt.settings, "/twilio/sms", sms_params(patient.phone, "i have a rash"))
    with rt.sessions() as session:
        alert = session.scalars(select(Alert)).one()
        reply = session.scalars(select(Message).where(Message.direction == "outbound")).one()
    assert alert.tier == "emergency" and "modifier:lamotrigine_start" in alert.rules
    assert "call 911 or go to the nearest emergency room now" in reply.body


def test_it_gives_same_day_advice_for_the_same_red_flag_after_the_start_window(
    rt: Runtime, client: FlaskClient
) -> None:
    lamotrigine = [MedSpec("lamotrigine", "25mg", ("08:00",))]
    patient = enrolled(rt, "25_64", lamotrigine, 90)
    signed_post(client, rt.settings, "/twilio/sms", sms_params(patient.phone, "i have a rash"))
    with rt.sessions() as session:
        alert = session.scalars(select(Alert)).one()
        reply = session.scalars(select(Message).where(Message.direction == "outbound")).one()
    assert alert.tier == "urgent"
    assert "within 2 hours" in reply.body
