"""JSON Lines report files (SPEC §2, the same keys as the CSV columns) to `TextRows`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import repeat

import numpy as np
import orjson

from truce.domain.model import Rejection
from truce.formats.reports.rows import COLUMNS, Raw, TextRows, decode, text_array

_TOO_DEEP = "JSON nested too deeply: a report is one flat object of SPEC §2 fields"
_TEXT = frozenset({str, type(None)})
_NUMBERS = frozenset({int, float, type(None)})
_NOT_UNICODE = "a value is not valid Unicode (an unpaired \\ud800-\\udfff escape)"


def parse_jsonl(raw: Raw, start: int, name: str) -> TextRows:
    """One JSON object per line; blank lines are skipped, other lines rejected with
    their line number. Values are kept as text (numbers as Python writes them)."""
    text = decode(raw, start, name)
    objects: list[dict[str, object]] = []
    lines: list[int] = []
    rejected: list[Rejection] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = _loads(line)
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
        objects.append(obj)
        lines.append(lineno)
    rows = object_rows(objects, np.array(lines, dtype=np.int64))
    rows.rejected[:0] = rejected
    rows.rejected.sort(key=lambda r: r.line)
    return rows


def object_rows(objects: Sequence[dict[str, object]], lines: np.ndarray) -> TextRows:
    """Report objects (already parsed JSON) as text columns, column by column; an object
    with a value nested too deeply, or not valid Unicode, is rejected."""
    keep = np.ones(len(objects), dtype=bool)
    reasons: dict[int, str] = {}
    texts: dict[str, list[str]] = {}
    for c in COLUMNS:
        values = list(map(dict.get, objects, repeat(c)))  # C speed, unlike a comprehension
        kinds = set(map(type, values))
        # Whole columns at C speed where they hold only text or only numbers (most do).
        column: list[str]
        if kinds <= _TEXT:
            column = ["" if v is None else v for v in values]  # type: ignore[misc]
        elif kinds <= _NUMBERS:
            column = ["" if v is None else repr(v) for v in values]
        else:
            column = []
            for i, v in enumerate(values):
                try:
                    column.append(_json_text(v))
                except RecursionError:  # a value nested just under the reader's limit
                    reasons.setdefault(i, _TOO_DEEP)
                    column.append("")
        try:
            "".join(column).encode("utf-8")
        except UnicodeEncodeError:
            for i, v in enumerate(column):
                if not v.isascii() and not _encodable(v):
                    reasons.setdefault(i, _NOT_UNICODE)
                    column[i] = ""
        texts[c] = column
    rejected = [
        Rejection(line=int(lines[i]), report_id=None, reason=r) for i, r in sorted(reasons.items())
    ]
    if reasons:
        keep[list(reasons)] = False
        texts = {c: [v for v, k in zip(col, keep, strict=True) if k] for c, col in texts.items()}
        lines = lines[keep]
    return TextRows({c: text_array(v) for c, v in texts.items()}, lines, rejected)


def _loads(line: str) -> object:
    """orjson (several times faster); the standard library's parser where orjson refuses,
    so what is accepted and the messages of what is not stay the standard's."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


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


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
