"""`medfollow triage`: the production path for each JSON line, on the running stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from medfollow.runtime import Runtime
from medfollow.stack import Stack

MEDFOLLOW = str(Path(sys.executable).parent / "medfollow")


def run_triage(
    env: dict[str, str], lines: list[dict[str, object]]
) -> subprocess.CompletedProcess[str]:
    stdin = "\n".join(json.dumps(line) for line in lines) + "\n"
    return subprocess.run(
        [MEDFOLLOW, "triage"],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_it_triages_each_line_in_order(stack: tuple[Stack, Runtime]) -> None:
    _, rt = stack
    env = {
        **os.environ,
        "RASA_URL": rt.settings.rasa_url,
        "RASA_TOKEN": rt.settings.rasa_token.reveal(),
    }
    lines: list[dict[str, object]] = [
        {"text": "i want to die"},
        {"text": "stop texting me"},
        {"text": "can i take advil with my lithium", "medications": ["lithium"]},
        {"text": "i want to stop my lithium", "medications": ["lithium"]},
        {"text": "yep took it", "context": "checkin"},
        {"text": "stop texting me i just want to die"},
    ]
    done = run_triage(env, lines)
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(lines)
    assert all(set(r) == {"intent", "confidence", "risk", "reasons"} for r in results)
    assert results[0]["risk"] == "emergency"
    assert (results[1]["intent"], results[1]["risk"]) == ("opt_out", "none")
    assert results[2]["risk"] in ("urgent", "prompt") and any(
        "R11" in r for r in results[2]["reasons"]
    )
    assert results[3]["risk"] == "urgent"
    assert results[4]["risk"] == "none"
    assert (results[5]["intent"], results[5]["risk"]) == ("opt_out", "emergency")


def test_it_fails_clearly_when_the_stack_is_not_running() -> None:
    env = {**os.environ, "RASA_URL": "http://127.0.0.1:9"}
    done = run_triage(env, [{"text": "hello"}])
    assert done.returncode != 0
    assert "not running" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
