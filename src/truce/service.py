"""Use cases shared by the API and the CLI: ingest, evaluation refresh, review,
publish, users, audit. No web framework here: callers pass a `User`, get plain
dicts and dataclasses back, and typed errors (`truce.store.errors`) out.

Who sees what (`Visibility`):
- admin, secretariat: everything.
- centre, humanitarian: what the secretariat published, plus incidents and
  violations built from their own submissions (unpublished reports of others
  are left out of `report_ids` and `sources`).
- observer: only what the secretariat published.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

import truce
from truce.domain.errors import GazetteerError, UnknownAgreement
from truce.domain.model import Agreement, ReportTable
from truce.store import audit, derived, reviews
from truce.store import reports as report_store
from truce.store import users as user_store
from truce.store.engine import make_engine, read_transaction, write_transaction
from truce.store.errors import BadInput, Conflict, Forbidden, NotFound
from truce.store.users import User

SUBMIT_ROLES = frozenset({"admin", "secretariat", "centre", "humanitarian"})
PUBLISH_ROLES = frozenset({"admin", "secretariat"})
SHARED_ROLES = frozenset({"centre", "humanitarian"})
# How long a request waits for another process's computation before computing itself
# (without storing); a lease older than derived.LEASE_S is taken over.
WAIT_FOR_OTHER_COMPUTE_S = 120.0
AS_OF_CACHE_SIZE = 32


def utc_now() -> datetime:
    return datetime.now(UTC)


# --- agreements -------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementEntry:
    agreement: Agreement
    digest: str  # changes when the file (or truce's version) changes: invalidates the cache
    origin: str


class AgreementRegistry:
    """The agreements a server serves: the built-in library plus extra files."""

    def __init__(self, entries: list[AgreementEntry]) -> None:
        self._by_id = {e.agreement.id: e for e in entries}

    @classmethod
    def load(
        cls, extra_files: list[Path] | tuple[Path, ...] = (), *, builtins: bool = True
    ) -> AgreementRegistry:
        from truce.formats.agreement import load_agreement, parse_agreement
        from truce.library.catalog import builtin_files

        entries: list[AgreementEntry] = []
        if builtins:
            for res in builtin_files():
                text = res.read_text(encoding="utf-8")
                a = parse_agreement(text, file=f"library/agreements/{res.name}")
                entries.append(AgreementEntry(a, _digest(text.encode()), f"library:{res.name}"))
        for path in extra_files:
            path = Path(path)
            a = load_agreement(path)
            entries.append(AgreementEntry(a, _digest(path.read_bytes()), str(path)))
        return cls(entries)

    def get(self, agreement_id: str) -> AgreementEntry:
        try:
            return self._by_id[agreement_id]
        except KeyError:
            known = ", ".join(sorted(self._by_id)) or "(none)"
            raise NotFound(f"unknown agreement {agreement_id!r}; known: {known}") from None

    def all(self) -> list[AgreementEntry]:
        return [self._by_id[k] for k in sorted(self._by_id)]


def _digest(data: bytes) -> str:
    return hashlib.sha256(truce.__version__.encode() + b"\0" + data).hexdigest()


# --- keys ---------------------------------------------------------------------------


def violation_key(agreement_id: str, rule: str, incident_key: str) -> str:
    """Stable across re-evaluation while the incident's earliest report stays the same."""
    return f"{agreement_id}:{rule}:{incident_key}"


def split_violation_key(key: str) -> tuple[str, str, str]:
    parts = key.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise NotFound(f"malformed violation key {key!r}: expected AGREEMENT:RULE:SOURCE:REPORT_ID")
    return parts[0], parts[1], parts[2]


# --- ingest -------------------------------------------------------------------------


@dataclass
class IngestResult:
    accepted: int = 0
    duplicate: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    stored: bool = True
    reports_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "results": self.results,
        }


def _force_source(table: ReportTable, source: str) -> tuple[ReportTable, int]:
    """Every row's source becomes `source`; rows whose report_id then repeats are dropped."""
    table.source = np.full(len(table), source, dtype=object)
    _, first = np.unique(table.report_id.astype(str), return_index=True)
    keep = np.sort(first)
    return table.take(keep), len(table) - len(keep)


