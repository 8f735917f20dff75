"""Request bodies for report ingest: size limit, Content-Type -> format, JSON arrays."""

from __future__ import annotations

import json

from fastapi import Request

from truce.api.errors import PayloadTooLarge, UnsupportedMediaType
from truce.errors import BadInput

CSV_TYPES = frozenset({"text/csv", "application/csv"})
JSONL_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/json-lines"}
)
JSON_TYPES = frozenset({"application/json"})


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, or PayloadTooLarge as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"body of {int(declared):,} bytes exceeds the limit of {limit:,} bytes; "
            "split the file into smaller batches"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"body exceeds the limit of {limit:,} bytes; split the file into smaller batches"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def report_format(content_type: str | None) -> str:
    """'csv', 'jsonl' or 'json' from a Content-Type header."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in CSV_TYPES:
        return "csv"
    if media in JSONL_TYPES:
        return "jsonl"
    if media in JSON_TYPES:
        return "json"
    raise UnsupportedMediaType(
        f"unsupported Content-Type {media or '(none)'!r}: send reports as application/json "
        "(an array of objects), application/x-ndjson (JSON Lines) or text/csv"
    )


def to_reader_input(body: bytes, fmt: str) -> tuple[bytes, str]:
    """(data, format) for `read_reports`; a JSON array becomes JSON Lines (element i = line i+1)."""
    if not body.strip():
        raise BadInput("empty body: send at least one report")
    if fmt != "json":
        return body, fmt
    try:
        value = json.loads(body)
    except UnicodeDecodeError:
        raise BadInput("body is not UTF-8: send UTF-8 encoded JSON") from None
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}; "
            "send an array of report objects"
        ) from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise BadInput(f"expected a JSON array of report objects, got {type(value).__name__}")
    lines = [json.dumps(item, ensure_ascii=False) for item in value]
    return ("\n".join(lines) + "\n").encode("utf-8"), "jsonl"
