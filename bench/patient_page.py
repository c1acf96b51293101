"""How long the clinician's patient page takes for a patient with a full record.

1. Creates a fresh PostgreSQL database and a SQLite file, each with one signed-in
   clinician and one patient with eight weeks of a busy record: two medicines taken
   twice a day (224 check-ins and their dose events), about 900 texts both ways, 8 PHQ-9s,
   4 GAD-7s, 20 side-effect reports, 10 alerts and two plan changes.
2. Signs in with the Flask test client (no network: this measures the page, not HTTP)
   and requests `/clinic/patients/<id>` 5 times to warm up, then `--requests` times.
3. Prints a markdown section and writes it to --out between the markers
   ``<!-- bench:patient_page -->`` and ``<!-- /bench:patient_page -->``.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import measure_both, run_lines, run_main
from bench.webhook_ack import percentile
from care.plans import change_regimen
from clinic.signin import set_password
from medfollow.runtime import Runtime
from medfollow.settings import Settings
from store.db import dispose_all
from store.enrolment import MedSpec, enrol, ensure_clinic
from store.migrate import upgrade
from store.models import Alert, Checkin, Clinician, DoseEvent, Message, Score, SideEffectReport
from webhook.app import create_app

BEGIN = "<!-- bench:patient_page -->"
END = "<!-- /bench:patient_page -->"
EMAIL, PASSWORD = "bench@clinic.test", "bench password 1234"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
DAYS = 56


def log(text: str) -> None:
    print(f"[patient_page] {text}", file=sys.stderr, flush=True)


def seed(rt: Runtime) -> int:
    """One clinician and one patient with a busy eight weeks; returns the patient id."""
    now = datetime.now(UTC)
    s = rt.settings
    with rt.sessions.begin() as db:
        clinician = Clinician(name="Bench Clinician", email=EMAIL, role="clinician")
        set_password(clinician, PASSWORD, now)
        clinician.sessions_valid_after = None
        db.add(clinician)
        clinic = ensure_clinic(db, s.clinic_name, s.clinic_phone, s.clinic_hours)
        meds = [
            MedSpec("sertraline", "50mg", ("08:00", "20:00")),
            MedSpec("lithium", "300mg", ("08:00", "20:00")),
        ]
        patient = enrol(
            db,
            clinic,
            phone="+15555553000",
            name="Busy Record",
            tz="America/New_York",
            meds=meds,
            consent="v1",
        )
        for entry in patient.regimen:
            entry.started_at = now - timedelta(days=DAYS + 10)
        db.flush()
        for back in range(DAYS):
            day = (now - timedelta(days=back + 1)).date()
            for entry in patient.regimen:
                for hhmm in ("08:00", "20:00"):
                    outcome = ("taken", "taken", "taken", "missed")[(back + len(hhmm)) % 4]
                    due = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                        hours=13 if hhmm == "08:00" else 25
                    )
                    db.add(
                        Checkin(
                            patient_id=patient.id,
                            regimen_id=entry.id,
                            scheduled_local=f"{day}T{hhmm}",
                            due_at=due,
                            status="answered",
                            outcome=outcome,
                        )
                    )
                    db.add(
                        DoseEvent(
                            patient_id=patient.id,
                            regimen_id=entry.id,
                            outcome=outcome,
                            recorded_at=due + timedelta(minutes=5),
                        )
                    )
            for i in range(16):
                at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                    hours=12, minutes=40 * i
                )
                db.add(
                    Message(
                        patient_id=patient.id,
                        direction="outbound" if i % 2 else "inbound",
                        body="Did you take your evening medicine?" if i % 2 else "yes took it",
                        kind="reply" if i % 2 else "message",
                        status="delivered" if i % 2 else "processed",
                        created_at=at,
                    )
                )
        for i in range(8):
            db.add(
                Score(
                    patient_id=patient.id,
                    instrument="PHQ-9",
                    items="1=2,2=1",
                    total=6 + i,
                    complete=True,
                    created_at=now - timedelta(days=7 * i + 1),
                )
            )
        for i in range(4):
            db.add(
                Score(
                    patient_id=patient.id,
                    instrument="GAD-7",
                    total=8 + i,
                    complete=True,
                    created_at=now - timedelta(days=14 * i + 2),
                )
            )
        for i in range(20):
            db.add(
                SideEffectReport(
                    patient_id=patient.id,
                    symptom="nausea",
                    frequency=2,
                    intensity=3,
                    burden=i % 6,
                    created_at=now - timedelta(days=2 * i + 1),
                )
            )
        for i in range(10):
            db.add(
                Alert(
                    code=f"B{i:05d}",
                    patient_id=patient.id,
                    tier="prompt",
                    kind=f"k{i}",
                    rules="R15",
                    summary="Side-effect burden.",
                    state="resolved",
                    created_at=now - timedelta(days=5 * i + 1),
                )
            )
        change_regimen(db, patient, MedSpec("sertraline", "100mg", ("08:00",)), "daily")
        change_regimen(db, patient, MedSpec("lithium", "450mg", ("20:00",)), "daily")
        return patient.id


@dataclass(frozen=True)
class Result:
    times: list[float]  # wall seconds per request, ascending
    cpu: float  # median CPU seconds of this process per request (the app's own work)
    size: int  # bytes of the page


def measure(url: str, requests: int, tmp: Path) -> Result:
    """Time the page's requests, after seeding a fresh database at `url`."""
    settings = Settings.from_env(
        {"DATABASE_URL": url, "MEDFOLLOW_VAR": str(tmp), "LOG_LEVEL": "WARNING"}
    )
    upgrade(url)
    rt = Runtime(settings)
    patient_id = seed(rt)
    client = create_app(rt=rt).test_client()
    found = CSRF.search(client.get("/clinic/login").get_data(as_text=True))
    assert found, "no CSRF token on the sign-in page"
    signed = client.post(
        "/clinic/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": found.group(1)}
    )
    assert signed.status_code == 302, "sign-in failed"
    path = f"/clinic/patients/{patient_id}"
    size = 0
    for _ in range(5):
        size = len(client.get(path).get_data())
    times, cpu = [], []
    for _ in range(requests):
        started, cpu_started = time.perf_counter(), time.process_time()
        resp = client.get(path)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        assert resp.status_code == 200, resp.status_code
    dispose_all()
    return Result(sorted(times), statistics.median(cpu), size)


