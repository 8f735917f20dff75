"""Server settings: from keyword arguments, else `TRUCE_*` environment variables.

Every field has one environment variable (`ENV_VARS`); docs/api.md lists them all
(a test checks).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from truce.store.engine import database_url_from_env

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
DEFAULT_FRESHNESS_MS = 1000

ENV_VARS: dict[str, str] = {
    "database_url": "TRUCE_DATABASE_URL",  # (or TRUCE_DB_PATH for the SQLite file)
    "agreement_files": "TRUCE_AGREEMENTS",
    "max_body_bytes": "TRUCE_MAX_BODY_BYTES",
    "migrate": "TRUCE_MIGRATE",
    "ogc_public": "TRUCE_OGC_PUBLIC",
    "freshness_ms": "TRUCE_FRESHNESS_MS",
    "warm": "TRUCE_WARM",
    "refresh_wait_ms": "TRUCE_REFRESH_WAIT_MS",
    "compute_process": "TRUCE_COMPUTE_PROCESS",
}


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


class Settings(BaseModel):
    """Everything `create_app` needs."""

    model_config = ConfigDict(frozen=True)

    database_url: str = Field(default_factory=database_url_from_env)
    agreement_files: tuple[Path, ...] = ()  # served besides the built-in library
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # larger request bodies get 413
    migrate: bool = True  # run Alembic migrations at start-up
    ogc_public: bool = False  # let the OGC API be read without a token
    # How long a process answers from its caches (OGC index, visibility, tokens) before
    # re-reading the store's write watermark: bounds how late it sees other processes'
    # writes, a revoked token included. Its own writes it sees at once.
    freshness_ms: int = Field(default=DEFAULT_FRESHNESS_MS, ge=0)
    warm: bool = False  # load every agreement's snapshot and OGC index at start-up
    # How long a request for a stale evaluation waits for the refresh under way before
    # answering with the last complete one (marked stale). 0: never waits.
    refresh_wait_ms: int = Field(default=0, ge=0)
    # Compute the shared evaluation in a child process, so readers never wait for the
    # GIL behind it. `truce serve` turns it on; in-process apps (tests) compute in a thread.
    compute_process: bool = False

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {"database_url": database_url_from_env()}
        if env.get(ENV_VARS["max_body_bytes"]):
            values["max_body_bytes"] = int(env[ENV_VARS["max_body_bytes"]])
        if env.get(ENV_VARS["agreement_files"]):
            values["agreement_files"] = tuple(
                Path(p) for p in env[ENV_VARS["agreement_files"]].split(os.pathsep) if p
            )
        if env.get(ENV_VARS["migrate"]):
            values["migrate"] = _flag(env[ENV_VARS["migrate"]])
        if env.get(ENV_VARS["ogc_public"]):
            values["ogc_public"] = _flag(env[ENV_VARS["ogc_public"]])
        if env.get(ENV_VARS["freshness_ms"]):
            values["freshness_ms"] = int(env[ENV_VARS["freshness_ms"]])
        if env.get(ENV_VARS["refresh_wait_ms"]):
            values["refresh_wait_ms"] = int(env[ENV_VARS["refresh_wait_ms"]])
        if env.get(ENV_VARS["warm"]):
            values["warm"] = _flag(env[ENV_VARS["warm"]])
        if env.get(ENV_VARS["compute_process"]):
            values["compute_process"] = _flag(env[ENV_VARS["compute_process"]])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
