"""The whole stack as child processes: used by `medfollow run` (make run) and the tests.

Each process logs to var/logs/<name>.log. Ctrl-C (or stop()) ends every process it started.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
import yaml

from medfollow.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PRISM_SPEC = ROOT / "node_modules/@twilio-alpha/mcp/twilio-oai/spec/json/twilio_api_v2010.json"


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    popen: subprocess.Popen[bytes] | None = None
    restarts: int = 0


def tracker_store(settings: Settings) -> dict[str, object]:
    """Rasa's SQL tracker store: beside the app's SQLite file, or its own PostgreSQL database."""
    url = settings.database_url.reveal()
    if url.startswith("sqlite"):
        return {"type": "SQL", "dialect": "sqlite", "db": str(settings.var_dir / "rasa_tracker.db")}
    parts = urlsplit(url)
    return {
        "type": "SQL",
        "dialect": "postgresql",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "db": (parts.path.lstrip("/") or "medfollow") + "_rasa",
        "username": parts.username or "postgres",
        "password": parts.password or "",
        "login_db": "postgres",
    }


def write_endpoints(settings: Settings, path: Path, action_url: str) -> Path:
    """Rasa's endpoints file: its action server and the shared SQL tracker store."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "action_endpoint": {"url": f"{action_url}/webhook"},
        "tracker_store": tracker_store(settings),
    }
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)  # it holds the database password
    return path


# The command of each process type, with ${NAME} where a deployment fills in a value.
# The stack below, the Procfile and deploy/ (compose, Kubernetes) run exactly these;
# tests/deploy checks that they agree. Rasa and the action server are pinned at INFO
# (-v), whatever LOG_LEVEL says: at DEBUG they log message texts and whole trackers.
COMMANDS: dict[str, tuple[str, ...]] = {
    "web": (
        "gunicorn",
        "webhook.wsgi:app",
        "-b",
        "${MEDFOLLOW_HOST}:${MEDFOLLOW_PORT}",
        "-w",
        "${WEB_CONCURRENCY}",
        "--threads",
        "4",
        "--access-logfile",
        "-",
        "--access-logformat",
        "%(m)s %(U)s %(s)s %(L)ss",
    ),
    "worker": ("medfollow", "worker"),
    "scheduler": ("medfollow", "scheduler"),
    "actions": (
        "python",
        "-m",
        "rasa_sdk",
        "-v",
        "--actions",
        "bot.actions",
        "-p",
        "${ACTION_SERVER_PORT}",
    ),
    "rasa": (
        "rasa",
        "run",
        "-v",
        "--enable-api",
        "-i",
        "${RASA_HOST}",
        "-p",
        "${RASA_PORT}",
        "-m",
        "${RASA_MODEL}",
        "--auth-token",
        "${RASA_TOKEN}",
        "--endpoints",
        "${RASA_ENDPOINTS}",
    ),
}
# Run before a Rasa server where the stack is not the one starting it (Procfile, compose,
# Kubernetes): the stack writes the same file with the same function, in-process.
RASA_PRELUDE = ("medfollow", "rasa-endpoints", "${RASA_ENDPOINTS}")
_VAR = re.compile(r"\$\{([A-Z_]+)\}")


def command(kind: str, values: Mapping[str, str]) -> list[str]:
    """The argv of a process type with its ${NAME}s filled in (KeyError if one is missing)."""
    return [_VAR.sub(lambda m: values[m.group(1)], arg) for arg in COMMANDS[kind]]


def consecutive_urls(first: str, count: int) -> str:
    """RASA_URLS for `count` servers on `first`'s port and the ports after it."""
    parts = urlsplit(first)
    port = parts.port or 5005
    return ",".join(f"{parts.scheme}://{parts.hostname}:{port + n}" for n in range(count))


def numbered(kind: str, count: int) -> list[str]:
    """Process names: "rasa" for one, "rasa-1", "rasa-2", ... for several."""
    return [kind] if count == 1 else [f"{kind}-{n}" for n in range(1, count + 1)]


