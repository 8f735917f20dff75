"""Server settings: from keyword arguments, else `TRUCE_*` environment variables."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from truce.store.engine import database_url_from_env

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


class Settings(BaseModel):
    """Everything `create_app` needs. Documented in docs/api.md ("Settings")."""

    model_config = ConfigDict(frozen=True)

    database_url: str = Field(default_factory=database_url_from_env)
    agreement_files: tuple[Path, ...] = ()  # served besides the built-in library
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # larger request bodies get 413
    migrate: bool = True  # run Alembic migrations at start-up
    ogc_public: bool = False  # let the OGC API be read without a token

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {"database_url": database_url_from_env()}
        if env.get("TRUCE_MAX_BODY_BYTES"):
            values["max_body_bytes"] = int(env["TRUCE_MAX_BODY_BYTES"])
        if env.get("TRUCE_AGREEMENTS"):
            values["agreement_files"] = tuple(
                Path(p) for p in env["TRUCE_AGREEMENTS"].split(os.pathsep) if p
            )
        if env.get("TRUCE_OGC_PUBLIC"):
            values["ogc_public"] = env["TRUCE_OGC_PUBLIC"].lower() in ("1", "true", "yes")
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
