"""SMS encoding and segment counting (GSM 03.38 vs UCS-2)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# The GSM-7 basic set; the extension characters cost two units (escape + char).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = "^{}\\[~]|€\f"
# A single reply stays within what 320 GSM-7 characters cost: three segments.
MAX_GSM_UNITS = 320
MAX_SEGMENTS = 3


@dataclass(frozen=True)
class Encoded:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int
    segments: int


def encode_info(text: str) -> Encoded:
    """Which encoding Twilio will use, how many units and how many segments."""
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text):
        units = sum(2 if c in GSM_EXTENDED else 1 for c in text)
        single, multi, enc = 160, 153, "GSM-7"
    else:
        # Non-GSM characters switch the whole SMS to UCS-2: 70 per segment, 67 when
        # concatenated; characters outside the BMP (most emoji) take two code units.
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
        single, multi, enc = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return Encoded(enc, units, segments)


def fits_one_reply(text: str) -> bool:
    info = encode_info(text)
    if info.encoding == "GSM-7":
        return info.units <= MAX_GSM_UNITS
    return info.segments <= MAX_SEGMENTS


def split_reply(text: str) -> list[str]:
    """Split a long text at sentence (then word) boundaries into texts that each fit."""
    text = text.strip()
    if fits_one_reply(text):
        return [text] if text else []
    parts: list[str] = []
    current = ""
    for piece in _pieces(text):
        candidate = f"{current} {piece}".strip()
        if current and not fits_one_reply(candidate):
            parts.append(current)
            current = piece
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


def _pieces(text: str) -> list[str]:
    out: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if fits_one_reply(sentence):
            out.append(sentence)
        else:
            out.extend(sentence.split())
    return out