@dataclass
class Stack:
    settings: Settings
    env: dict[str, str]
    rasa_venv: Path
    model: Path
    workers: int = 2
    web_workers: int = 2
    action_servers: int = 1
    with_prism: bool = False
    with_redis: bool = False
    procs: list[Proc] = field(default_factory=list)

    def plan(self) -> list[Proc]:
        """One Rasa server per RASA_URLS entry (loopback), `action_servers` action servers
        on ACTION_SERVER_PORT and the ports after it (Rasa server i uses action server
        i mod N), gunicorn with `web_workers`, `workers` RQ workers and the scheduler."""
        s = self.settings
        env = {**os.environ, **self.env, "RASA_TELEMETRY_ENABLED": "false"}
        procs = self._services(env)
        action_urls = []
        for n, name in enumerate(numbered("actions", self.action_servers)):
            port = str(s.action_server_port + n)
            action_urls.append(f"http://127.0.0.1:{port}")
            argv = self._argv("actions", {"ACTION_SERVER_PORT": port})
            procs.append(Proc(name, argv, {**env, "SANIC_HOST": "127.0.0.1"}))
        for n, name in enumerate(numbered("rasa", len(s.rasa_urls))):
            endpoints = s.var_dir / f"endpoints-{name}.yml"
            values = {
                "RASA_HOST": "127.0.0.1",
                "RASA_PORT": str(urlsplit(s.rasa_urls[n]).port or 5005),
                "RASA_MODEL": str(self.model),
                "RASA_TOKEN": s.rasa_token.reveal(),
                "RASA_ENDPOINTS": str(
                    write_endpoints(s, endpoints, action_urls[n % len(action_urls)])
                ),
            }
            procs.append(Proc(name, self._argv("rasa", values), env))
        web = {
            "MEDFOLLOW_HOST": s.host,
            "MEDFOLLOW_PORT": str(s.port),
            "WEB_CONCURRENCY": str(self.web_workers),
        }
        procs.append(Proc("web", self._argv("web", web), env))
        for name in [f"worker-{n}" for n in range(1, self.workers + 1)]:
            procs.append(Proc(name, self._argv("worker", {}), env))
        procs.append(Proc("scheduler", self._argv("scheduler", {}), env))
        return procs

    def _argv(self, kind: str, values: Mapping[str, str]) -> list[str]:
        """The command with its program from the right environment (Rasa's own venv)."""
        argv = command(kind, values)
        bin_dir = self.rasa_venv / "bin" if kind == "rasa" else Path(sys.executable).parent
        return [str(bin_dir / argv[0]), *argv[1:]]

    def _services(self, env: dict[str, str]) -> list[Proc]:
        """Redis and the Prism mock of Twilio, when this stack runs them itself."""
        s = self.settings
        procs = []
        if self.with_redis:
            redis = urlsplit(s.redis_url)
            procs.append(
                Proc(
                    "redis",
                    [
                        "redis-server",
                        "--bind",
                        "127.0.0.1",
                        "--port",
                        str(redis.port or 6379),
                        "--dir",
                        str(s.var_dir.resolve()),
                        "--save",
                        "60 1",
                        "--appendonly",
                        "no",
                    ],
                    env,
                )
            )
        if self.with_prism:
            procs.append(
                Proc(
                    "prism",
                    [
                        str(ROOT / "node_modules/.bin/prism"),
                        "mock",
                        "-d",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(s.prism_port),
                        str(PRISM_SPEC),
                    ],
                    env,
                )
            )
        return procs

    def start(self) -> None:
        logs = self.settings.var_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.procs = self.plan()
        for proc in self.procs:
            self._spawn(proc, logs)

    def _spawn(self, proc: Proc, logs: Path) -> None:
        out = open(logs / f"{proc.name}.log", "ab")  # noqa: SIM115 - owned by the child
        proc.popen = subprocess.Popen(
            proc.argv,
            env=proc.env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()

    def proc(self, name: str) -> Proc:
        return next(p for p in self.procs if p.name == name)

    def stop_one(self, name: str) -> None:
        proc = self.proc(name)
        if proc.popen and proc.popen.poll() is None:
            os.killpg(proc.popen.pid, signal.SIGTERM)
            try:
                proc.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(5)

    def start_one(self, name: str) -> None:
        self._spawn(self.proc(name), self.settings.var_dir / "logs")

    def restart_dead(self) -> list[str]:
        """Start again any process that exited; return their names."""
        dead = [p for p in self.procs if p.popen is not None and p.popen.poll() is not None]
        for proc in dead:
            proc.restarts += 1
            self._spawn(proc, self.settings.var_dir / "logs")
        return [p.name for p in dead]

    def health(self) -> dict[str, object]:
        url = f"http://127.0.0.1:{self.settings.port}/healthz"
        try:
            body: dict[str, object] = requests.get(url, timeout=3).json()
            return body
        except (requests.RequestException, ValueError):
            return {"status": "starting", "components": {"web": "down"}}

    def wait_ready(self, timeout: float = 180.0, progress: bool = False) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            body = self.health()
            if body.get("status") == "ready":
                return
            for proc in self.procs:
                if proc.popen is not None and proc.popen.poll() is not None:
                    raise RuntimeError(
                        f"{proc.name} exited with {proc.popen.returncode}; "
                        f"see {self.settings.var_dir}/logs/{proc.name}.log"
                    )
            comps = body.get("components", {})
            waiting = (
                ", ".join(k for k, v in comps.items() if v != "up")
                if isinstance(comps, dict)
                else "web"
            )
            if progress and waiting != last:
                print(f"   waiting for: {waiting}", flush=True)
                last = waiting
            time.sleep(1)
        raise TimeoutError(f"stack not ready after {timeout:.0f}s: {self.health()}")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.popen and proc.popen.poll() is None:
                os.killpg(proc.popen.pid, signal.SIGTERM)
        for proc in reversed(self.procs):
            if proc.popen is None:
                continue
            try:
                proc.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(5)
