"""Use cases shared by the API and the CLI, one module each:

- `agreements`: the agreements a server serves (`AgreementRegistry`);
- `users`: add, revoke, list, authenticate;
- `ingest`: parse, validate and store reports;
- `evaluation`: each agreement's cached evaluation (`Evaluations`, per-process state),
  with `validity` (until when it holds) and `lru` (its small caches);
- `scopes`: which reports each visibility class's evaluation is made from;
- `visibility`: who sees what of an evaluation;
- `views`: a user's evaluation, one incident, one violation;
- `review`: review actions on violations, publishing incidents;
- `exports`: a user's incidents or violations as GeoJSON, CSV, HXL, GeoPackage, GeoParquet;
- `audit`: verify the audit chain.

No web framework here: callers pass a `User`, get plain dicts and dataclasses
back, and typed errors (`truce.errors`) out. `Service` is a thin facade
over those functions holding the engine, the agreements, the clock and the
per-process caches, so the API and the CLI keep one object to pass around.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from truce.domain.keys import split_violation_key, violation_key
from truce.domain.model import ReportTable
from truce.errors import BadInput, GazetteerError, UnknownAgreement
from truce.service import audit, exports, ingest, review, users, views
from truce.service.agreements import AgreementEntry, AgreementRegistry
from truce.service.evaluation import Evaluations, Reading
from truce.service.ingest import IngestResult
from truce.service.visibility import SHARED_ROLES, Visibility, load_visibility
from truce.store import audit as audit_store
from truce.store.derived import Snapshot
from truce.store.engine import make_engine
from truce.store.users import User


def utc_now() -> datetime:
    return datetime.now(UTC)


class Service:
    """One per process: owns nothing global but the engine it was given.

    Each method is one line over a use-case module; per-process state (the
    snapshot memo and the as-of cache) lives in `self.evaluations`.
    """

    def __init__(
        self,
        engine: Engine,
        agreements: AgreementRegistry,
        *,
        clock: Callable[[], datetime] = utc_now,
        refresh_wait_s: float | None = None,
        compute_process: bool = False,
    ) -> None:
        """`refresh_wait_s`: how long a reader of a stale evaluation waits for its
        refresh (None: until done, so callers read their own writes; 0: never).
        `compute_process`: compute the shared evaluation in a child process."""
        self.engine = engine
        self.agreements = agreements
        self.clock = clock
        self.evaluations = Evaluations(
            engine,
            agreements,
            clock,
            refresh_wait_s=refresh_wait_s,
            compute_process=compute_process,
        )

    @classmethod
    def from_url(cls, url: str, agreement_files: tuple[Path, ...] = ()) -> Service:
        return cls(make_engine(url), AgreementRegistry.load(agreement_files))

    @property
    def computations(self) -> int:
        """Evaluations this process computed (for tests and logs)."""
        return self.evaluations.computations

    # users
    def add_user(
        self,
        name: str,
        role: str,
        party: str | None = None,
        *,
        expires_at: datetime | None = None,
        sources: tuple[str, ...] | None = None,
        actor: str = "cli",
    ) -> tuple[User, str]:
        return users.add_user(
            self.engine,
            name,
            role,
            party,
            now=self.clock(),
            expires_at=expires_at,
            sources=sources,
            actor=actor,
        )

    def revoke_user(self, name: str, *, actor: str = "cli") -> int:
        return users.revoke_user(self.engine, name, now=self.clock(), actor=actor)

    def list_users(self) -> list[User]:
        return users.list_users(self.engine)

    def authenticate(self, token: str | None) -> User:
        return users.authenticate(self.engine, token, now=self.clock())

    # reports
    def read(
        self,
        data: bytes | Path,
        *,
        format: str | None,
        user: User,
        source: str | None = None,
        agreement_id: str | None = None,
        line_offset: int = 0,
    ) -> tuple[ReportTable, IngestResult]:
        return ingest.read_reports(
            self.agreements,
            data,
            format=format,
            user=user,
            source=source,
            agreement_id=agreement_id,
            line_offset=line_offset,
        )

    def validate_reports(
        self, data: bytes | Path, *, format: str | None, user: User, agreement_id: str | None = None
    ) -> IngestResult:
        return ingest.validate_reports(
            self.engine, self.agreements, data, format=format, user=user, agreement_id=agreement_id
        )

    def ingest_reports(
        self,
        data: bytes | Path,
        *,
        format: str | None,
        user: User,
        source: str | None = None,
        agreement_id: str | None = None,
        line_offset: int = 0,
    ) -> IngestResult:
        """Parse, validate and store; committed before this returns."""
        table, result = self.read(
            data,
            format=format,
            user=user,
            source=source,
            agreement_id=agreement_id,
            line_offset=line_offset,
        )
        return self.store_reports(table, result, user=user, line_offset=line_offset)

    def store_reports(
        self, table: ReportTable, result: IngestResult, *, user: User, line_offset: int = 0
    ) -> IngestResult:
        stored = ingest.store_reports(
            self.engine, table, result, user=user, now=self.clock(), line_offset=line_offset
        )
        if stored.accepted:
            self.evaluations.reports_changed()
        return stored

    # evaluation and what a user may see
    def snapshot(self, agreement_id: str, *, as_of: datetime | None = None) -> Snapshot:
        return self.evaluations.snapshot(agreement_id, as_of=as_of)

    def current(self, agreement_id: str) -> Reading:
        return self.evaluations.current(agreement_id)

    def visibility(self, agreement_id: str, user: User) -> Visibility:
        sites = self.agreements.get(agreement_id).agreement.sites
        return load_visibility(self.engine, agreement_id, user, sites)

    def evaluation(
        self, agreement_id: str, user: User, *, as_of: datetime | None = None
    ) -> dict[str, Any]:
        return views.evaluation(self.evaluations, agreement_id, user, as_of=as_of)

    def summary(
        self,
        agreement_id: str,
        user: User,
        make: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        return views.summary(self.evaluations, agreement_id, user, make)

    def incident(self, agreement_id: str, key: str, user: User) -> dict[str, Any]:
        return views.incident(self.evaluations, agreement_id, key, user)

    def violation(self, key: str, user: User) -> dict[str, Any]:
        return views.violation(self.evaluations, key, user)

    def export(
        self,
        agreement_id: str,
        what: str,
        format_name: str,
        user: User,
        *,
        as_of: datetime | None = None,
    ) -> exports.Export:
        return exports.export(self.evaluations, agreement_id, what, format_name, user, as_of=as_of)

    # review and publishing
    def review(self, key: str, action: str, comment: str | None, user: User) -> dict[str, Any]:
        return review.review(self.evaluations, key, action, comment, user)

    def publish_incident(self, agreement_id: str, key: str, user: User) -> dict[str, Any]:
        return review.publish_incident(self.evaluations, agreement_id, key, user)

    # audit
    def verify_audit(self) -> audit_store.VerifyResult:
        return audit.verify_audit(self.engine)


__all__ = [
    "SHARED_ROLES",
    "AgreementEntry",
    "AgreementRegistry",
    "BadInput",
    "GazetteerError",
    "IngestResult",
    "Reading",
    "Service",
    "UnknownAgreement",
    "User",
    "Visibility",
    "split_violation_key",
    "utc_now",
    "violation_key",
]
