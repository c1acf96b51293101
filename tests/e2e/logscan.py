"""Privacy of the logs: after a stack has run, no phone number, message body or secret
the tests used appears in any of its processes' log files (web, workers, scheduler,
Rasa, action servers) or in the records logged inside the test process.

The end-to-end stacks run at LOG_LEVEL=DEBUG, so this covers the most talkative setting.
Bodies shorter than MIN_BODY characters ("yes", "4") are not searched: they occur in
ordinary log text. Prism's log is not searched: it stands in for Twilio, which is sent
the texts and numbers by design.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from medfollow.runtime import Runtime
from store.models import Clinician, Message, Patient

MIN_BODY = 8
NOT_SEARCHED = {"prism.log"}


@dataclass(frozen=True)
class Leak:
    where: str
    line: int
    what: str


class RecordList(logging.Handler):
    """Keeps every record logged in the test process, formatted as a handler would."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def spellings(text: str) -> set[str]:
    """The ways a log line could carry `text`: as is, JSON-escaped, repr-escaped."""
    return {text, json.dumps(text)[1:-1], repr(text)[1:-1]}


def needles(rt: Runtime) -> dict[str, str]:
    """Every private string the stack's database holds -> a label safe to print."""
    found: dict[str, str] = {}
    s = rt.settings
    secrets = {
        "TWILIO_AUTH_TOKEN": s.twilio_auth_token.reveal(),
        "RASA_TOKEN": s.rasa_token.reveal(),
        "SECRET_KEY": s.secret_key.reveal(),
        "SMTP_PASSWORD": s.smtp_password.reveal(),
        "PAGER_WEBHOOK_SECRET": s.pager_webhook_secret.reveal(),
    }
    for name, value in secrets.items():
        if value:
            found[value] = f"secret {name}"
    with rt.sessions() as session:
        phones = [
            *session.scalars(select(Patient.phone)),
            *session.scalars(select(Clinician.phone)),
        ]
        phones += session.scalars(select(Message.external_phone))
        for n, message in enumerate(session.scalars(select(Message.body))):
            if len(message.strip()) >= MIN_BODY:
                for spelling in spellings(message):
                    found[spelling] = f"message body #{n}"
    for n, phone in enumerate(p for p in phones if p):
        found[phone] = f"phone #{n}"
        if phone.startswith("+1") and len(phone) == 12:  # and as people write them
            d = phone[2:]
            for spelling in (d, f"({d[:3]}) {d[3:6]}-{d[6:]}", f"{d[:3]}-{d[3:6]}-{d[6:]}"):
                found[spelling] = f"phone #{n} (national)"
    return found


def scan(lines: list[str], where: str, private: dict[str, str]) -> list[Leak]:
    return [
        Leak(where, number, label)
        for number, line in enumerate(lines, start=1)
        for needle, label in private.items()
        if needle in line
    ]


def leaks(rt: Runtime, records: RecordList) -> list[Leak]:
    """Search every log file of the stack and the test process's records."""
    private = needles(rt)
    assert private, "nothing to search for: the check would pass vacuously"
    found = scan(records.lines, "test process", private)
    for path in sorted((rt.settings.var_dir / "logs").glob("*.log")):
        if path.name not in NOT_SEARCHED:
            found += scan(read(path), path.name, private)
    return found


def read(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines()
