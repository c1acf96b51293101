"""Engines and sessions. Built on demand, one per URL, never at import time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from medfollow.settings import Secret


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Several processes (web, workers, action server) share one SQLite file:
    # WAL lets readers and one writer work together; busy_timeout waits for a lock.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str | Secret) -> Engine:
    raw = url.reveal() if isinstance(url, Secret) else url
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw.removeprefix("postgresql://")
    # hide_parameters: a database error names the statement but never its values
    # (message bodies, phone numbers), so logged tracebacks and failed jobs carry none.
    if raw.startswith("sqlite"):
        engine = create_engine(raw, connect_args={"timeout": 10}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(raw, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True)


_factories: dict[str, sessionmaker[Session]] = {}


def session_factory(url: str | Secret) -> sessionmaker[Session]:
    """The sessionmaker for this database URL (one engine per URL per process)."""
    raw = url.reveal() if isinstance(url, Secret) else url
    if raw not in _factories:
        _factories[raw] = sessionmaker(make_engine(raw), expire_on_commit=False)
    return _factories[raw]


def dispose_all() -> None:
    """Close every pooled connection (tests dropping their databases call this).

    The engines stay registered: whoever still holds a sessionmaker (a session-scoped
    test stack's runtime) may use it again, which opens a new connection, and the next
    dispose_all must close that one too. Forgetting the engines here left such a
    connection open until garbage collection, after its database was dropped."""
    for factory in _factories.values():
        bind = factory.kw.get("bind")
        if bind is not None:
            bind.dispose()
