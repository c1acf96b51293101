"""Alembic environment: the URL from the settings (or the caller), models' metadata as target."""

from __future__ import annotations

from alembic import context

from medfollow.settings import Settings
from store.db import make_engine
from store.models import Base

config = context.config
url = config.attributes.get("database_url") or Settings.from_env().database_url.reveal()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild a table (copy, drop, rename); with foreign keys on,
            # dropping a table other rows refer to fails. Off for the run (the pragma only
            # takes effect outside a transaction), and every reference checked after.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            connection.rollback()
            if broken:
                raise RuntimeError(f"migration left {len(broken)} broken foreign key(s)")
    engine.dispose()


run_migrations_online()
