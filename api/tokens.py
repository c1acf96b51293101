"""API bearer tokens: high-entropy, shown once, stored only as SHA-256, scoped, revocable.

SHA-256 without a salt is enough here because the token is 256 random bits, not a
password: there is nothing to guess from a dictionary, and a lookup by hash stays O(1).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.models import ApiToken, utcnow

# read: patients and their records, alerts; write: create patients, change plans,
# acknowledge and resolve alerts; audit: read the audit log.
SCOPES = ("read", "write", "audit")
PREFIX = "mft_"


class TokenError(ValueError):
    """A token request is invalid; the message says why."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_scopes(raw: str) -> list[str]:
    """ "read,write" or "read write" -> ["read", "write"]; unknown scopes are an error."""
    scopes = list(dict.fromkeys(s for s in raw.replace(",", " ").split() if s))
    unknown = [s for s in scopes if s not in SCOPES]
    if not scopes or unknown:
        raise TokenError(f"scopes must be some of {', '.join(SCOPES)}, got {raw!r}")
    return scopes


def create_token(
    session: Session, name: str, scopes: list[str], created_by: str
) -> tuple[ApiToken, str]:
    """A new token row and the token itself (returned once, never stored)."""
    if not name.strip() or len(name.strip()) > 100:
        raise TokenError("--name must be 1 to 100 characters")
    plain = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name.strip(),
        token_hash=hash_token(plain),
        scopes=" ".join(parse_scopes(" ".join(scopes))),
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row, plain


def find_active(session: Session, plain: str) -> ApiToken | None:
    """The unrevoked token with this value, or None."""
    return session.scalars(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(plain), ApiToken.revoked_at.is_(None)
        )
    ).first()


def revoke(session: Session, token_id: int) -> bool:
    """Revoke a token now; False if it is unknown or already revoked (compare-and-set)."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def all_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def has_scope(token: ApiToken, scope: str) -> bool:
    return scope in token.scopes.split()
