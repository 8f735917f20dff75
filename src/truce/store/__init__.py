"""Persistence: SQLAlchemy schema, Alembic migrations, repositories.

One code path for SQLite (embedded, the default) and PostgreSQL/PostGIS. Nothing
here builds an engine at import time: `make_engine(url)` does, and the app
factory or CLI owns it.
"""

from truce.errors import AuthError, BadInput, Conflict, Forbidden, NotFound
from truce.store.engine import database_url_from_env, make_engine, write_transaction
from truce.store.migrate import upgrade

__all__ = [
    "AuthError",
    "BadInput",
    "Conflict",
    "Forbidden",
    "NotFound",
    "database_url_from_env",
    "make_engine",
    "upgrade",
    "write_transaction",
]
