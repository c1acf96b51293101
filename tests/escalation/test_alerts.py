"""The alert lifecycle: raise or join, acknowledge and resolve by compare-and-set."""

from __future__ import annotations

from sqlalchemy import select

from escalation.alerts import acknowledge, in_emergency, raise_alert, resolve
from escalation.oncall import add_clinician
from escalation.policy import load_policy
from medfollow.runtime import Runtime
from store.models import Alert, Patient

POLICY = load_policy()


def signal(rt: Runtime, patient: Patient, tier: str, kind: str = "suicidality") -> tuple[int, bool]:
    with rt.sessions.begin() as session:
        raised = raise_alert(
            session,
            POLICY,
            patient_id=patient.id,
            tier=tier,
            kind=kind,
            rules=[f"R-{tier}"],
            summary="test",
        )
        return raised.alert_id, raised.page


def test_it_joins_a_new_signal_of_the_same_kind_without_paging_again(
    rt: Runtime, patient: Patient
) -> None:
    first, page1 = signal(rt, patient, "emergency")
    second, page2 = signal(rt, patient, "emergency")
    assert first == second and (page1, page2) == (True, False)
    with rt.sessions() as session:
        alert = session.get_one(Alert, first)
    assert alert.signals == 2


def test_it_pages_again_when_a_joined_signal_raises_the_tier(rt: Runtime, patient: Patient) -> None:
    first, _ = signal(rt, patient, "urgent")
    second, page = signal(rt, patient, "emergency")
    assert first == second and page is True
    with rt.sessions() as session:
        assert session.get_one(Alert, first).tier == "emergency"


def test_it_does_not_page_prompt_or_routine_items(rt: Runtime, patient: Patient) -> None:
    assert signal(rt, patient, "prompt", kind="R15")[1] is False
    assert signal(rt, patient, "routine", kind="R21")[1] is False


def test_it_acknowledges_once_and_resolves_the_episode(rt: Runtime, patient: Patient) -> None:
    alert_id, _ = signal(rt, patient, "emergency")
    with rt.sessions.begin() as session:
        clinician = add_clinician(session, "Dr A", "a@test.invalid", None)
        code = session.get_one(Alert, alert_id).code
        assert in_emergency(session, patient.id)
        assert acknowledge(session, code.lower(), clinician) is True
        assert acknowledge(session, code, clinician) is False
        assert resolve(session, code, clinician, "called, safe with family") is True
        assert not in_emergency(session, patient.id)
        assert resolve(session, code, clinician, "again") is False
    with rt.sessions() as session:
        alert = session.scalars(select(Alert)).one()
    assert (alert.state, alert.note) == ("resolved", "called, safe with family")


def test_it_starts_a_new_alert_after_the_last_one_was_resolved(
    rt: Runtime, patient: Patient
) -> None:
    first, _ = signal(rt, patient, "emergency")
    with rt.sessions.begin() as session:
        clinician = add_clinician(session, "Dr A", "a@test.invalid", None)
        resolve(session, session.get_one(Alert, first).code, clinician, "ok")
    second, page = signal(rt, patient, "emergency")
    assert second != first and page is True


def test_it_treats_a_second_urgent_signal_in_24_hours_as_an_emergency(
    rt: Runtime, patient: Patient
) -> None:
    signal(rt, patient, "urgent", kind="red_flag")
    second, page = signal(rt, patient, "urgent", kind="R13")
    with rt.sessions() as session:
        alert = session.get_one(Alert, second)
    assert alert.tier == "emergency" and page is True
    assert alert.rules.split(",")[-1] == "COMBINE"


def test_it_does_not_combine_once_a_clinician_has_made_contact(
    rt: Runtime, patient: Patient
) -> None:
    first, _ = signal(rt, patient, "urgent", kind="red_flag")
    with rt.sessions.begin() as session:
        clinician = add_clinician(session, "Dr A", "a@test.invalid", None)
        acknowledge(session, session.get_one(Alert, first).code, clinician)
    second, _ = signal(rt, patient, "urgent", kind="R13")
    with rt.sessions() as session:
        assert session.get_one(Alert, second).tier == "urgent"
