"""Alembic environment: runs on a connection handed over by `truce.store.migrate`,
or on `-x url=...` / `TRUCE_DATABASE_URL` when Alembic is run by hand."""

from __future__ import annotations

from alembic import context

from truce.store.engine import database_url_from_env, make_engine
from truce.store.schema import metadata

config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or database_url_from_env()
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
