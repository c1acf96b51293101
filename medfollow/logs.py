"""Logging set-up. Log ids, never phone numbers or message bodies."""

from __future__ import annotations

import logging
import re

# E.164 (+15551234567) and US formats ((555) 123-4567, 555-123-4567, 555.123.4567).
_PHONE = re.compile(r"\+\d{8,15}\b|\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b")


class RedactPhones(logging.Filter):
    """A last line of defence: mask anything that looks like a phone number."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _PHONE.search(message):
            record.msg = _PHONE.sub("[phone]", message)
            record.args = ()
        if record.exc_info and not record.exc_text:
            # PostgreSQL's own error details echo row values ("Key (phone)=(...)").
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = _PHONE.sub("[phone]", text)
        return True


# Libraries that print private data when they are verbose, and the most they may say:
# SQLAlchemy's engine logs every statement with its parameters (bodies, phone numbers)
# from INFO; urllib3 logs request lines, with query strings (Rasa's token), at DEBUG;
# Twilio's client logs each request's URL and headers at INFO.
LIBRARY_CEILINGS = {
    "sqlalchemy.engine": logging.WARNING,
    "sqlalchemy.pool": logging.WARNING,
    "urllib3": logging.INFO,
    "twilio.http_client": logging.WARNING,
}


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if getattr(root, "_medfollow", False):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactPhones())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name, ceiling in LIBRARY_CEILINGS.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(ceiling, root.level))
    root._medfollow = True  # type: ignore[attr-defined]
