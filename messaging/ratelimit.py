"""The send rate limit per sending number, shared by every worker process through Redis.

Carriers and Twilio count throughput in message segments per second per sending number
(a US long code: 1). Every outbound send takes its segments from the number's budget
first; one Lua script decides atomically, on Redis's own clock, so all workers and
hosts share one budget.

The budget is a GCRA (a token bucket kept as one timestamp, the "theoretical arrival
time" ``tat``): a send of ``cost`` segments is allowed when ``tat <= now``, and moves
``tat`` to ``max(tat, now) + cost / rate``. No burst is allowed, so in any interval of
L seconds at most ``rate * L`` segments go out, plus the parts of one message that
go out together (a long text's segments are one send).

Who goes first when the budget is spent (three classes, by message kind):

* ``URGENT`` (crisis replies, compliance confirmations, clinician pages) ignores any
  queue of routine texts. Refused, it marks the number held for as long as it must
  wait, so no routine text takes the next slot; it then gets it.
* ``REPLY`` (answers to a patient's own message) skips the line of scheduled texts but
  waits for urgent ones; it marks its own, weaker hold in the same way.
* ``BULK`` (check-ins and other texts the clinic starts) joins a line when the number
  is busy: ``ticket()`` hands out the next free slot (one ``cost / rate`` apart), so a
  burst of thousands of check-ins is spread out instead of every job retrying every
  second. At its slot a ticketed send tries again and normally goes at once.

A refused send is never dropped: the caller waits briefly or comes back at the slot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from redis import Redis

KEY_PREFIX = "medfollow:sendrate"
# Keys outlive the last send by this much (then the budget is simply full again).
IDLE_TTL_MS = 60_000
# A hold lasts a little longer than the wait it covers, so the holder finds its slot free.
HOLD_MARGIN_US = 50_000


class Priority(IntEnum):
    URGENT = 0
    REPLY = 1
    BULK = 2


@dataclass(frozen=True)
class Decision:
    """Whether the send may go now; if not, how many seconds until it may try again.
    `at` is the moment of the decision on the limiter's clock (seconds)."""

    allowed: bool
    wait: float
    at: float


# KEYS: tat, line tail, urgent hold, reply hold.
# ARGV: microseconds per segment, cost, priority (0-2), ticketed (0/1), now_us ("" = TIME).
# Returns {allowed (0/1), wait_us, now_us}.
_ACQUIRE = """
local now
if ARGV[5] ~= '' then
  now = tonumber(ARGV[5])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local step = tonumber(ARGV[1]) * tonumber(ARGV[2])
local priority = tonumber(ARGV[3])
local ticketed = ARGV[4] == '1'
local ttl = tonumber(ARGV[6])
local margin = tonumber(ARGV[7])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local tail = tonumber(redis.call('GET', KEYS[2]) or '0')
local urgent_hold = tonumber(redis.call('GET', KEYS[3]) or '0')
local reply_hold = tonumber(redis.call('GET', KEYS[4]) or '0')
-- Higher classes waiting for a slot hold the number against lower ones.
if priority >= 1 and urgent_hold > now then return {0, urgent_hold - now, now} end
if priority >= 2 and reply_hold > now then return {0, reply_hold - now, now} end
-- A scheduled text without a ticket queues behind the line, if there is one.
if priority == 2 and not ticketed and tail > now then return {0, tail - now, now} end
if tat > now then
  local wait = tat - now
  if priority <= 1 then
    local hold = KEYS[3 + priority]
    local until_us = now + wait + margin
    local current = tonumber(redis.call('GET', hold) or '0')
    if until_us > current then
      local hold_ms = math.floor((until_us - now) / 1000) + 1
      redis.call('SET', hold, string.format('%.0f', until_us), 'PX', hold_ms)
    end
  end
  return {0, wait, now}
end
redis.call('SET', KEYS[1], string.format('%.0f', now + step), 'PX', math.floor(step / 1000) + ttl)
return {1, 0, now}
"""

# KEYS: tat, line tail. ARGV: microseconds per segment, cost, now_us ("" = TIME), ttl_ms.
# Returns the slot's wait in microseconds.
_TICKET = """
local now
if ARGV[3] ~= '' then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local step = tonumber(ARGV[1]) * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local tail = tonumber(redis.call('GET', KEYS[2]) or '0')
local slot = math.max(now, tat, tail)
local new_tail = slot + step
local ttl = math.floor((new_tail - now) / 1000) + tonumber(ARGV[4])
redis.call('SET', KEYS[2], string.format('%.0f', new_tail), 'PX', ttl)
return slot - now
"""


class SendRate:
    """The send budget of every sending number, at `rate` segments per second each.

    `clock` (seconds) is for tests; by default Redis's own clock is used, the one clock
    every worker shares.
    """

    def __init__(self, redis: Redis, rate: float, clock: Callable[[], float] | None = None) -> None:
        if rate <= 0:
            raise ValueError(f"the send rate must be positive, got {rate}")
        self.rate = rate
        self._step_us = max(1, round(1_000_000 / rate))
        self._clock = clock
        self._acquire = redis.register_script(_ACQUIRE)
        self._ticket = redis.register_script(_TICKET)

    def acquire(
        self, number: str, cost: int = 1, priority: Priority = Priority.BULK, ticketed: bool = False
    ) -> Decision:
        """Take `cost` segments from the number's budget now, or say how long to wait."""
        args: list[str | int] = [self._step_us, cost, int(priority), int(ticketed), self._now()]
        allowed, wait_us, now_us = self._acquire(
            keys=self._keys(number), args=[*args, IDLE_TTL_MS, HOLD_MARGIN_US]
        )
        return Decision(bool(allowed), int(wait_us) / 1_000_000, int(now_us) / 1_000_000)

    def ticket(self, number: str, cost: int = 1) -> float:
        """A place in the number's line of scheduled texts: seconds until its slot."""
        wait_us = self._ticket(
            keys=self._keys(number)[:2], args=[self._step_us, cost, self._now(), IDLE_TTL_MS]
        )
        return int(wait_us) / 1_000_000

    def _now(self) -> str:
        return "" if self._clock is None else str(round(self._clock() * 1_000_000))

    @staticmethod
    def _keys(number: str) -> list[str]:
        base = f"{KEY_PREFIX}:{number}"
        return [f"{base}:tat", f"{base}:tail", f"{base}:hold:urgent", f"{base}:hold:reply"]
