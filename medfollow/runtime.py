"""The process's connections (database, Redis, queues, SMS transport), built on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from redis import Redis
from rq import Queue
from sqlalchemy.orm import Session, sessionmaker

from conversation.rasa_client import RasaServers
from medfollow.settings import Settings
from messaging.transports import Transport, make_transport
from store.db import session_factory

# Crisis replies and compliance confirmations jump the queue; dialogue turns follow.
URGENT_QUEUE = "urgent"
DEFAULT_QUEUE = "default"
QUEUES = (URGENT_QUEUE, DEFAULT_QUEUE)
# RQ workers beat every WORKER_TTL - 15 seconds while idle.
WORKER_TTL = 45


@dataclass
class Runtime:
    settings: Settings
    _transport: Transport | None = field(default=None, repr=False)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.settings.database_url)

    @cached_property
    def redis(self) -> Redis:
        return Redis.from_url(self.settings.redis_url, socket_timeout=5, socket_connect_timeout=2)

    @cached_property
    def rasa(self) -> RasaServers:
        s = self.settings
        return RasaServers(s.rasa_urls, self.redis, s.rasa_down_seconds)

    @property
    def transport(self) -> Transport:
        if self._transport is None:
            self._transport = make_transport(self.settings)
        return self._transport

    def queue(self, name: str = DEFAULT_QUEUE) -> Queue:
        return Queue(name, connection=self.redis)


_current: Runtime | None = None


def current() -> Runtime:
    """The runtime for jobs in this process: from the environment unless one was installed."""
    global _current
    if _current is None:
        _current = Runtime(Settings.from_env())
    return _current


def install(rt: Runtime | None) -> None:
    """Use this runtime for jobs run in this process (tests run jobs in-process)."""
    global _current
    _current = rt
