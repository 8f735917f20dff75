"""The audit log's hash chain, pure: hash an entry, verify a sequence of entries.

Entry n's hash is sha256 over the canonical JSON of {seq, at, actor, action,
payload, prev_hash}, where prev_hash is entry n-1's hash (64 zeros for the
first) and `payload` is itself canonical JSON text. `verify_chain` reports the
first entry that was edited, removed or reordered, and a removed tail (the
recorded head no longer matches). Storage (`truce.store.audit`) only reads and
appends rows; the time of an entry is given by the caller's clock.

>>> h = entry_hash(1, "2016-09-12T16:00:00.000000+00:00", "cli", "user.add", "{}", GENESIS)
>>> h[:16]
'28a5a8fa5e6caf3f'
>>> verify_chain([Entry(1, "2016-09-12T16:00:00.000000+00:00", "cli", "user.add", "{}",
...                     GENESIS, h)], head=(1, h)).ok
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone  # noqa: F401 (doctest)
from typing import Any, Protocol

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the same value always gives the same text.

    >>> canonical_json({"b": 1, "a": "é"})
    '{"a":"é","b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_time(now: datetime) -> str:
    """How an entry's `at` is written (part of what is hashed): UTC, microseconds.

    >>> entry_time(datetime(2016, 9, 12, 19, 0, tzinfo=timezone(timedelta(hours=3))))
    '2016-09-12T16:00:00.000000+00:00'
    """
    return now.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(seq: int, at: str, actor: str, action: str, payload: str, prev_hash: str) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "payload": payload,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class EntryLike(Protocol):
    """A stored entry: a row of `audit_log`, or an `Entry`."""

    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def payload(self) -> str: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    actor: str
    action: str
    payload: str
    prev_hash: str
    hash: str


def make_entry(
    seq: int, prev_hash: str, actor: str, action: str, payload: Any, *, now: datetime
) -> Entry:
    """The next entry after one whose hash is `prev_hash` (GENESIS for the first)."""
    at, text = entry_time(now), canonical_json(payload)
    return Entry(
        seq, at, actor, action, text, prev_hash, entry_hash(seq, at, actor, action, text, prev_hash)
    )


@dataclass(frozen=True)
class AuditProblem:
    seq: int | None
    message: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.message}" if self.seq is not None else self.message


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    problems: list[AuditProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(entries: Iterable[EntryLike], head: tuple[int, str] | None) -> VerifyResult:
    """Recompute the chain in storage order (by seq) and compare every link, then the
    recorded head (`(seq, hash)`; None when the head record is missing)."""
    problems: list[AuditProblem] = []
    n = 0
    prev = GENESIS
    expected_seq = 1
    for e in entries:
        n += 1
        if e.seq != expected_seq:
            problems.append(
                AuditProblem(
                    e.seq,
                    f"expected entry {expected_seq} here: entries are missing or were renumbered",
                )
            )
        if e.prev_hash != prev:
            problems.append(
                AuditProblem(
                    e.seq,
                    "prev_hash does not match the entry before it: an entry was removed, "
                    "inserted or reordered",
                )
            )
        if entry_hash(e.seq, e.at, e.actor, e.action, e.payload, e.prev_hash) != e.hash:
            problems.append(
                AuditProblem(e.seq, "content does not match its hash: the entry was edited")
            )
        prev = e.hash
        expected_seq = e.seq + 1
    if head is None:
        problems.append(AuditProblem(None, "the audit head record is missing"))
    elif head != (n, prev):
        problems.append(
            AuditProblem(
                None,
                f"the chain ends at entry {n} ({prev[:12]}…) but the recorded head is entry "
                f"{head[0]} ({head[1][:12]}…): entries at the end were "
                "removed or added outside truce",
            )
        )
    return VerifyResult(entries=n, problems=problems)
