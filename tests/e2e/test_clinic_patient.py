"""The clinician's patient page in Debian's Chromium, on the embedded (SQLite) stack:
sign in, find the patient, read the charts' data, change the plan and see the text
that told the patient in the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect, sync_playwright

from clinic.signin import set_password
from medfollow.runtime import Runtime
from medfollow.stack import Stack
from scheduling.planner import WEEKDAYS
from store.models import Checkin, Clinician, Patient, Score, SideEffectReport
from tests.e2e.helpers import enrol_patient
from tests.e2e.test_simulator import ARGS, ARTIFACTS, CHROMIUM

EMAIL, PASSWORD = "pat.rivera@clinic.test", "a long clinic password"
# Local days back from today and what came of that day's 09:00 dose.
DOSES = {1: "taken", 2: "taken", 3: "missed", 4: "unanswered", 5: "taken", 9: "missed"}


def seed(rt: Runtime, patient_id: int) -> None:
    """A clinician, and eight weeks of record: doses, PHQ-9s, a GAD-7, a side effect."""
    now = datetime.now(UTC)
    zone = ZoneInfo("America/New_York")
    with rt.sessions.begin() as db:
        clinician = Clinician(name="Pat Rivera", email=EMAIL, role="clinician")
        set_password(clinician, PASSWORD, now)
        clinician.sessions_valid_after = None
        db.add(clinician)
        patient = db.get_one(Patient, patient_id)
        entry = patient.regimen[0]
        entry.started_at = now - timedelta(days=45)
        for back, outcome in DOSES.items():
            day = (now.astimezone(zone) - timedelta(days=back)).date()
            db.add(
                Checkin(
                    patient_id=patient_id,
                    regimen_id=entry.id,
                    scheduled_local=f"{day.isoformat()}T09:00",
                    due_at=datetime(day.year, day.month, day.day, 14, tzinfo=UTC),
                    status="unanswered" if outcome == "unanswered" else "answered",
                    outcome=None if outcome == "unanswered" else outcome,
                )
            )
        for back, total in ((40, 16), (20, 11), (3, 7)):
            db.add(
                Score(
                    patient_id=patient_id,
                    instrument="PHQ-9",
                    total=total,
                    complete=True,
                    created_at=now - timedelta(days=back),
                )
            )
        db.add(
            Score(
                patient_id=patient_id,
                instrument="GAD-7",
                total=12,
                complete=True,
                created_at=now - timedelta(days=20),
            )
        )
        db.add(
            SideEffectReport(
                patient_id=patient_id,
                symptom="nausea",
                frequency=3,
                intensity=3,
                burden=4,
                created_at=now - timedelta(days=10),
            )
        )


def data(page: Page, selector: str, attribute: str) -> list[str]:
    values: list[str] = page.locator(selector).evaluate_all(
        f"els => els.map(e => e.getAttribute('{attribute}'))"
    )
    return values


def test_it_shows_the_charts_and_the_plan_change_text_to_a_signed_in_clinician(
    sqlite_stack: tuple[Stack, Runtime],
) -> None:
    _, rt = sqlite_stack
    patient = enrol_patient(rt, "+15555550321", "Jordan Chart")
    seed(rt, patient.id)
    base = rt.settings.public_base_url
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/clinic/patients")
            expect(page).to_have_url(f"{base}/clinic/login?next=/clinic/patients")
            page.fill("#email", EMAIL)
            page.fill("#password", PASSWORD)
            page.click("#sign-in")
            expect(page.locator("#signed-in-as")).to_have_text("Pat Rivera")

            page.fill("#q", "jordan")
            page.click("#search")
            page.click("#patients >> text=Jordan Chart")
            expect(page.locator("h1")).to_contain_text("Jordan Chart")

            calendar = "#chart-adherence svg"
            expect(page.locator(calendar)).to_have_attribute("data-doses", "6")
            assert page.locator(calendar).get_attribute("data-taken") == "3"
            assert page.locator(calendar).get_attribute("data-missed") == "2"
            assert page.locator(calendar).get_attribute("data-unanswered") == "1"
            outcomes = data(page, f"{calendar} rect.dose", "data-outcome")
            assert outcomes == ["missed", "taken", "unanswered", "missed", "taken", "taken"]
            assert data(page, "#chart-phq9 circle.point", "data-value") == ["16", "11", "7"]
            assert data(page, "#chart-phq9 circle.point", "data-band") == [
                "moderately severe",
                "moderate",
                "mild",
            ]
            assert data(page, "#chart-phq9 rect.band", "data-band")[0] == "minimal"
            assert data(page, "#chart-gad7 circle.point", "data-value") == ["12"]
            assert data(page, "#chart-burden circle.point", "data-label") == ["nausea"]
            assert data(page, "#chart-phq9 g.med-change", "data-label") == [
                "started sertraline 50mg at 09:00"
            ]
            expect(page.locator("#chart-phq9 svg")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "clinic-patient.png"), full_page=True)

            page.click("#edit-plan")
            later = WEEKDAYS[(datetime.now(UTC) + timedelta(days=3)).weekday()]
            page.fill("#med-name", "sertraline")
            page.fill("#med-dose", "100mg")
            page.fill("#med-times", "08:00")
            page.fill("#med-days", later)
            page.click("#save-regimen")
            expect(page.locator(".flash")).to_contain_text("The patient is told by text")
            told = page.locator("#timeline li.entry-message_out", has_text="updated your plan")
            expect(told).to_have_count(1)
            expect(told).to_contain_text("Sent (plan_change)")
            # The worker sends it through Twilio (Prism): reload until its status moves on.
            for _ in range(60):
                if told.get_attribute("data-status") not in ("pending", "claimed"):
                    break
                page.wait_for_timeout(500)
                page.reload()
            assert told.get_attribute("data-status") not in ("pending", "claimed", "failed")
            assert data(page, "#chart-phq9 g.med-change", "data-label") == [
                "started sertraline 50mg at 09:00",
                "changed sertraline 100mg at 08:00",
            ]
            page.screenshot(path=str(ARTIFACTS / "clinic-plan-changed.png"), full_page=True)
        finally:
            browser.close()
