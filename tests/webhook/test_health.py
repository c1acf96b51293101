"""GET /healthz with several Rasa servers: 200 "degraded" while at least one answers
(conversations move to it), 503 only when none does or a required component is down.
The Rasa servers (and the action server) are small local HTTP servers answering like
their health endpoints; a closed port stands for a server that is down."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask.testing import FlaskClient
from rq import Worker

from conversation.rasa_client import down_key
from medfollow.runtime import Runtime
from medfollow.settings import Settings
from tests.support import free_ports, serving
from webhook.app import create_app
from webhook.health import overall, rasa_state


class FakeHealth(ThreadingHTTPServer):
    """Rasa's `GET /` ("Hello from Rasa: 3.6.21") and the action server's `GET /health`."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), HealthHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class HealthHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        if self.path == "/health":
            body, kind = json.dumps({"status": "ok"}).encode(), "application/json"
        else:
            body, kind = b"Hello from Rasa: 3.6.21", "text/plain"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def fakes() -> Iterator[list[FakeHealth]]:
    with serving([FakeHealth(), FakeHealth()]) as servers:
        yield list(servers)


@pytest.fixture
def fake(fakes: list[FakeHealth]) -> FakeHealth:
    return fakes[0]


@pytest.fixture
def worker(rt: Runtime) -> Iterator[Worker]:
    """A worker that has just beaten its heartbeat, as `medfollow worker` does."""
    found = Worker([rt.queue()], connection=rt.redis)
    found.register_birth()  # type: ignore[no-untyped-call]
    yield found
    found.register_death()  # type: ignore[no-untyped-call]


def closed_url() -> str:
    [port] = free_ports(1)
    return f"http://127.0.0.1:{port}"


def healthz(
    settings: Settings, rasa: tuple[str, ...], actions: str
) -> tuple[int, dict[str, object]]:
    changed = dataclasses.replace(settings, rasa_urls=rasa, action_server_url=actions)
    client: FlaskClient = create_app(rt=Runtime(changed)).test_client()
    resp = client.get("/healthz")
    body = resp.get_json()
    assert isinstance(body, dict)
    return resp.status_code, body


def test_it_is_ready_when_every_rasa_server_answers(
    rt: Runtime, fakes: list[FakeHealth], worker: Worker
) -> None:
    code, body = healthz(rt.settings, (fakes[0].url, fakes[1].url), fakes[1].url)
    assert (code, body["status"], body["rasa_down"]) == (200, "ready", [])
    assert body["components"] == dict.fromkeys(
        ("actions", "database", "rasa", "redis", "worker"), "up"
    )


def test_it_answers_degraded_and_names_the_server_that_is_down_while_another_answers(
    rt: Runtime, fake: FakeHealth, worker: Worker
) -> None:
    closed = closed_url()
    rt.redis.set(down_key(closed), "ConnectionError", px=10_000)  # routing skips it too
    code, body = healthz(rt.settings, (fake.url, closed), fake.url)
    assert (code, body["status"], body["rasa_down"]) == (200, "degraded", [2])
    components = body["components"]
    assert isinstance(components, dict)
    assert components["rasa"] == "degraded (1 of 2 Rasa servers down)"
    assert components["database"] == components["worker"] == "up"
    assert body["rasa_servers"] == [
        {"server": 1, "state": "up", "marked_down": False},
        {"server": 2, "state": "down (ConnectionError)", "marked_down": True},
    ]
    text = json.dumps(body)
    assert "127.0.0.1" not in text and closed.rsplit(":", 1)[1] not in text


def test_it_answers_503_when_no_rasa_server_answers(
    rt: Runtime, fake: FakeHealth, worker: Worker
) -> None:
    code, body = healthz(rt.settings, (closed_url(), closed_url()), fake.url)
    assert (code, body["status"], body["rasa_down"]) == (503, "down", [1, 2])
    components = body["components"]
    assert isinstance(components, dict)
    assert components["rasa"] == "down (no Rasa server answers)"


def test_it_answers_503_when_a_rasa_server_is_down_and_no_worker_runs(
    rt: Runtime, fake: FakeHealth
) -> None:
    code, body = healthz(rt.settings, (fake.url, closed_url()), fake.url)
    assert (code, body["status"]) == (503, "down")


UP = dict.fromkeys(("database", "redis", "rasa", "actions", "worker"), "up")
DEGRADED = "degraded (1 of 2 Rasa servers down)"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ("ready", 200)),
        ({"rasa": DEGRADED}, ("degraded", 200)),
        ({"rasa": "down (no Rasa server answers)"}, ("down", 503)),
        ({"rasa": DEGRADED, "database": "down (OperationalError)"}, ("down", 503)),
        ({"rasa": DEGRADED, "redis": "down (ConnectionError)"}, ("down", 503)),
        ({"actions": "down (HTTP 502)"}, ("down", 503)),
        ({"worker": "down (no worker heartbeat in the last 75 s)"}, ("down", 503)),
    ],
)
def test_it_maps_component_states_to_the_status_and_code(
    changes: dict[str, str], expected: tuple[str, int]
) -> None:
    assert overall({**UP, **changes}) == expected


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (["up"], "up"),
        (["up", "up", "up"], "up"),
        (["up", "down (HTTP 503)", "down (ReadTimeout)"], "degraded (2 of 3 Rasa servers down)"),
        (["down (ConnectionError)"], "down (no Rasa server answers)"),
    ],
)
def test_it_sums_up_the_rasa_servers(states: list[str], expected: str) -> None:
    servers = [{"server": n, "state": s, "marked_down": None} for n, s in enumerate(states, 1)]
    assert rasa_state(servers) == expected
