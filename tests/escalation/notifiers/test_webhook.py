"""WebhookNotifier against a real HTTP server on a loopback port of its own."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from escalation.notifiers.base import NotifyError, Page
from escalation.notifiers.webhook import WebhookNotifier, verify_signature
from medfollow.settings import Secret, Settings
from tests.support import free_ports

SECRET = "whsec-test-0123456789"
PAGE = Page(
    code="7KQ2ZD",
    tier="urgent",
    summary="Reply needs review within 15 minutes.",
    patient_ref="A.D. #12",
    deadline=datetime(2026, 1, 1, 9, 15, tzinfo=UTC),
    ack_hint="Reply ACK 7KQ2ZD",
)
# path -> (status, JSON body, extra headers)
ANSWERS: dict[str, tuple[int, bytes, dict[str, str]]] = {
    "/ok": (200, b'{"id": "abc"}', {}),
    "/no-id": (202, b'{"queued": true}', {}),
    "/empty": (204, b"", {}),
    "/bad": (400, b'{"error": "bad request"}', {}),
    "/gone": (410, b"", {}),
    "/moved": (302, b"", {"Location": "/ok"}),
    "/slow-client": (408, b"", {}),
    "/limited": (429, b"", {"Retry-After": "30"}),
    "/busy": (503, b"", {}),
}


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver(ThreadingHTTPServer):
    """Records every request and answers by path; /slow answers only when released."""

    daemon_threads = False  # so server_close() joins the handler threads

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[Seen] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        path = urlsplit(self.path).path
        self.server.requests.append(Seen(path, dict(self.headers), body))
        if path == "/slow":
            self.server.release.wait(10)
            return
        status, answer, headers = ANSWERS[path]
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    thread.join()
    server.server_close()


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"pager_webhook_secret": Secret(SECRET), "notify_timeout": 5.0}
    return Settings(**{**values, **overrides})


def test_it_posts_a_signed_json_page(receiver: Receiver) -> None:
    before = time.time()

    page_id = WebhookNotifier(settings()).notify(PAGE, f"{receiver.url}/ok")

    assert page_id == "abc"
    [seen] = receiver.requests
    assert seen.headers["Content-Type"] == "application/json"
    sent = json.loads(seen.body)
    assert {k: v for k, v in sent.items() if k != "sent_at"} == {
        "code": "7KQ2ZD",
        "tier": "urgent",
        "summary": "Reply needs review within 15 minutes.",
        "patient_ref": "A.D. #12",
        "deadline": "2026-01-01T09:15:00+00:00",
    }
    sent_at = datetime.fromisoformat(sent["sent_at"])
    timestamp = seen.headers["X-Medfollow-Timestamp"]
    assert int(timestamp) == int(sent_at.timestamp())
    assert before - 1 <= sent_at.timestamp() <= time.time()
    signature = seen.headers["X-Medfollow-Signature"]
    assert signature.startswith("sha256=")
    assert verify_signature(SECRET, timestamp, seen.body, signature, now=time.time())


def test_it_signs_in_a_way_only_the_secret_and_a_fresh_timestamp_verify(
    receiver: Receiver,
) -> None:
    WebhookNotifier(settings()).notify(PAGE, f"{receiver.url}/ok")
    [seen] = receiver.requests
    stamp, signature = seen.headers["X-Medfollow-Timestamp"], seen.headers["X-Medfollow-Signature"]
    sent = float(stamp)

    assert verify_signature(SECRET, stamp, seen.body, signature, now=sent + 300)
    assert verify_signature(SECRET, stamp, seen.body, signature, now=sent - 300)
    assert not verify_signature("wrong-secret", stamp, seen.body, signature, now=sent)
    assert not verify_signature("", stamp, seen.body, signature, now=sent)
    assert not verify_signature(SECRET, stamp, seen.body, signature, now=sent + 301)  # stale
    assert not verify_signature(SECRET, stamp, seen.body, signature, now=sent - 301)  # future
    assert not verify_signature(SECRET, stamp, seen.body, signature, now=sent + 61, tolerance=60)
    assert not verify_signature(SECRET, stamp, seen.body + b" ", signature, now=sent)
    # A replay with a fresh timestamp header fails: the timestamp is signed too.
    assert not verify_signature(SECRET, str(int(sent) + 1), seen.body, signature, now=sent)
    assert not verify_signature(SECRET, "soon", seen.body, signature, now=sent)
    assert not verify_signature(SECRET, stamp, seen.body, signature[7:], now=sent)
    assert not verify_signature(SECRET, stamp, seen.body, "sha256=ünïcode", now=sent)


def test_it_posts_to_the_configured_url_when_to_is_empty(receiver: Receiver) -> None:
    notifier = WebhookNotifier(settings(pager_webhook_url=f"{receiver.url}/ok"))

    assert notifier.notify(PAGE, "") == "abc"
    assert [seen.path for seen in receiver.requests] == ["/ok"]


@pytest.mark.parametrize("path", ["/no-id", "/empty"])
def test_it_makes_up_an_id_when_the_answer_has_none(receiver: Receiver, path: str) -> None:
    notifier = WebhookNotifier(settings())

    first, second = (notifier.notify(PAGE, f"{receiver.url}{path}") for _ in range(2))

    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second


@pytest.mark.parametrize(
    ("path", "permanent"),
    [
        ("/bad", True),
        ("/gone", True),
        ("/moved", True),
        ("/slow-client", False),
        ("/limited", False),
        ("/busy", False),
    ],
)
def test_it_sorts_http_answers(receiver: Receiver, path: str, permanent: bool) -> None:
    with pytest.raises(NotifyError) as caught:
        WebhookNotifier(settings()).notify(PAGE, f"{receiver.url}{path}?token=url-secret")

    assert caught.value.permanent is permanent
    status = ANSWERS[path][0]
    assert str(caught.value) == f"webhook answered HTTP {status}"
    assert [seen.path for seen in receiver.requests] == [path]  # a redirect is not followed


def test_it_is_transient_when_the_port_is_closed() -> None:
    closed = free_ports(1)[0]

    with pytest.raises(NotifyError) as caught:
        WebhookNotifier(settings()).notify(PAGE, f"http://127.0.0.1:{closed}/ok?token=url-secret")

    assert not caught.value.permanent
    assert str(caught.value) == "webhook unreachable: ConnectionError"


def test_it_is_transient_when_the_receiver_is_too_slow(receiver: Receiver) -> None:
    with pytest.raises(NotifyError) as caught:
        WebhookNotifier(settings(notify_timeout=0.2)).notify(PAGE, f"{receiver.url}/slow")

    assert not caught.value.permanent
    assert str(caught.value) == "webhook unreachable: ReadTimeout"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pager_webhook_url": ""}, "no webhook URL (PAGER_WEBHOOK_URL) set"),
        (
            {"pager_webhook_url": "http://127.0.0.1:9/ok", "pager_webhook_secret": Secret("")},
            "no webhook secret (PAGER_WEBHOOK_SECRET) set",
        ),
        ({"pager_webhook_url": "pager.example/hook"}, "webhook request invalid: MissingSchema"),
        ({"pager_webhook_url": "ftp://127.0.0.1/ok"}, "webhook request invalid: InvalidSchema"),
    ],
)
def test_it_fails_permanently_when_misconfigured(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(NotifyError) as caught:
        WebhookNotifier(settings(**overrides)).notify(PAGE, "")

    assert caught.value.permanent
    assert str(caught.value) == message