_ACCEPTED, _DUPLICATE = "accepted", "duplicate"
# Text columns of a ReportTable, by their SPEC §2 names.
_TEXT_FIELDS = ("report_id", "source", "place", "actor", "side", "target", "reliability", "notes")


def _keys(table: ReportTable) -> list[str]:
    """`source:report_id` of every row."""
    return [
        f"{s}:{r}" for s, r in zip(table.source.tolist(), table.report_id.tolist(), strict=True)
    ]


def _unstorable_rows(table: ReportTable) -> dict[int, tuple[str, str]]:
    """Rows the store cannot take as they are, with the field and the reason (first found):
    a ':' in a source would make `source:report_id` keys ambiguous; PostgreSQL text
    cannot hold NUL (0x00) nor exceed a column's length, so neither backend stores those."""
    out: dict[int, tuple[str, str]] = {}
    sources, joined = _texts(table.source)
    if ":" in joined:
        for i, s in enumerate(sources):
            if ":" in s:
                out[i] = ("source", f"source {s!r} contains ':'; use a name without it")
    for name in _TEXT_FIELDS:
        values, joined = _texts(getattr(table, name))
        if "\x00" in joined:
            for i, v in enumerate(values):
                if "\x00" in v:
                    reason = f"{name} contains a NUL character (0x00); remove it and send again"
                    out.setdefault(i, (name, reason))
        limit = report_store.TEXT_LIMITS.get(name)
        if limit is not None and len(joined) > limit:
            lengths = np.fromiter(map(len, values), np.int64, len(values))
            for i in np.flatnonzero(lengths > limit).tolist():
                reason = f"{name} is {len(values[i])} characters long; at most {limit} are stored"
                out.setdefault(i, (name, reason))
    return out


def _texts(values: np.ndarray) -> tuple[list[str], str]:
    """The values as str, and all of them joined (one C-level pass finds a character)."""
    items = values.tolist()
    try:
        return items, "".join(items)
    except TypeError:  # not all str
        items = [str(v) for v in items]
        return items, "".join(items)


# --- the service ----------------------------------------------------------------------


