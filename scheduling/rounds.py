"""One round of the scheduler's check-in work, at one instant: plan (when asked), start
what is due, follow up, and beat the heartbeat. The scheduler loop runs it every second;
tests run it with a frozen clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from medfollow.runtime import Runtime
from scheduling.dispatch import Stop, dispatch_due, follow_up, plan_checkins
from scheduling.heartbeat import SCHEDULER, beat
from scheduling.mood import dispatch_mood, plan_mood_checks
from store.models import utcnow


@dataclass(frozen=True)
class Round:
    planned: int = 0
    started: int = 0
    questionnaires: int = 0
    reminded: int = 0
    closed: int = 0


def scheduling_round(
    rt: Runtime,
    now: datetime | None = None,
    *,
    plan: bool = True,
    heartbeat: bool = True,
    stop: Stop | None = None,
) -> Round:
    """Check-ins first, then questionnaires: a patient due both gets the check-in now and
    the questionnaire once the check-in's conversation has been quiet long enough."""
    at = now or utcnow()
    planned = 0
    if plan:
        planned = plan_checkins(rt, at, stop=stop) + plan_mood_checks(rt, at, stop=stop)
    started = dispatch_due(rt, at, stop=stop)
    questionnaires = dispatch_mood(rt, at, stop=stop)
    reminded, closed = follow_up(rt, at)
    if heartbeat and not (stop is not None and stop()):
        with rt.sessions.begin() as session:
            beat(session, SCHEDULER, at)
    return Round(planned, started, questionnaires, reminded, closed)
