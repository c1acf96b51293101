"""How long the JSON API takes for a patient with a full record, FHIR export included.

1. Creates a fresh PostgreSQL database and a SQLite file, each with the busy patient of
   `bench.patient_page` (eight weeks: 224 check-ins and dose events, 896 texts, 12
   questionnaires, 20 side-effect reports, 10 alerts, 2 plan changes) and an API token.
2. With the Flask test client (no network: this measures the API, not HTTP), requests
   each path below 3 times to warm up, then `--requests` times, one at a time. Every
   request goes the whole way: token lookup, Redis rate limit (REDIS_URL, default
   database 12, whose keys expire within a minute), audit row, commit.
3. Prints a markdown section and writes it to --out between the markers
   ``<!-- bench:api -->`` and ``<!-- /bench:api -->``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from api.tokens import create_token
from bench.harness import measure_both, run_lines, run_main
from bench.patient_page import seed
from bench.webhook_ack import percentile
from medfollow.runtime import Runtime
from medfollow.settings import Settings
from store.db import dispose_all
from store.migrate import upgrade
from webhook.app import create_app

BEGIN = "<!-- bench:api -->"
END = "<!-- /bench:api -->"
PATHS = ("/patients/{id}", "/patients/{id}/messages?limit=200", "/patients/{id}/fhir")
Result = dict[str, tuple[list[float], int]]


def log(text: str) -> None:
    print(f"[api] {text}", file=sys.stderr, flush=True)


def measure(url: str, requests: int, tmp: Path) -> Result:
    """Per path: seconds per request (sorted), and the answer's size in bytes."""
    settings = Settings.from_env(
        {
            "DATABASE_URL": url,
            "MEDFOLLOW_VAR": str(tmp),
            "LOG_LEVEL": "WARNING",
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12"),
            "API_RATE_LIMIT": "1000000",
        }
    )
    upgrade(url)
    rt = Runtime(settings)
    patient_id = seed(rt)
    with rt.sessions.begin() as session:
        _, token = create_token(session, "bench", ["read"], "bench")
    client = create_app(rt=rt).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    out: Result = {}
    for template in PATHS:
        path = "/api/v1" + template.format(id=patient_id)
        size = 0
        for _ in range(3):
            size = len(client.get(path, headers=headers).get_data())
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            resp = client.get(path, headers=headers)
            times.append(time.perf_counter() - started)
            assert resp.status_code == 200, (path, resp.status_code)
        out[template] = (sorted(times), size)
    dispose_all()
    return out


def render(results: dict[str, Result], requests: int, wall: float) -> str:
    rows = []
    for db, by_path in results.items():
        for path, (t, size) in by_path.items():
            p50, p90, top = statistics.median(t) * 1000, percentile(t, 90) * 1000, t[-1] * 1000
            rows.append(
                f"| {db} | `{path}` | {requests} | {p50:.1f} | {p90:.1f} | {top:.1f} "
                f"| {size / 1024:.0f} |"
            )
    return "\n".join(
        [
            BEGIN,
            "## JSON API (`bench.api`)",
            "",
            "Server time of `/api/v1` reads for the busy patient of `bench.patient_page`",
            "(224 check-ins and dose events, 896 texts, 12 questionnaires, 20 side-effect",
            "reports, 10 alerts), each with token lookup, Redis rate limit and audit row; the",
            "FHIR export builds and validates the whole record (about 1,200 resources). Flask",
            "test client in one process, no HTTP, one request at a time.",
            "",
            *run_lines("bench.api", wall),
            "",
            "| database | path | requests | p50 ms | p90 ms | max ms | answer KiB |",
            "|---|---|---:|---:|---:|---:|---:|",
            *rows,
            END,
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    return measure_both(argv, __doc__, 30, measure, render, (BEGIN, END), log)


if __name__ == "__main__":
    run_main(main, log)
