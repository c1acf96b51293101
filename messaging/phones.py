"""Phone numbers: parse anything a person types, keep E.164."""

from __future__ import annotations

import phonenumbers


class InvalidPhone(ValueError):
    """Not a valid phone number."""


def to_e164(raw: str, region: str = "US") -> str:
    """Normalise a phone number to E.164, or raise InvalidPhone."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"not a phone number: {mask(raw)}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhone(f"not a possible phone number: {mask(raw)}")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def mask(phone: str) -> str:
    """A form safe for logs and errors: only the last two digits."""
    digits = [c for c in phone if c.isdigit()]
    return "***" + "".join(digits[-2:]) if len(digits) > 2 else "***"
