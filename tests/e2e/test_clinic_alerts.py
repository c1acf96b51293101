"""The alert queue in Debian's Chromium, on the embedded (SQLite) stack: sign in, see a
crisis text's emergency alert appear without reloading, acknowledge it, open it."""

from __future__ import annotations

from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import select

from clinic.signin import set_password
from escalation.oncall import add_clinician, current, set_on_call
from medfollow.runtime import Runtime
from medfollow.stack import Stack
from store.models import Alert, AuditEvent, utcnow
from tests.e2e.helpers import enrol_patient, post_sms, wait_for
from tests.e2e.test_simulator import ARGS, ARTIFACTS, CHROMIUM

EMAIL, PASSWORD = "queue.nurse@clinic.test", "a long queue password"
BACKUP = ("Dr Queue Backup", "queue.backup@clinic.test", "+15555550191")


def seed(rt: Runtime) -> int:
    """A clinician who signs in and is on call (so the alert is paged to them)."""
    with rt.sessions.begin() as db:
        nurse = add_clinician(db, "Quinn Queue", EMAIL, "+15555550190")
        set_password(nurse, PASSWORD, utcnow())
        nurse.sessions_valid_after = None
        add_clinician(db, *BACKUP)
        if current(db) is None:
            set_on_call(db, EMAIL, BACKUP[1])
        return nurse.id


def test_it_shows_a_new_emergency_without_reloading_and_acknowledges_it(
    sqlite_stack: tuple[Stack, Runtime],
) -> None:
    _, rt = sqlite_stack
    nurse_id = seed(rt)
    patient = enrol_patient(rt, "+15555550311", "Rowan Example")
    base = rt.settings.public_base_url
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/clinic/alerts")
            expect(page).to_have_url(f"{base}/clinic/login?next=/clinic/alerts")
            page.fill("#email", EMAIL)
            page.fill("#password", PASSWORD)
            page.click("#sign-in")
            expect(page.locator("h1")).to_have_text("Alert queue")
            row = page.locator("#alert-rows tr", has_text="Rowan Example")
            expect(row).to_have_count(0)
            page.evaluate("window.__sameDocument = true")

            assert post_sms(rt, patient.phone, "i want to die").status_code == 200
            expect(row).to_have_count(1, timeout=15_000)
            assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
            expect(row).to_have_attribute("data-tier", "emergency")
            expect(page.locator("#live-status")).to_contain_text("Live: updated")
            page.screenshot(path=str(ARTIFACTS / "clinic-alert-queue.png"), full_page=True)

            row.locator("button.ack").click()
            expect(page.locator(".flash")).to_contain_text("acknowledged")
            expect(row).to_have_attribute("data-state", "acknowledged")
            with rt.sessions() as db:
                alert = db.scalars(select(Alert).where(Alert.patient_id == patient.id)).one()
            assert (alert.state, alert.tier, alert.acknowledged_by) == (
                "acknowledged",
                "emergency",
                nurse_id,
            )

            row.locator("a").first.click()
            expect(page.locator("#conversation li.evidence")).to_contain_text("i want to die")
            expect(page.locator("#alert-state")).to_have_text("acknowledged")
            wait_for(lambda: deliveries_shown(page, base, alert.code), 15, "the page's delivery")
            page.screenshot(path=str(ARTIFACTS / "clinic-alert-detail.png"), full_page=True)
        finally:
            browser.close()
    with rt.sessions() as db:
        actions = set(
            db.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.actor_id == nurse_id, AuditEvent.patient_id == patient.id
                )
            )
        )
    assert {"alert.queue.view", "alert.acknowledge", "alert.view"} <= actions


def deliveries_shown(page: Page, base: str, code: str) -> bool:
    """Reload the alert's page until the on-call clinician's page attempt is listed."""
    page.goto(f"{base}/clinic/alerts/{code}")
    return page.locator("#deliveries tbody tr td", has_text="Quinn Queue").count() > 0
