"""Password hashing (scrypt, through werkzeug) and the rules a new password must meet."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
MAX_LENGTH = 256
# Checked when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-password-of-anyone", method="scrypt")


class PasswordError(ValueError):
    """The new password breaks a rule; the message says which."""


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"the password must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"the password must be at most {MAX_LENGTH} characters")
    return generate_password_hash(password, method="scrypt")


def check_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash or len(password) > MAX_LENGTH:
        check_password_hash(_DUMMY_HASH, password[:MAX_LENGTH])
        return False
    return check_password_hash(stored_hash, password)


def read_password(source: str) -> str:
    """A password from a file, or from the first line of stdin when source is '-'."""
    if source == "-":
        import sys

        line = sys.stdin.readline()
    else:
        try:
            with open(source, encoding="utf-8") as handle:
                line = handle.readline()
        except OSError as exc:
            raise PasswordError(f"cannot read {source}: {exc.strerror}") from None
    return line.rstrip("\r\n")
