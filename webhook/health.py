"""GET /healthz: each component and its state, for load balancers and outside monitors.

The contract (README, "Health check"):

* 200, status "ready": every component is up.
* 200, status "degraded": every component is up except some of the Rasa servers; at
  least one answers, so conversations move to the ones that do (conversation/rasa_client)
  and nothing is lost. `rasa_down` lists which servers are down.
* 503, status "down": the database, Redis, the action server or the workers are down,
  or no Rasa server answers (also while the stack is starting).

Rasa servers are named by their place in RASA_URLS (1, 2, ...), never by URL: the
answer carries no host, token or other setting.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import requests
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from sqlalchemy import text

from conversation.rasa_client import down_key
from medfollow.runtime import WORKER_TTL, Runtime

bp = Blueprint("health", __name__)
WORKER_STALE_SECONDS = WORKER_TTL + 30
PROBE_TIMEOUT = 2.0


def _database(rt: Runtime) -> str:
    with rt.sessions() as session:
        session.execute(text("SELECT 1"))
    return "up"


def _redis(rt: Runtime) -> str:
    rt.redis.ping()
    return "up"


def _http(url: str) -> str:
    resp = requests.get(url, timeout=PROBE_TIMEOUT)
    return "up" if resp.status_code == 200 else f"down (HTTP {resp.status_code})"


def _probe(url: str) -> str:
    """One Rasa server's health endpoint: "up", or "down (why)"."""
    try:
        return _http(f"{url}/")
    except requests.RequestException as exc:
        return f"down ({type(exc).__name__})"


def _marks(redis: Redis, urls: Sequence[str]) -> list[bool | None]:
    """Whether each server carries the shared down mark (routing skips it); None each if
    Redis cannot be asked."""
    try:
        found = cast(list[bytes | None], redis.mget([down_key(u) for u in urls]))
    except RedisError:
        return [None] * len(urls)
    return [mark is not None for mark in found]


def rasa_servers(rt: Runtime) -> list[dict[str, Any]]:
    """Each Rasa server by its place in RASA_URLS, probed at the same time (so a hung
    server costs one PROBE_TIMEOUT, not one per server), with its down mark."""
    urls = rt.settings.rasa_urls
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        states = list(pool.map(_probe, urls))
    marks = _marks(rt.redis, urls)
    return [
        {"server": n, "state": state, "marked_down": mark}
        for n, (state, mark) in enumerate(zip(states, marks, strict=True), start=1)
    ]


def rasa_state(servers: Sequence[dict[str, Any]]) -> str:
    """ "up" when all answer, "degraded (...)" while some do, "down (...)" when none does."""
    down = [s for s in servers if s["state"] != "up"]
    if not down:
        return "up"
    if len(down) == len(servers):
        return "down (no Rasa server answers)"
    return f"degraded ({len(down)} of {len(servers)} Rasa servers down)"


def overall(components: dict[str, str]) -> tuple[str, int]:
    """The status and HTTP code for these component states (see the module's contract)."""
    if all(state == "up" for state in components.values()):
        return "ready", 200
    others = [state for name, state in components.items() if name != "rasa"]
    if all(state == "up" for state in others) and components["rasa"].startswith("degraded"):
        return "degraded", 200
    return "down", 503


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
    "actions": _actions,
    "worker": _worker,
}


def _checked(check: Callable[[Runtime], str], rt: Runtime) -> str:
    try:
        return check(rt)
    except Exception as exc:  # noqa: BLE001 - a health check reports, never raises
        return f"down ({type(exc).__name__})"


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    rt: Runtime = current_app.extensions["medfollow"]
    components = {name: _checked(check, rt) for name, check in CHECKS.items()}
    servers = rasa_servers(rt)
    components["rasa"] = rasa_state(servers)
    status, code = overall(components)
    body = {
        "status": status,
        "components": components,
        "rasa_servers": servers,
        "rasa_down": [s["server"] for s in servers if s["state"] != "up"],
    }
    return jsonify(body), code
