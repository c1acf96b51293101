"""Run one API call: token, rate limit, scope, parse, handler, audit, commit, respond.

Every authenticated operation goes through `run`, in one database transaction: the
audit rows a handler writes are committed with what it read or changed, or not at all.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Response, current_app, request
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from api import ratelimit
from api.errors import ApiError
from api.registry import INT_MAX, Operation
from api.tokens import find_active, has_scope
from medfollow.runtime import Runtime
from store.audit import record
from store.models import ApiToken, utcnow

# last_used_at is written at most this often per token (not on every request).
_TOUCH_EVERY = timedelta(minutes=1)
log = logging.getLogger(__name__)
JSON_MEDIA = ("application/json", "application/fhir+json")


@dataclass
class Call:
    """What a handler gets: the session, the client's token, the parsed input."""

    rt: Runtime
    session: Session
    token: ApiToken
    query: Any
    body: Any
    ip: str | None
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def audit(
        self,
        action: str,
        *,
        patient_id: int | None = None,
        target: str | None = None,
        detail: str | None = None,
    ) -> None:
        record(
            self.session,
            actor_kind="token",
            actor_id=self.token.id,
            actor_name=self.token.name,
            action=action,
            patient_id=patient_id,
            target=target,
            detail=detail,
            ip=self.ip,
        )


Handler = Callable[..., Any]


def bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(
            401,
            "unauthorized",
            "send the API token as 'Authorization: Bearer <token>'",
            {"WWW-Authenticate": 'Bearer realm="medfollow"'},
        )
    return value.strip()


def authenticate(session: Session) -> ApiToken:
    token = find_active(session, bearer())
    if token is None:
        raise ApiError(
            401,
            "invalid_token",
            "the token is unknown or revoked",
            {"WWW-Authenticate": 'Bearer realm="medfollow", error="invalid_token"'},
        )
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        token.last_used_at = now
    return token


def limit(rt: Runtime, token: ApiToken) -> int:
    verdict = ratelimit.hit(rt.redis, token.id, rt.settings.api_rate_limit, time.time())
    if not verdict.allowed:
        raise ApiError(
            429,
            "rate_limited",
            f"more than {rt.settings.api_rate_limit} requests in a minute; retry later",
            {"Retry-After": str(verdict.retry_after)},
        )
    return verdict.remaining


def explain(exc: ValidationError, where: str) -> str:
    """A short, plain list of what is wrong with the input."""
    parts = []
    for error in exc.errors()[:3]:
        loc = ".".join(str(p) for p in (where, *error["loc"]))
        parts.append(f"{loc}: {error['msg']}")
    return "; ".join(parts)


def parse_query(model: type[BaseModel] | None) -> BaseModel | None:
    if model is None:
        return None
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ApiError(400, "invalid_query", explain(exc, "query")) from None


def read_json_body(op: Operation) -> bytes:
    if request.mimetype not in JSON_MEDIA:
        raise ApiError(415, "unsupported_media_type", f"send the body as {op.body_media}")
    return request.get_data()


def parse_body(op: Operation) -> Any:
    if op.body is None and op.body_schema is None:
        return None
    raw = read_json_body(op)
    if op.body is not None:
        try:
            return op.body.model_validate_json(raw, strict=True)
        except ValidationError as exc:
            raise ApiError(400, "invalid_body", explain(exc, "body")) from None
    try:
        # pydantic's parser, not json.loads: it refuses lone surrogates ("\\ud800"),
        # which no database could store.
        return from_json(raw)
    except ValueError:
        raise ApiError(400, "invalid_json", "the body is not JSON") from None


def respond(op: Operation, result: Any, remaining: int | None) -> Response:
    if isinstance(result, BaseModel):
        text = result.model_dump_json()
    else:
        text = json.dumps(result)
    response = Response(text, status=op.status, mimetype=op.response_media)
    if remaining is not None:
        response.headers["X-RateLimit-Remaining"] = str(remaining)
    return response


def run(op: Operation, handler: Handler, params: dict[str, Any]) -> Response:
    """Authenticated operations: steps 1-6 in one transaction, then the after-commit work."""
    rt: Runtime = current_app.extensions["medfollow"]
    with rt.sessions.begin() as session:
        token = authenticate(session)  # 1
        remaining = limit(rt, token)  # 2
        if op.scope and not has_scope(token, op.scope):  # 3
            raise ApiError(403, "insufficient_scope", f"this needs a token with scope {op.scope}")
        if any(k.endswith("_id") and not 1 <= v <= INT_MAX for k, v in params.items()):
            raise ApiError(404, "not_found", "no such id")
        query, body = parse_query(op.query), parse_body(op)  # 4
        call = Call(rt, session, token, query, body, request.remote_addr)
        result = handler(call, **params)  # 5 (the handler writes its audit rows)
        response = respond(op, result, remaining)  # 6
    for work in call.after_commit:
        try:
            work()
        except RedisError:
            # Committed already: answering 500 would invite a retry of a change that was
            # made. The texts it queued stay pending; the scheduler's sweep sends them.
            log.warning("API %s: could not enqueue the follow-up work", op.name)
    return response