class Service:
    """One per process: owns nothing global but the engine it was given."""

    def __init__(
        self,
        engine: Engine,
        agreements: AgreementRegistry,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.engine = engine
        self.agreements = agreements
        self.clock = clock
        self.computations = 0  # evaluations this process computed (for tests and logs)
        # Evaluations for explicit `as_of` instants, per reports version (in-process only).
        self._as_of_cache: OrderedDict[tuple[str, str, int, datetime], dict[str, Any]] = (
            OrderedDict()
        )
        self._as_of_lock = threading.Lock()
        # The last snapshot this process parsed, per agreement (reused while it is current).
        self._memo: dict[str, derived.Snapshot] = {}

    @classmethod
    def from_url(cls, url: str, agreement_files: tuple[Path, ...] = ()) -> Service:
        return cls(make_engine(url), AgreementRegistry.load(agreement_files))

    # --- users ---------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        role: str,
        party: str | None = None,
        *,
        expires_at: datetime | None = None,
        actor: str = "cli",
    ) -> tuple[User, str]:
        now = self.clock()
        with write_transaction(self.engine) as conn:
            user, token = user_store.add(conn, name, role, party, expires_at=expires_at, now=now)
            audit.append(
                conn,
                actor,
                "user.add",
                {
                    "name": name,
                    "role": role,
                    "party": party,
                    "expires_at": expires_at and expires_at.isoformat(),
                },
            )
        return user, token

    def revoke_user(self, name: str, *, actor: str = "cli") -> int:
        with write_transaction(self.engine) as conn:
            n = user_store.revoke(conn, name, now=self.clock())
            audit.append(conn, actor, "user.revoke", {"name": name, "tokens": n})
        return n

    def list_users(self) -> list[User]:
        return user_store.list_users(self.engine)

    def authenticate(self, token: str | None) -> User:
        return user_store.authenticate(self.engine, token, now=self.clock())

    # --- reports ---------------------------------------------------------------------

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
        """Parse and validate (SPEC §2) without storing; a centre's source is forced to its name."""
        from truce.formats.reports import read_reports
        from truce.library.gazetteer import Gazetteer, place_resolver

        if user.role not in SUBMIT_ROLES:
            raise Forbidden(f"role {user.role!r} may not submit reports")
        agreement = self.agreements.get(agreement_id).agreement if agreement_id else None
        resolver: list[Callable[[str], tuple[float, float, float]]] = []

        def resolve_place(name: str) -> tuple[float, float, float]:
            # The gazetteer is built on the first place name: most batches have none.
            if not resolver:
                gazetteer = Gazetteer.load()
                if agreement is not None:
                    gazetteer = gazetteer.with_agreement(agreement)
                resolver.append(place_resolver(gazetteer))
            return resolver[0](name)

        forced = user.name if user.role == "centre" else None
        read = read_reports(
            data,
            format=format,  # type: ignore[arg-type]
            source=forced or source,
            resolve_place=resolve_place,
        )
        table, dup_forced = read.reports, 0
        if forced:
            table, dup_forced = _force_source(table, forced)
        unstorable = _unstorable_rows(table)
        result = IngestResult(duplicate=read.duplicates + dup_forced)
        for r in read.rejected:
            result.rejected.append(
                {
                    "line": r.line + line_offset,
                    "report_id": r.report_id,
                    "field": r.field,
                    "reason": r.reason,
                }
            )
            src = forced or r.source
            key = f"{src}:{r.report_id}" if src and r.report_id else None
            result.results.append({"line": r.line + line_offset, "key": key, "status": "rejected"})
        for i, (field_name, reason) in sorted(unstorable.items()):
            line = int(table.line[i]) + line_offset
            result.rejected.append(
                {
                    "line": line,
                    "report_id": str(table.report_id[i]),
                    "field": field_name,
                    "reason": reason,
                }
            )
            result.results.append({"line": line, "key": None, "status": "rejected"})
        if unstorable:
            keep = np.ones(len(table), dtype=bool)
            keep[list(unstorable)] = False
            table = table.take(np.flatnonzero(keep))
        return table, result

    def validate_reports(
        self, data: bytes | Path, *, format: str | None, user: User, agreement_id: str | None = None
    ) -> IngestResult:
        """What ingest would answer, storing nothing (duplicates checked against the store)."""
        table, result = self.read(data, format=format, user=user, agreement_id=agreement_id)
        with read_transaction(self.engine) as conn:
            new = ~report_store.stored_rows(conn, table)
        self._results(table, result, new)
        result.stored = False
        return result

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
        """Store the parsed rows; one audit entry for the batch; committed before this returns."""
        now = self.clock()
        keys = _keys(table)
        with write_transaction(self.engine) as conn:
            outcome = report_store.insert_reports(
                conn, table, submitted_by=user.name, received_at=now
            )
            if outcome.count:
                result.reports_version = report_store.bump_version(conn)
                new_keys = [
                    k for k, is_new in zip(keys, outcome.new.tolist(), strict=True) if is_new
                ]
                audit.append(
                    conn,
                    user.name,
                    "reports.ingest",
                    {
                        "accepted": outcome.count,
                        "sources": sorted(set(table.source[outcome.new].tolist())),
                        "keys_sha256": hashlib.sha256(
                            "\n".join(sorted(new_keys)).encode()
                        ).hexdigest(),
                        "reports_version": result.reports_version,
                    },
                )
        self._results(table, result, outcome.new, line_offset, keys)
        return result

    @staticmethod
    def _results(
        table: ReportTable,
        result: IngestResult,
        new: np.ndarray,
        line_offset: int = 0,
        keys: list[str] | None = None,
    ) -> None:
        """One result per stored-or-duplicate row, merged in line order with the rejections."""
        accepted = int(new.sum())
        result.accepted += accepted
        result.duplicate += len(new) - accepted
        status = [_ACCEPTED if x else _DUPLICATE for x in new.tolist()]
        keys = keys if keys is not None else _keys(table)
        lines = (table.line + line_offset).tolist()
        rows = [
            {"line": line, "key": key, "status": st}
            for line, key, st in zip(lines, keys, status, strict=True)
        ]
        in_order = bool((np.diff(table.line) >= 0).all())
        if result.results or not in_order:
            result.results.extend(rows)
            result.results.sort(key=lambda r: r["line"])
        else:
            result.results = rows
        result.rejected.sort(key=lambda r: r["line"])

    # --- evaluation (cached per reports version) ------------------------------------------

    def snapshot(self, agreement_id: str, *, as_of: datetime | None = None) -> dict[str, Any]:
        """The agreement's evaluation over all stored reports, unfiltered.

        Without `as_of`: the shared cached snapshot, recomputed at most once per
        reports version (and when a phase boundary or local midnight passes).
        With `as_of`: computed for that instant, not cached.
        """
        entry = self.agreements.get(agreement_id)
        if as_of is not None:
            return self._snapshot_as_of(entry, as_of)
        deadline = time.monotonic() + WAIT_FOR_OTHER_COMPUTE_S
        delay = 0.02
        while True:
            now = self.clock()
            with read_transaction(self.engine) as conn:
                version = report_store.reports_version(conn)
                snap = derived.load(conn, agreement_id, self._memo.get(agreement_id))
            if snap is not None and snap.fresh(version, entry.digest, now):
                self._memo[agreement_id] = snap
                return snap.data
            token = derived.claim(self.engine, agreement_id, now=now)
            if token is not None:
                try:
                    with read_transaction(self.engine) as conn:
                        version = report_store.reports_version(conn)
                        snap = derived.load(conn, agreement_id, self._memo.get(agreement_id))
                    if snap is not None and snap.fresh(version, entry.digest, now):
                        derived.release(self.engine, agreement_id, token)
                        return snap.data
                    new, data = self._compute(entry, now)
                    if derived.store(self.engine, new, token):
                        self._memo[agreement_id] = new
                    return data
                except BaseException:
                    derived.release(self.engine, agreement_id, token)
                    raise
            if time.monotonic() > deadline:
                return self._compute(entry, now)[1]
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def _snapshot_as_of(self, entry: AgreementEntry, as_of: datetime) -> dict[str, Any]:
        with read_transaction(self.engine) as conn:
            version = report_store.reports_version(conn)
        key = (entry.agreement.id, entry.digest, version, as_of)
        with self._as_of_lock:
            if key in self._as_of_cache:
                self._as_of_cache.move_to_end(key)
                return self._as_of_cache[key]
        snap, data = self._compute(entry, as_of)
        with self._as_of_lock:
            self._as_of_cache[(entry.agreement.id, entry.digest, snap.reports_version, as_of)] = (
                data
            )
            while len(self._as_of_cache) > AS_OF_CACHE_SIZE:
                self._as_of_cache.popitem(last=False)
        return data

    def _compute(
        self, entry: AgreementEntry, as_of: datetime
    ) -> tuple[derived.Snapshot, dict[str, Any]]:
        from truce.domain.evaluate import evaluate
        from truce.formats.evaluation_json import evaluation_to_dict

        with read_transaction(self.engine) as conn:
            version = report_store.reports_version(
                conn
            )  # read first: the data is at least this new
            table, _ = report_store.load_all(conn)
        ev = evaluate(entry.agreement, table, as_of=as_of)
        self.computations += 1
        data = evaluation_to_dict(ev)
        key_of = {inc["id"]: inc["key"] for inc in data["incidents"]}
        for v in data["violations"]:
            v["incident_key"] = key_of[v["incident"]]
            v["key"] = violation_key(entry.agreement.id, v["rule"], v["incident_key"])
        future = table.observed_at[
            table.observed_at > np.datetime64(as_of.astimezone(UTC).replace(tzinfo=None), "ns")
        ]
        snap = derived.Snapshot(
            agreement_id=entry.agreement.id,
            reports_version=version,
            agreement_digest=entry.digest,
            as_of=as_of,
            valid_until=_valid_until(entry.agreement, data, as_of, future),
            computed_at=self.clock(),
            data=data,
        )
        return snap, data

    # --- what a user may see ------------------------------------------------------------

    def visibility(self, agreement_id: str, user: User) -> Visibility:
        with read_transaction(self.engine) as conn:
            states = reviews.states_for(conn, agreement_id)
            pub_incidents = reviews.published_incidents(conn, agreement_id)
            own = (
                report_store.keys_submitted_by(conn, user.name, or_source=user.role == "centre")
                if user.role in SHARED_ROLES
                else set()
            )
        return Visibility(user, states, pub_incidents, own)

    def evaluation(
        self, agreement_id: str, user: User, *, as_of: datetime | None = None
    ) -> dict[str, Any]:
        data = self.snapshot(agreement_id, as_of=as_of)
        return self.visibility(agreement_id, user).filter(data)

    def incident(self, agreement_id: str, key: str, user: User) -> dict[str, Any]:
        view = self.evaluation(agreement_id, user)
        inc = next((i for i in view["incidents"] if i["key"] == key), None)
        if inc is None:
            raise NotFound(
                f"no incident {key!r} in agreement {agreement_id!r} (or not visible to you)"
            )
        with read_transaction(self.engine) as conn:
            rows = report_store.fetch_by_keys(conn, inc["report_ids"])
            histories: dict[str, list[dict[str, Any]]] = {}
            for v in view["violations"]:
                if v["incident_key"] == key:
                    state = reviews.get(conn, v["key"])
                    histories[v["key"]] = state.history if state else []
        tz = self.agreements.get(agreement_id).agreement.timezone
        inc = dict(inc)
        inc["reports"] = sorted(
            (_report_public(r, tz) for r in rows), key=lambda r: (r["observed_at"], r["key"])
        )
        inc["violations"] = [
            {**v, "history": histories[v["key"]]}
            for v in view["violations"]
            if v["incident_key"] == key
        ]
        return inc

    def violation(self, key: str, user: User) -> dict[str, Any]:
        agreement_id, _, _ = split_violation_key(key)
        view = self.evaluation(agreement_id, user)
        current = next((v for v in view["violations"] if v["key"] == key), None)
        with read_transaction(self.engine) as conn:
            review = reviews.get(conn, key)
        if current is not None:
            return {**current, "current": True, "history": review.history if review else []}
        if (
            review is not None
            and review.last_seen is not None
            and (user.sees_everything or review.published)
        ):
            return {
                **review.last_seen,
                "review": review.state,
                "published": review.published,
                "current": False,
                "history": review.history,
            }
        raise NotFound(f"no violation {key!r} (or not visible to you)")

    def review(self, key: str, action: str, comment: str | None, user: User) -> dict[str, Any]:
        agreement_id, rule, incident_key = split_violation_key(key)
        reviews.check_allowed(user, action)
        data = self.snapshot(agreement_id)
        view = self.visibility(agreement_id, user).filter(data)
        current = next((v for v in view["violations"] if v["key"] == key), None)
        if current is None:
            raise NotFound(
                f"no current violation {key!r} (or not visible to you); only current violations can be reviewed"
            )
        incident = next(i for i in data["incidents"] if i["key"] == incident_key)
        plain = {
            k: v
            for k, v in current.items()
            if k not in ("review", "published", "history", "current")
        }
        state = reviews.apply(
            self.engine,
            violation_key=key,
            agreement_id=agreement_id,
            rule=rule,
            incident_key=incident_key,
            report_keys=incident["report_ids"],
            violation=plain,
            action=action,
            comment=comment,
            user=user,
            now=self.clock(),
        )
        return {
            **plain,
            "review": state.state,
            "published": state.published,
            "current": True,
            "history": state.history,
        }

    def publish_incident(self, agreement_id: str, key: str, user: User) -> dict[str, Any]:
        if user.role not in PUBLISH_ROLES:
            raise Forbidden(f"role {user.role!r} may not publish; the secretariat publishes")
        data = self.snapshot(agreement_id)
        inc = next((i for i in data["incidents"] if i["key"] == key), None)
        if inc is None:
            raise NotFound(f"no incident {key!r} in agreement {agreement_id!r}")
        with write_transaction(self.engine) as conn:
            new = reviews.publish_incident(
                conn, agreement_id, key, inc["report_ids"], user.name, self.clock()
            )
            if not new:
                raise Conflict(f"incident {key!r} is already published")
            audit.append(
                conn, user.name, "incident.publish", {"agreement": agreement_id, "incident": key}
            )
        return self.incident(agreement_id, key, user)

    # --- audit ---------------------------------------------------------------------------

    def verify_audit(self) -> audit.VerifyResult:
        return audit.verify(self.engine)


