"""Helpers for tests that run real processes (the Prism mock, the whole stack)."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from socketserver import BaseServer
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "node_modules/@twilio-alpha/mcp/twilio-oai/spec/json/twilio_api_v2010.json"
S = TypeVar("S", bound=BaseServer)


@contextmanager
def serving(servers: Sequence[S]) -> Iterator[Sequence[S]]:
    """Each local HTTP server (a stand-in for a remote one) served in a daemon thread;
    shut down and closed after."""
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield servers
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now (the OS picks them), so parallel runs do not collide."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def free_run(count: int, tries: int = 50) -> int:
    """The first of `count` consecutive ports nothing listens on now."""
    for _ in range(tries):
        [first] = free_ports(1)
        socks = [socket.socket() for _ in range(count)]
        try:
            for n, sock in enumerate(socks):
                sock.bind(("127.0.0.1", first + n))
            return first
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise OSError(f"no {count} consecutive free ports")


def wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.25)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f}s")


class Prism:
    """The Prism mock of Twilio's API (dynamic mode: a fresh random sid per send)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = ROOT / "node_modules/.bin/prism"
        assert binary.exists() and SPEC.exists(), "run `npm ci` (make test does) first"
        self.proc = subprocess.Popen(
            [str(binary), "mock", "-d", "-h", "127.0.0.1", "-p", str(self.port), str(SPEC)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, 60)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
