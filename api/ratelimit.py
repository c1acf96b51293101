"""Per-token rate limit: a fixed one-minute window counted in Redis."""

from __future__ import annotations

import math
from dataclasses import dataclass

from redis import Redis

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    remaining: int
    retry_after: int  # seconds until the window resets


def window_of(now: float) -> tuple[int, int]:
    """(window number, whole seconds left in it) for a Unix time."""
    number = int(now // WINDOW_SECONDS)
    left = math.ceil((number + 1) * WINDOW_SECONDS - now)
    return number, max(1, left)


def judge(count: int, limit: int, left: int) -> Verdict:
    """The verdict for the count-th request of a window."""
    return Verdict(allowed=count <= limit, remaining=max(0, limit - count), retry_after=left)


def hit(redis: Redis, token_id: int, limit: int, now: float) -> Verdict:
    """Count one request of this token and judge it."""
    number, left = window_of(now)
    key = f"api:rate:{token_id}:{number}"
    pipe = redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, WINDOW_SECONDS + 5)
    count, _ = pipe.execute()
    return judge(int(count), limit, left)
