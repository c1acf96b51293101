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
        return True


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if getattr(root, "_medfollow", False):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactPhones())
    root.addHandler(handler)
    root.setLevel(level.upper())
    root._medfollow = True  # type: ignore[attr-defined]
