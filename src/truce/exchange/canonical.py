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

import math
from typing import Any

import orjson
import rfc8785

__all__ = ["canonical_json", "canonical_json_fast"]

# Non-integral floats in this magnitude range print the same in ES6 (RFC 8785) and
# in orjson's shortest round-trip form.
_PLAIN_MIN = 1e-3
_PLAIN_MAX = 1e15


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 bytes of a JSON value (the reference implementation)."""
    return rfc8785.dumps(value)


class _Fallback(Exception):
    pass


def _number(value: float) -> int | float:
    if not math.isfinite(value):
        raise _Fallback
    if value.is_integer():
        if abs(value) >= 2**53:
            raise _Fallback
        return int(value)
    if not _PLAIN_MIN <= abs(value) < _PLAIN_MAX:
        raise _Fallback
    return value


def _normalise(value: Any) -> Any:
    """A copy orjson writes as RFC 8785 does; the common types are tested first (speed)."""
    t = type(value)
    if t is str or value is None or t is bool:
        return value
    if t is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                if not isinstance(k, str):
                    raise _Fallback
                k = str(k)  # a str subclass (numpy.str_): orjson takes only exact str keys
            if not k.isascii():
                raise _Fallback
            out[k] = v if type(v) is str or v is None else _normalise(v)
        return out
    if t is list or t is tuple:
        return [v if type(v) is str else _normalise(v) for v in value]
    if t is float:
        return _number(value)
    if t is int:
        if abs(value) >= 2**53:
            raise _Fallback
        return value
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return _normalise(int(value))
    if isinstance(value, float):
        return _number(float(value))
    if isinstance(value, dict):
        return _normalise(dict(value))
    if isinstance(value, list | tuple):
        return _normalise(list(value))
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def canonical_json_fast(value: Any) -> bytes:
    """The same bytes as `canonical_json`, much faster for large documents."""
    try:
        out = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        # numpy scalars, str subclasses as keys, ...: a normalised copy, or the reference.
        try:
            out = orjson.dumps(_normalise(value), option=orjson.OPT_SORT_KEYS)
        except (_Fallback, TypeError, orjson.JSONEncodeError):
            return canonical_json(value)
    return _as_rfc8785(out) or canonical_json(value)


def _as_rfc8785(out: bytes) -> bytes | None:
    """orjson's sorted-key bytes rewritten as RFC 8785 writes them, or None when they may
    differ in a way not rewritten here (`jcs_scan`)."""
    from truce.exchange.jcs_scan import rewrite  # numba: loaded only when needed

    return rewrite(out)
