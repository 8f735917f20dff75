"""RFC 8785 (JSON Canonicalization Scheme) bytes, with a fast path.

`canonical_json` is the PyPI package `rfc8785`, the reference. It is pure
Python (~4 s for 100k reports), so large documents go through orjson with
sorted keys, and one compiled pass (`jcs_scan`) rewrites where the two differ
(integral floats: `2.0` -> `2`, `-0.0` -> `0`). What that pass does not rewrite
(a number RFC 8785 writes as an ES6 double; a character at or above U+E000,
where UTF-8 and UTF-16 key orders can differ) goes to the reference. Property
tests hold the two to the same bytes.
"""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785

__all__ = ["canonical_json", "canonical_json_fast"]


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 bytes of a JSON value (the reference implementation)."""
    return rfc8785.dumps(value)


def _plain(value: Any) -> Any:
    """A copy with only the types orjson writes: exact `str` keys (not numpy.str_ or
    SQLAlchemy's names), Python numbers (not numpy scalars), lists for tuples. Which
    numbers RFC 8785 writes differently is left to `jcs_scan`, as for any document."""
    if isinstance(value, dict):
        return {str(k) if isinstance(k, str) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # a numpy scalar
        return value.item()
    return value


def canonical_json_fast(value: Any) -> bytes:
    """The same bytes as `canonical_json`, much faster for large documents."""
    try:
        out = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError is one
        value = _plain(value)
        try:
            out = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # not JSON at all, or an integer past 64 bits: the reference says
            return canonical_json(value)
    return _as_rfc8785(out) or canonical_json(value)


def _as_rfc8785(out: bytes) -> bytes | None:
    """orjson's sorted-key bytes rewritten as RFC 8785 writes them, or None when they may
    differ in a way not rewritten here (`jcs_scan`)."""
    from truce.exchange.jcs_scan import rewrite  # numba: loaded only when needed

    return rewrite(out)
