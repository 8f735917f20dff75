"""Reports in: parse and validate (SPEC §2), then store, one audit entry per batch.

A centre's reports always carry its own name as their source; any other token
may submit only under the source names it was granted (`User.submit_sources`):
a row under another source is rejected with the reason, and the refusals of a
stored batch are audited (`reports.source_refused`). Rows the store cannot hold
(see `unstorable_rows`) are rejected with the reason, never truncated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from truce.domain.access import require
from truce.domain.keys import report_key, report_keys
from truce.domain.model import ReportTable
from truce.service.agreements import AgreementRegistry
from truce.store import audit
from truce.store import reports as report_store
from truce.store.engine import read_transaction, write_transaction
from truce.store.users import User

_ACCEPTED, _DUPLICATE = "accepted", "duplicate"
# Text columns of a ReportTable, by their SPEC §2 names.
_TEXT_FIELDS = (
    *("report_id", "source", "place", "actor", "side", "target", "reliability", "notes"),
    *("source_url", "dataset", "original"),  # SPEC §4, and an imported row
)


@dataclass
class IngestResult:
    accepted: int = 0
    duplicate: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    stored: bool = True
    reports_version: int | None = None
    notices: list[str] = field(default_factory=list)  # about the file: e.g. unmapped kinds
    refused: list[dict[str, Any]] = field(default_factory=list)  # sources not granted; audited

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "results": self.results,
            "notices": self.notices,
        }


def read_reports(
    agreements: AgreementRegistry,
    data: bytes | Path,
    *,
    format: str | None,
    user: User,
    source: str | None = None,
    agreement_id: str | None = None,
    line_offset: int = 0,
) -> tuple[ReportTable, IngestResult]:
    """Parse and validate (SPEC §2) without storing; a centre's source is forced to its name."""
    from truce.formats.reports import read_reports as read_file
    from truce.library.gazetteer import Gazetteer, place_resolver

    require(user, "reports.submit")
    agreement = agreements.get(agreement_id).agreement if agreement_id else None
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
    may = user.submit_sources
    if source is None and may is not None and len(may) == 1:
        source = next(iter(may))  # rows without a source get the token's only one
    read = read_file(
        data,
        format=format,  # type: ignore[arg-type]
        source=forced or source,
        resolve_place=resolve_place,
    )
    table, dup_forced = read.reports, 0
    if forced:
        table, dup_forced = _force_source(table, forced)
    unstorable = unstorable_rows(table)
    if may is not None and not forced:
        _refuse_sources(table, may, user.name, unstorable)
    result = IngestResult(duplicate=read.duplicates + dup_forced, notices=list(read.notices))
    for r in read.rejected:
        # One rejection per field at fault, so a form can show each beside its field.
        for field_name, reason in r.problems or ((r.field, r.reason),):
            result.rejected.append(
                {
                    "line": r.line + line_offset,
                    "report_id": r.report_id,
                    "field": field_name,
                    "reason": reason,
                }
            )
        src = forced or r.source
        key = report_key(src, r.report_id) if src and r.report_id else None
        result.results.append({"line": r.line + line_offset, "key": key, "status": "rejected"})
    for i, (field_name, reason) in sorted(unstorable.items()):
        line = int(table.line[i]) + line_offset
        if reason.startswith(_NOT_GRANTED):
            result.refused.append(
                {"line": line, "source": str(table.source[i]), "report_id": str(table.report_id[i])}
            )
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


_NOT_GRANTED = "this token may not submit under source"


def _refuse_sources(
    table: ReportTable, may: frozenset[str], who: str, out: dict[int, tuple[str, str]]
) -> None:
    """Rows whose source `who`'s token was not granted, into `out` (first reason kept)."""
    sources = table.source.astype(str)
    bad = ~np.isin(sources, np.array(sorted(may), dtype=object).astype(str))
    granted = ", ".join(repr(s) for s in sorted(may))
    for i in np.flatnonzero(bad).tolist():
        out.setdefault(
            i,
            (
                "source",
                f"{_NOT_GRANTED} {sources[i]!r}: token {who!r} may submit under {granted} "
                "only (an admin grants more with 'truce users add ... --source NAME')",
            ),
        )


def validate_reports(
    engine: Engine,
    agreements: AgreementRegistry,
    data: bytes | Path,
    *,
    format: str | None,
    user: User,
    agreement_id: str | None = None,
) -> IngestResult:
    """What ingest would answer, storing nothing (duplicates checked against the store)."""
    table, result = read_reports(
        agreements, data, format=format, user=user, agreement_id=agreement_id
    )
    with read_transaction(engine) as conn:
        new = ~report_store.stored_rows(conn, table)
    _merge_results(table, result, new)
    result.stored = False
    return result


def store_reports(
    engine: Engine,
    table: ReportTable,
    result: IngestResult,
    *,
    user: User,
    now: datetime,
    line_offset: int = 0,
) -> IngestResult:
    """Store the parsed rows; one audit entry for the batch; committed before this returns."""
    keys = _keys(table)
    with write_transaction(engine) as conn:
        if result.refused:
            # Each refused row, so an attempt to post under another's name is on record.
            audit.append(
                conn, user.name, "reports.source_refused", {"rows": result.refused}, now=now
            )
            result.refused = []
        outcome = report_store.insert_reports(conn, table, submitted_by=user.name, received_at=now)
        if outcome.count:
            # Stored unpublished: a class that does not see them keeps its evaluation.
            result.reports_version = report_store.bump_version(conn, new_reports_only=True)
            new_keys = [k for k, is_new in zip(keys, outcome.new.tolist(), strict=True) if is_new]
            audit.append(
                conn,
                user.name,
                "reports.ingest",
                {
                    "accepted": outcome.count,
                    "sources": sorted(set(table.source[outcome.new].tolist())),
                    "keys_sha256": hashlib.sha256("\n".join(sorted(new_keys)).encode()).hexdigest(),
                    "reports_version": result.reports_version,
                },
                now=now,
            )
    _merge_results(table, result, outcome.new, line_offset, keys)
    return result


def _merge_results(
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


def _force_source(table: ReportTable, source: str) -> tuple[ReportTable, int]:
    """Every row's source becomes `source`; rows whose report_id then repeats are dropped."""
    table.source = np.full(len(table), source, dtype=object)
    _, first = np.unique(table.report_id.astype(str), return_index=True)
    keep = np.sort(first)
    return table.take(keep), len(table) - len(keep)


def _keys(table: ReportTable) -> list[str]:
    """`source:report_id` of every row."""
    return report_keys(table.source.tolist(), table.report_id.tolist())


def unstorable_rows(table: ReportTable) -> dict[int, tuple[str, str]]:
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
