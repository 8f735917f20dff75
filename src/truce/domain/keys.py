"""The stable keys, built and split in this one place.

A report is `source:report_id` (sources never contain ':'; ingest refuses
them), a violation `agreement:rule:source:report_id`, where `source:report_id`
is its incident's key (the incident's earliest report), so a violation keeps
its key across re-evaluation while that report stays the earliest.

>>> report_key("amman", "a-1")
'amman:a-1'
>>> violation_key("us-ru-2016-09", "r-cease", "amman:a-1")
'us-ru-2016-09:r-cease:amman:a-1'
>>> split_violation_key("us-ru-2016-09:r-cease:amman:a-1")
('us-ru-2016-09', 'r-cease', 'amman:a-1')
>>> split_report_key("amman:a:1")
('amman', 'a:1')
"""

from __future__ import annotations

from collections.abc import Iterable

from truce.errors import NotFound

SEP = ":"


def report_key(source: str, report_id: str) -> str:
    return f"{source}{SEP}{report_id}"


def report_keys(sources: Iterable[object], report_ids: Iterable[object]) -> list[str]:
    """`report_key` of each pair (the columns of a table, as lists)."""
    return [f"{s}{SEP}{r}" for s, r in zip(sources, report_ids, strict=True)]


def split_report_key(key: str) -> tuple[str, str]:
    """(source, report_id): split at the first ':' (a report_id may contain ':')."""
    source, _, report_id = key.partition(SEP)
    return source, report_id


def source_of(key: str) -> str:
    return key.partition(SEP)[0]


def violation_key(agreement_id: str, rule: str, incident_key: str) -> str:
    """Stable across re-evaluation while the incident's earliest report stays the same."""
    return f"{agreement_id}{SEP}{rule}{SEP}{incident_key}"


def split_violation_key(key: str) -> tuple[str, str, str]:
    """(agreement, rule, incident key); NotFound (404) for a key of another shape."""
    parts = key.split(SEP, 2)
    if len(parts) != 3 or not all(parts):
        raise NotFound(f"malformed violation key {key!r}: expected AGREEMENT:RULE:SOURCE:REPORT_ID")
    return parts[0], parts[1], parts[2]
