"""The whole stack as child processes: used by `medfollow run` (make run) and the tests.

Each process logs to var/logs/<name>.log. Ctrl-C (or stop()) ends every process it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
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


def write_endpoints(settings: Settings) -> Path:
    path = settings.var_dir / "endpoints.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "action_endpoint": {"url": f"http://127.0.0.1:{settings.action_server_port}/webhook"},
        "tracker_store": tracker_store(settings),
    }
    path.write_text(yaml.safe_dump(doc))
    return path


@dataclass
class Stack:
    settings: Settings
    env: dict[str, str]
    rasa_venv: Path
    model: Path
    workers: int = 2
    web_workers: int = 2
    with_prism: bool = False
    with_redis: bool = False
    procs: list[Proc] = field(default_factory=list)

    def plan(self) -> list[Proc]:
        s = self.settings
        bin_dir = Path(sys.executable).parent
        env = {**os.environ, **self.env, "RASA_TELEMETRY_ENABLED": "false"}
        rasa_port = str(urlsplit(s.rasa_url).port or 5005)
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
        procs.append(
            Proc(
                "rasa",
                [
                    str(self.rasa_venv / "bin/rasa"),
                    "run",
                    "--enable-api",
                    "-i",
                    "127.0.0.1",
                    "-p",
                    rasa_port,
                    "-m",
                    str(self.model),
                    "--auth-token",
                    s.rasa_token.reveal(),
                    "--endpoints",
                    str(write_endpoints(s)),
                ],
                env,
            )
        )
        procs.append(
            Proc(
                "actions",
                [
                    str(bin_dir / "python"),
                    "-m",
                    "rasa_sdk",
                    "--actions",
                    "bot.actions",
                    "-p",
                    str(s.action_server_port),
                ],
                {**env, "SANIC_HOST": "127.0.0.1"},
            )
        )
        procs.append(
            Proc(
                "web",
                [
                    str(bin_dir / "gunicorn"),
                    "webhook.wsgi:app",
                    "-b",
                    f"{s.host}:{s.port}",
                    "-w",
                    str(self.web_workers),
                    "--threads",
                    "4",
                    "--access-logfile",
                    "-",
                    "--access-logformat",
                    "%(m)s %(U)s %(s)s %(L)ss",
                ],
                env,
            )
        )
        for n in range(self.workers):
            procs.append(Proc(f"worker-{n + 1}", [str(bin_dir / "medfollow"), "worker"], env))
        procs.append(Proc("scheduler", [str(bin_dir / "medfollow"), "scheduler"], env))
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
