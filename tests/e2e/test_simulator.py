"""The phone simulator page in Debian's Chromium, on the embedded (SQLite) stack."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import expect, sync_playwright

from medfollow.runtime import Runtime
from medfollow.stack import Stack
from tests.e2e.helpers import enrol_patient
from tests.support import ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = ROOT / "test-artifacts"


def test_it_sends_hi_from_the_simulator_and_shows_the_reply(
    sqlite_stack: tuple[Stack, Runtime],
) -> None:
    _, rt = sqlite_stack
    patient = enrol_patient(rt, "+15555550301", "Morgan Example")
    assert Path(CHROMIUM).exists(), "Chromium is installed by scripts/setup_system.sh"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{rt.settings.public_base_url}/simulator?phone={quote(patient.phone)}")
            page.fill("#body", "hi")
            page.click("#send")
            expect(page.locator("#thread li.inbound").last).to_have_text("hi")
            reply = page.locator("#thread li.outbound").first
            expect(reply).to_contain_text("Hi Morgan!", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "simulator.png"))
            assert page.locator("#error").inner_text() == ""
        finally:
            browser.close()
