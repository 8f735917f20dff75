"""Bulletins (SPEC §7): canonical JSON (RFC 8785), one leaf of the centre's log.

Pure: the caller passes the rows, the evaluation and the clock's reading.

    {"truce_bulletin": 1, "origin": "amman", "seq": 12, "agreement": "us-ru-2016-09",
     "period": {"from": ..., "to": ...}, "issued_at": ...,
     "reports": [SPEC §2 rows with source], "reviews": [decisions in the period],
     "summary": {...}, "evaluation_digest": "<sha256 hex>",
     "holds": {"hmeimim": 11},
     "audit": {"entries": [audit entries since the last bulletin], "head": ..., "size": ...},
     "state": {"users": "<sha256 hex>", "reviews": "<sha256 hex>"}}

`holds` names, per peer, the last of its bulletins this centre had imported
when it issued this one: the evaluation behind `evaluation_digest` is over
this centre's own reports through this bulletin plus those peers' bulletins
through `holds`, so a peer holding the same can recompute it (convergence).
`audit` and `state` let the peer replay the audit chain and catch hand edits
(`witness_state.py`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from truce.exchange.canonical import canonical_json_fast

__all__ = [
    "BULLETIN_VERSION",
    "BulletinError",
    "build_bulletin",
    "decode_bulletin",
    "encode_bulletin",
    "evaluation_digest",
    "period_end",
    "report_dict",
    "summary",
]

BULLETIN_VERSION = 1
REQUIRED = (
    "truce_bulletin",
    "origin",
    "seq",
    "agreement",
    "period",
    "issued_at",
    "reports",
    "reviews",
    "summary",
    "evaluation_digest",
)
# Columns of the reports table that are bookkeeping of one database, not the report.
LOCAL_COLUMNS = frozenset({"id", "submitted_by", "published", "received_at", "geom"})


_TIME_COLUMNS = frozenset({"observed_at", "observed_to"})


def _iso_from_sqlite(text: str) -> str:
    """SQLite's stored UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]' written as `isoformat`
    writes the aware datetime, with Z: the seconds' fraction only when not zero."""
    fraction = text[19:].rstrip("0")
    whole = text[:10] + "T" + text[11:19]
    return f"{whole}{text[19:26] if len(fraction) > 1 else ''}Z"


class BulletinError(ValueError):
    """Bytes that are not a well-formed canonical bulletin."""


def iso(dt: datetime, tz: tzinfo) -> str:
    """ISO 8601 with the agreement's offset, to the second."""
    return dt.astimezone(tz).isoformat(timespec="seconds")


def report_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored report as its SPEC §2 fields (source included); empty fields left out."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in LOCAL_COLUMNS or value is None:
            continue
        if isinstance(value, datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
            value = value.isoformat().replace("+00:00", "Z")
        elif key in _TIME_COLUMNS and isinstance(value, str) and value[10:11] == " ":
            value = _iso_from_sqlite(value)
        out[key] = value
    return out


def summary(evaluation: Mapping[str, Any], reports: int) -> dict[str, Any]:
    """Counts a reader compares between bulletins: per party, per rule, per status."""
    violations = evaluation.get("violations", [])
    return {
        "reports": reports,
        "incidents": len(evaluation.get("incidents", [])),
        "violations": len(violations),
        "by_party": dict(sorted(Counter(str(v["party"]) for v in violations).items())),
        "by_rule": dict(sorted(Counter(str(v["rule"]) for v in violations).items())),
        "by_status": dict(sorted(Counter(str(v["status"]) for v in violations).items())),
    }


def evaluation_digest(evaluation: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the RFC 8785 bytes of a SPEC §3 evaluation object."""
    return hashlib.sha256(canonical_json_fast(evaluation)).hexdigest()


def build_bulletin(
    *,
    origin: str,
    seq: int,
    agreement: str,
    period_from: datetime,
    period_to: datetime,
    issued_at: datetime,
    tz: tzinfo,
    reports: Iterable[Mapping[str, Any]],
    reviews: Iterable[Mapping[str, Any]],
    evaluation: Mapping[str, Any],
    holds: Mapping[str, int],
    audit: Mapping[str, Any] | None = None,
    state: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    rows = sorted((report_dict(r) for r in reports), key=lambda r: (r["source"], r["report_id"]))
    bulletin: dict[str, Any] = {
        "truce_bulletin": BULLETIN_VERSION,
        "origin": origin,
        "seq": seq,
        "agreement": agreement,
        "period": {"from": iso(period_from, tz), "to": iso(period_to, tz)},
        "issued_at": iso(issued_at, tz),
        "reports": rows,
        "reviews": list(reviews),
        "summary": summary(evaluation, len(rows)),
        "evaluation_digest": evaluation_digest(evaluation),
        "holds": dict(sorted(holds.items())),
    }
    if audit is not None:
        bulletin["audit"] = dict(audit)
    if state is not None:
        bulletin["state"] = dict(state)
    return bulletin


def encode_bulletin(bulletin: Mapping[str, Any]) -> bytes:
    return canonical_json_fast(bulletin)


def decode_bulletin(data: bytes) -> dict[str, Any]:
    """Parse and check a bulletin: JSON, canonical, version 1, every required field."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BulletinError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BulletinError("a bulletin is a JSON object")
    missing = [k for k in REQUIRED if k not in value]
    if missing:
        raise BulletinError(f"missing fields: {', '.join(missing)}")
    if value["truce_bulletin"] != BULLETIN_VERSION:
        raise BulletinError(f"unknown bulletin version {value['truce_bulletin']!r}")
    if encode_bulletin(value) != data:
        raise BulletinError("not in canonical form (RFC 8785)")
    try:
        datetime.fromisoformat(value["period"]["from"])
        datetime.fromisoformat(value["period"]["to"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BulletinError(f"bad period: {exc}") from None
    return value


def period_end(now: datetime, interval: timedelta, tz: tzinfo) -> datetime:
    """The last interval boundary at or before `now`, boundaries aligned to local midnight.

    >>> from datetime import timezone
    >>> tz = timezone(timedelta(hours=3))
    >>> period_end(datetime(2016, 9, 13, 4, 10, tzinfo=tz), timedelta(hours=2), tz).isoformat()
    '2016-09-13T04:00:00+03:00'
    """
    local = now.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = (local - midnight) // interval
    return (midnight + steps * interval).astimezone(tz)
