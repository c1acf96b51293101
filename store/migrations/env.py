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
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
