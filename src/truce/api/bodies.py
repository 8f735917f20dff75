"""Request bodies for report ingest: size limit, Content-Type -> format, JSON arrays."""

from __future__ import annotations

import json
import zlib

from fastapi import Request

from truce.api.errors import PayloadTooLarge, UnsupportedMediaType
from truce.errors import BadInput

CSV_TYPES = frozenset({"text/csv", "application/csv"})
JSONL_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/json-lines"}
)
JSON_TYPES = frozenset({"application/json"})
GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip"})
# The importers' formats (SPEC §4): CSV files, named by `?format=` or `; format=`.
INPUT_FORMATS = ("auto", "truce", "ucdp-ged", "acled", "hxl")


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


def report_format(content_type: str | None, requested: str | None = None) -> str:
    """The reader's format from the Content-Type and a `format` (query parameter, or a
    parameter of the media type): 'json', 'jsonl', 'csv' (SPEC §2), or an input format
    ('auto', 'ucdp-ged', 'acled', 'hxl') for CSV or gzip bodies."""
    media, _, params = (content_type or "").partition(";")
    media = media.strip().lower()
    in_type = _media_parameter(params, "format")
    if requested and in_type and requested != in_type:
        raise BadInput(
            f"format {requested!r} in the query and {in_type!r} in the Content-Type disagree"
        )
    wanted = (requested or in_type or "").strip().lower()
    if wanted and wanted not in INPUT_FORMATS:
        raise BadInput(f"unknown format {wanted!r}; use one of {', '.join(INPUT_FORMATS)}")
    if media in JSONL_TYPES or media in JSON_TYPES:
        if wanted not in ("", "auto", "truce"):
            raise UnsupportedMediaType(
                f"format {wanted!r} is a CSV file: send it as text/csv (or application/gzip)"
            )
        return "jsonl" if media in JSONL_TYPES else "json"
    if media in CSV_TYPES or media in GZIP_TYPES:
        if wanted == "truce":
            return "truce"
        return wanted or "auto"  # a SPEC §2 CSV is recognised by its header too
    raise UnsupportedMediaType(
        f"unsupported Content-Type {media or '(none)'!r}: send reports as application/json "
        "(an array of objects), application/x-ndjson (JSON Lines), text/csv or "
        "application/gzip (any of these compressed)"
    )


def _media_parameter(params: str, name: str) -> str | None:
    for part in params.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return value.strip().strip('"').lower() or None
    return None


def gunzip(body: bytes, limit: int) -> bytes:
    """`body` itself, or its decompressed content when it is gzip data; PayloadTooLarge
    as soon as that passes `limit` bytes (the limit holds for what is read, not sent)."""
    if body[:2] != b"\x1f\x8b":
        return body
    inflater = zlib.decompressobj(wbits=47)  # gzip or zlib, header detected
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadInput(f"body is not valid gzip data ({exc})") from None
    if len(out) > limit:
        raise PayloadTooLarge(
            f"body decompresses to more than the limit of {limit:,} bytes; "
            "split the file into smaller batches"
        )
    if not inflater.eof:
        raise BadInput("the gzip body ends early: the file is truncated; send it again")
    return out


def to_reader_input(body: bytes, fmt: str, limit: int | None = None) -> tuple[bytes, str]:
    """(data, format) for `read_reports`; a JSON array becomes JSON Lines (element i = line
    i+1); a gzip body is decompressed (within `limit` bytes, when given)."""
    if limit is not None:
        body = gunzip(body, limit)
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
    except RecursionError:
        raise BadInput(_TOO_DEEP) from None
    except ValueError as exc:  # an integer over Python's 4,300-digit limit
        raise BadInput(f"unreadable JSON: {_first_sentence(exc)}; send plain numbers") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise BadInput(f"expected a JSON array of report objects, got {type(value).__name__}")
    try:
        lines = [json.dumps(item, ensure_ascii=False) for item in value]
    except RecursionError:
        raise BadInput(_TOO_DEEP) from None
    return ("\n".join(lines) + "\n").encode("utf-8"), "jsonl"


_TOO_DEEP = "JSON nested too deeply: a report is one flat object of SPEC §2 fields"


def _first_sentence(exc: Exception) -> str:
    return str(exc).split(":", 1)[0].split(";", 1)[0]
