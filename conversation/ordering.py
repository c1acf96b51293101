"""Per-patient ordering: one worker at a time drains a patient's messages, in order.

Mailroom's pattern, without blocking a worker: a job that finds the patient's lock
taken marks the patient dirty and returns; the lock holder sees the mark and looks
again before it lets go, and re-enqueues the patient if the mark appears after.
The mark is set *before* trying the lock, so no message is left behind.
"""

from __future__ import annotations

import uuid

from redis import Redis

LOCK_TTL_MS = 60_000
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


def lock_key(patient_id: int) -> str:
    return f"medfollow:lock:patient:{patient_id}"


def dirty_key(patient_id: int) -> str:
    return f"medfollow:dirty:patient:{patient_id}"


class PatientLock:
    def __init__(self, redis: Redis, patient_id: int) -> None:
        self.redis = redis
        self.patient_id = patient_id
        self.token = uuid.uuid4().hex

    def acquire(self) -> bool:
        """Mark the patient dirty, then try the lock without waiting."""
        self.redis.set(dirty_key(self.patient_id), 1, ex=3600)
        return bool(self.redis.set(lock_key(self.patient_id), self.token, nx=True, px=LOCK_TTL_MS))

    def take_dirty(self) -> bool:
        """Clear the dirty mark; True if it was set (new work may have arrived)."""
        return bool(self.redis.delete(dirty_key(self.patient_id)))

    def extend(self) -> bool:
        return bool(
            self.redis.eval(_EXTEND, 1, lock_key(self.patient_id), self.token, str(LOCK_TTL_MS))
        )

    def release(self) -> None:
        self.redis.eval(_RELEASE, 1, lock_key(self.patient_id), self.token)

    def is_dirty(self) -> bool:
        return bool(self.redis.exists(dirty_key(self.patient_id)))
