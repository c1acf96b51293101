"""GET /healthz: each component and its state; 200 when all are up, 503 before."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from rq import Worker
from sqlalchemy import text

from medfollow.runtime import WORKER_TTL, Runtime

bp = Blueprint("health", __name__)
WORKER_STALE_SECONDS = WORKER_TTL + 30


def _database(rt: Runtime) -> str:
    with rt.sessions() as session:
        session.execute(text("SELECT 1"))
    return "up"


def _redis(rt: Runtime) -> str:
    rt.redis.ping()
    return "up"


def _http(url: str) -> str:
    resp = requests.get(url, timeout=2)
    return "up" if resp.status_code == 200 else f"down (HTTP {resp.status_code})"


def _rasa(rt: Runtime) -> str:
    """Up when every Rasa server is; otherwise which are not (conversations move on)."""
    down = []
    for n, url in enumerate(rt.settings.rasa_urls, start=1):
        try:
            state = _http(f"{url}/")
        except requests.RequestException as exc:
            state = f"down ({type(exc).__name__})"
        if state != "up":
            down.append(f"server {n} {state}")
    return "down: " + "; ".join(down) if down else "up"


def _actions(rt: Runtime) -> str:
    return _http(f"{rt.settings.action_server_url}/health")


def _worker(rt: Runtime) -> str:
    now = time.time()
    for worker in Worker.all(connection=rt.redis):
        beat = worker.last_heartbeat
        if beat is not None and now - beat.timestamp() < WORKER_STALE_SECONDS:
            return "up"
    return f"down (no worker heartbeat in the last {WORKER_STALE_SECONDS} s)"


CHECKS: dict[str, Callable[[Runtime], str]] = {
    "database": _database,
    "redis": _redis,
    "rasa": _rasa,
    "actions": _actions,
    "worker": _worker,
}


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    rt: Runtime = current_app.extensions["medfollow"]
    components: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            components[name] = check(rt)
        except Exception as exc:  # noqa: BLE001 - a health check reports, never raises
            components[name] = f"down ({type(exc).__name__})"
    ready = all(state == "up" for state in components.values())
    return jsonify(status="ready" if ready else "starting", components=components), (
        200 if ready else 503
    )