def _report_public(row: dict[str, Any], tz: Any) -> dict[str, Any]:
    observed = row["observed_at"]
    if observed.tzinfo is None:
        observed = observed.replace(tzinfo=UTC)
    rel, cred = row["reliability"], row["credibility"]
    return {
        "key": f"{row['source']}:{row['report_id']}",
        "source": row["source"],
        "report_id": row["report_id"],
        "observed_at": observed.astimezone(tz).replace(microsecond=0).isoformat(),
        "lon": row["lon"],
        "lat": row["lat"],
        "place": row["place"],
        "event_type": row["event_type"],
        "reliability": rel,
        "credibility": cred,
        "grade": f"{rel or 'F'}{cred or 6}",
        "actor": row["actor"],
        "side": row["side"],
        "target": row["target"],
        "weapon": row["weapon"],
        "count": row["count"],
        "fatalities": row["fatalities"],
        "notes": row["notes"],
    }


def _valid_until(
    agreement: Agreement, data: dict[str, Any], as_of: datetime, future: np.ndarray
) -> datetime | None:
    """The first instant after `as_of` at which the evaluation could change without new reports."""
    candidates: list[datetime] = []
    for p in data["phases"]:
        for t in (p["start"], p["end"]):
            if t:
                dt = datetime.fromisoformat(t)
                if dt > as_of:
                    candidates.append(dt)
    if any(c["met_at"] is None for c in data["conditions"]):
        local = as_of.astimezone(agreement.timezone)
        candidates.append(
            (
                local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
            ).astimezone(UTC)
        )
    if len(future):
        first = int(np.min(future).astype("datetime64[us]").astype(np.int64))
        candidates.append(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=first))
    return min(candidates) if candidates else None