def render(results: dict[str, Result], requests: int, wall: float) -> str:
    rows = []
    for db, r in results.items():
        t = r.times
        p50, p90, top = statistics.median(t) * 1000, percentile(t, 90) * 1000, t[-1] * 1000
        rows.append(
            f"| {db} | {requests} | {p50:.1f} | {p90:.1f} | {top:.1f} | {r.cpu * 1000:.1f} "
            f"| {r.size / 1024:.0f} |"
        )
    return "\n".join(
        [
            BEGIN,
            "## Clinician patient page (`bench.patient_page`)",
            "",
            "Server time to build `/clinic/patients/<id>` (timeline, four SVG charts, audit row)",
            "for one patient with a busy eight weeks: 224 check-ins and dose events, 896 texts,",
            "8 PHQ-9s, 4 GAD-7s, 20 side-effect reports, 10 alerts, 2 plan changes. Flask test",
            "client in one process, no HTTP, one request at a time.",
            "",
            *run_lines("bench.patient_page", wall),
            "",
            "| database | requests | p50 ms | p90 ms | max ms | CPU ms (p50) | page KiB |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            "Wall times include waiting for the CPU and the database: on a busy machine (see the",
            "load average) they are several times the CPU time, which is this process's own work",
            "(rendering, SQLAlchemy, the driver) and moves little with load.",
            END,
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    return measure_both(argv, __doc__, 50, measure, render, (BEGIN, END), log)


if __name__ == "__main__":
    run_main(main, log)
