"""conversation.rasa_client: each conversation on its own Rasa server, moved only while
that server is down, with the down mark shared through Redis. The Rasa servers here are
small local HTTP servers speaking the REST channel (Rasa itself runs in tests/e2e)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast

import pytest
from redis import Redis

from conversation.rasa_client import RasaServers, RasaUnavailable, converse, down_key, trigger
from tests.support import free_ports, serving

SENDERS = [f"p{n:04x}" for n in range(40)]


class FakeRasa(ThreadingHTTPServer):
    """Answers the REST channel and trigger_intent as `name`; `mode` makes it misbehave."""

    def __init__(self, name: str) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.name, self.mode, self.senders = name, "ok", list[str]()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeRasa

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self._answer(503 if self.server.mode == "broken" else 200, "Hello from Rasa")

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.server.mode == "slow":
            time.sleep(1.0)
        if self.server.mode in ("broken", "error"):
            return self._answer(500, {})
        sender = body.get("sender") or self.path.split("/")[2]
        self.server.senders.append(sender)
        text = {"text": f"{self.server.name} says hi"}
        self._answer(200, [text] if "sender" in body else {"messages": [text]})


@pytest.fixture
def fakes() -> Iterator[list[FakeRasa]]:
    with serving([FakeRasa("A"), FakeRasa("B"), FakeRasa("C")]) as servers:
        yield list(servers)


def turn(servers: RasaServers, sender: str, timeout: float = 5) -> str:
    [reply] = converse(servers, sender, "hello", {"message_id": 1}, timeout)
    return reply.split()[0]


def test_it_pins_each_conversation_to_one_server_and_uses_them_all(
    fakes: list[FakeRasa], redis: Redis
) -> None:
    servers = RasaServers([f.url for f in fakes], redis, 10)
    first = {s: turn(servers, s) for s in SENDERS}
    again = {s: turn(servers, s) for s in SENDERS}
    assert first == again
    assert set(first.values()) == {"A", "B", "C"}
    by_name = {f.name: f.url for f in fakes}
    assert all(by_name[name] == servers.ring.node_for(s) for s, name in first.items())


def test_it_moves_only_the_conversations_of_a_server_that_is_down_and_marks_it(
    fakes: list[FakeRasa], redis: Redis
) -> None:
    [dead_port] = free_ports(1)
    dead = f"http://127.0.0.1:{dead_port}"
    servers = RasaServers([fakes[0].url, fakes[1].url, dead], redis, 10)
    owned = {s: servers.ring.node_for(s) for s in SENDERS}
    for sender in SENDERS:
        name = turn(servers, sender)
        if owned[sender] == dead:
            assert (
                name == {fakes[0].url: "A", fakes[1].url: "B"}[servers.ring.preference(sender)[1]]
            )
        else:
            assert name == {fakes[0].url: "A", fakes[1].url: "B"}[owned[sender]]
    assert redis.get(down_key(dead)) == b"ConnectionError"
    assert 0 < cast(int, redis.pttl(down_key(dead))) <= 10_000
    assert redis.get(down_key(fakes[0].url)) is None


def test_it_routes_around_a_down_mark_set_by_another_process(
    fakes: list[FakeRasa], redis: Redis
) -> None:
    urls = [f.url for f in fakes]
    servers = RasaServers(urls, redis, 10)
    sender = next(s for s in SENDERS if servers.ring.node_for(s) == fakes[0].url)
    RasaServers(urls, redis, 10).mark_down(fakes[0].url, "seen down elsewhere")
    assert turn(servers, sender) != "A"
    assert fakes[0].senders == []
    redis.delete(down_key(fakes[0].url))  # the mark expires: the conversation goes home
    assert turn(servers, sender) == "A"


def test_it_keeps_a_conversation_on_a_slow_server_whose_health_is_good(
    fakes: list[FakeRasa], redis: Redis
) -> None:
    servers = RasaServers([fakes[0].url, fakes[1].url], redis, 10)
    sender = next(s for s in SENDERS if servers.ring.node_for(s) == fakes[0].url)
    fakes[0].mode = "slow"
    with pytest.raises(RasaUnavailable, match="ReadTimeout"):
        turn(servers, sender, timeout=0.3)
    assert redis.get(down_key(fakes[0].url)) is None
    assert fakes[1].senders == []


def test_it_moves_on_from_a_server_that_fails_and_whose_health_is_5xx(
    fakes: list[FakeRasa], redis: Redis
) -> None:
    servers = RasaServers([fakes[0].url, fakes[1].url], redis, 10)
    sender = next(s for s in SENDERS if servers.ring.node_for(s) == fakes[0].url)
    fakes[0].mode = "broken"
    assert turn(servers, sender) == "B"
    assert redis.get(down_key(fakes[0].url)) == b"HTTP 500"


def test_it_reports_a_5xx_from_a_healthy_server_without_moving(
    fakes: list[FakeRasa], redis: Redis
) -> None:
    servers = RasaServers([fakes[0].url, fakes[1].url], redis, 10)
    sender = next(s for s in SENDERS if servers.ring.node_for(s) == fakes[0].url)
    fakes[0].mode = "error"  # the turn fails, the server is up: RQ retries it there
    with pytest.raises(RasaUnavailable, match="HTTP 500"):
        turn(servers, sender)
    assert redis.get(down_key(fakes[0].url)) is None
    assert fakes[1].senders == []


def test_it_raises_when_every_server_is_down(redis: Redis) -> None:
    ports = free_ports(2)
    servers = RasaServers([f"http://127.0.0.1:{p}" for p in ports], redis, 10)
    with pytest.raises(RasaUnavailable, match="no Rasa server answered"):
        turn(servers, "p0001")
    with pytest.raises(RasaUnavailable):  # both marked: tried anyway, in ring order
        turn(servers, "p0001")


def test_it_routes_by_the_ring_alone_when_redis_is_down(fakes: list[FakeRasa]) -> None:
    [port] = free_ports(1)
    gone = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.5)
    servers = RasaServers([f.url for f in fakes], gone, 10)
    for sender in SENDERS[:5]:
        owner = {f.url: f.name for f in fakes}[servers.ring.node_for(sender)]
        assert turn(servers, sender) == owner


def test_it_sends_triggered_turns_to_the_same_server_as_the_patients_own(
    fakes: list[FakeRasa], redis: Redis
) -> None:
    servers = RasaServers([f.url for f in fakes], redis, 10)
    for sender in SENDERS[:10]:
        [text] = trigger(servers, "tok", sender, "EXTERNAL_dose_checkin", {}, 5)
        assert text.split()[0] == turn(servers, sender)
