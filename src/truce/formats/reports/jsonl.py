"""JSON Lines report files (SPEC §2, the same keys as the CSV columns) to `TextRows`."""

from __future__ import annotations

import json

import numpy as np

from truce.domain.model import Rejection
from truce.formats.reports.rows import COLUMNS, Raw, TextRows, decode, text_array

_TOO_DEEP = "JSON nested too deeply: a report is one flat object of SPEC §2 fields"


def parse_jsonl(raw: Raw, start: int, name: str) -> TextRows:
    """One JSON object per line; blank lines are skipped, other lines rejected with
    their line number. Values are kept as text (numbers as Python writes them)."""
    text = decode(raw, start, name)
    values: dict[str, list[str]] = {c: [] for c in COLUMNS}
    lines: list[int] = []
    rejected: list[Rejection] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except RecursionError:
            rejected.append(Rejection(line=lineno, report_id=None, reason=_TOO_DEEP))
            continue
        except ValueError as exc:
            # Not a JSONDecodeError: an integer over Python's 4,300-digit limit; its
            # message ends with advice for programmers, which is dropped.
            msg = getattr(exc, "msg", str(exc).split(";")[0])
            col = getattr(exc, "colno", None)
            where = f" at column {col}" if col else ""
            rejected.append(
                Rejection(line=lineno, report_id=None, reason=f"not valid JSON: {msg}{where}")
            )
            continue
        if not isinstance(obj, dict):
            rejected.append(
                Rejection(
                    line=lineno, report_id=None, reason=f"not a JSON object: {type(obj).__name__}"
                )
            )
            continue
        try:
            row = {c: _json_text(obj.get(c)) for c in COLUMNS}
        except RecursionError:  # a value nested just under the reader's limit
            rejected.append(Rejection(line=lineno, report_id=None, reason=_TOO_DEEP))
            continue
        if "\\u" in line and not _encodable(row):
            rejected.append(
                Rejection(
                    line=lineno,
                    report_id=None,
                    reason="a value is not valid Unicode (an unpaired \\ud800-\\udfff escape)",
                )
            )
            continue
        for c, slot in values.items():
            slot.append(row[c])
        lines.append(lineno)
    return TextRows(
        {c: text_array(v) for c, v in values.items()}, np.array(lines, dtype=np.int64), rejected
    )


def _json_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def _encodable(row: dict[str, str]) -> bool:
    try:
        for value in row.values():
            value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
