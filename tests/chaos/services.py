"""Services the chaos tests own, so they can kill them: a private PostgreSQL cluster, a
private Redis with persistence on, and a fault-injecting HTTP proxy in front of Prism.

Nothing here touches the machine's shared PostgreSQL (5432) or Redis.
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
from redis import Redis
from redis.exceptions import RedisError

from tests.support import wait_port


def pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert found, "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin"
    return Path(found[-1]).parent


class PrivatePostgres:
    """initdb into a temporary directory, pg_ctl start on a free loopback port.

    As root, the server runs as the `postgres` system user (initdb refuses root)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.bin = pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="medfollow-chaos-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.user: str | None = "postgres" if os.geteuid() == 0 else None
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str, timeout: float = 60) -> None:
        done = subprocess.run(
            [str(self.bin / argv[0]), *argv[1:]],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"{argv[0]} failed: {done.stderr[-2000:]}"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.dir}'\nmax_connections = 300\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except AssertionError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """redis-server on a free port with the append-only file on (fsync every second)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="medfollow-chaos-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
        argv += ["--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "everysec"]
        argv += ["--save", "", "--logfile", str(self.dir / "redis.log")]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        conn = Redis.from_url(self.url, socket_timeout=2)
        while True:
            try:
                conn.ping()
                return
            except RedisError:
                if time.monotonic() > deadline:
                    raise TimeoutError("private Redis did not answer within 30 s") from None
                time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM: Redis flushes the append-only file and exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)

    def destroy(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Forwarded:
    """One send the proxy handed to the Twilio mock, in the order it was handed over."""

    seq: int
    sid: str
    to: str


@dataclass
class ProxyState:
    mode: str = "pass"  # pass | 5xx | timeout
    hold: float = 12.0  # a timeout holds the request this long (the client gives up at 10 s)
    forwarded: list[Forwarded] = field(default_factory=list)
    refused: int = 0
    held: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(state: ProxyState, upstream_port: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            sending = self.command == "POST" and self.path.endswith("/Messages.json")
            mode = state.mode
            if sending and mode == "timeout":
                with state.lock:
                    state.held += 1
                time.sleep(state.hold)  # never forwarded: Twilio did not get it
                self.close_connection = True
                return
            if sending and mode == "5xx":
                with state.lock:
                    state.refused += 1
                payload = json.dumps({"code": 20500, "message": "chaos", "status": 503}).encode()
                self._answer(503, payload, "application/json")
                return
            conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            if sending and 200 <= resp.status < 300:
                sent = json.loads(data)
                with state.lock:
                    state.forwarded.append(
                        Forwarded(len(state.forwarded), str(sent.get("sid")), str(sent.get("to")))
                    )
            self._answer(resp.status, data, resp.getheader("Content-Type") or "application/json")

        def _answer(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _proxy

    return Handler


class FaultProxy:
    """An HTTP proxy in front of the Twilio mock: pass-through, 503s, or held requests.

    Records every send it forwarded (the mock's sid, in order), so the tests can check
    what Twilio was actually asked to send against what the database says was sent."""

    def __init__(self, port: int, upstream_port: int) -> None:
        self.port = port
        self.state = ProxyState()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self.state, upstream_port))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        wait_port(self.port, 10)

    def set_mode(self, mode: str) -> None:
        assert mode in ("pass", "5xx", "timeout")
        self.state.mode = mode

    def forwarded(self) -> list[Forwarded]:
        with self.state.lock:
            return list(self.state.forwarded)

    def stop(self) -> None:
        if self.thread.is_alive():  # shutdown() waits for serve_forever, so only if started
            self.server.shutdown()
        self.server.server_close()
