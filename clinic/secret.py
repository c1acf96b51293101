"""The key that signs session cookies: SECRET_KEY(_FILE), or one generated once per
install and kept in var/secret_key (0600), shared by every web process."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from medfollow.settings import Settings

FILE_NAME = "secret_key"
MIN_LENGTH = 32


class SecretKeyError(ValueError):
    """The configured key is too short to sign sessions safely."""


def secret_key(settings: Settings) -> str:
    configured = settings.secret_key.reveal()
    if configured:
        if len(configured) < MIN_LENGTH:
            raise SecretKeyError(f"SECRET_KEY must be at least {MIN_LENGTH} characters")
        return configured
    return stored_key(settings.var_dir / FILE_NAME)


def stored_key(path: Path) -> str:
    """Read the key file, creating it atomically first if it does not exist (several
    gunicorn workers may race here: the link succeeds for one, the others read it)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()