@dataclass
class Visibility:
    """Filters an evaluation for one user and adds review states."""

    user: User
    states: dict[str, tuple[str, bool]]
    published_incidents: set[str]
    own_reports: set[str]

    def filter(self, data: dict[str, Any]) -> dict[str, Any]:
        full = self.user.sees_everything
        shared = self.user.role in SHARED_ROLES
        incidents: list[dict[str, Any]] = []
        visible_incidents: dict[str, bool] = {}  # incident key -> own (shared users)
        for inc in data["incidents"]:
            published = inc["key"] in self.published_incidents
            own = [k for k in inc["report_ids"] if k in self.own_reports] if shared else []
            if not (full or published or own):
                continue
            out = {**inc, "published": published}
            if not (full or published):
                out["report_ids"] = own
                out["sources"] = sorted({k.split(":", 1)[0] for k in own})
            visible_incidents[inc["key"]] = bool(own)
            incidents.append(out)
        violations = []
        for v in data["violations"]:
            state, published = self.states.get(v["key"], ("alleged", False))
            if not (full or published or (shared and visible_incidents.get(v["incident_key"]))):
                continue
            violations.append({**v, "review": state, "published": published})
        shown = {v["id"] for v in violations}
        for inc in incidents:
            inc["violations"] = [vid for vid in inc.get("violations", []) if vid in shown]
        return {**data, "incidents": incidents, "violations": violations}


__all__ = [
    "AgreementEntry",
    "AgreementRegistry",
    "BadInput",
    "GazetteerError",
    "IngestResult",
    "Service",
    "UnknownAgreement",
    "User",
    "Visibility",
    "split_violation_key",
    "violation_key",
]
