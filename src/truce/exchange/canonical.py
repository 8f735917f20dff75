"""RFC 8785 (JSON Canonicalization Scheme) bytes, with a fast path.

`canonical_json` is the PyPI package `rfc8785`, the reference. It is pure
Python (~2 s for 100k reports), so large documents go through orjson with
sorted keys after turning integral floats into integers; orjson then writes
the same bytes as RFC 8785 for what truce puts in bulletins (ASCII keys,
numbers in the plain-decimal range, strings without escapes). Anything outside
that (a control character or backslash in a string, a number that RFC 8785
would write with an exponent) falls back to the reference. A property test
holds the two to the same bytes.
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


def _normalise(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Fallback
        if value.is_integer():
            if abs(value) >= 2**53:
                raise _Fallback
            return int(value)
        if not _PLAIN_MIN <= abs(value) < _PLAIN_MAX:
            raise _Fallback
        return value
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, str) or not k.isascii():
                raise _Fallback
        # str() of a str subclass (numpy.str_): orjson takes only exact str keys.
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        if abs(value) >= 2**53:
            raise _Fallback
        return value
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def canonical_json_fast(value: Any) -> bytes:
    """The same bytes as `canonical_json`, much faster for large documents."""
    try:
        out = orjson.dumps(_normalise(value), option=orjson.OPT_SORT_KEYS)
    except _Fallback:
        return canonical_json(value)
    if b"\\" in out:  # an escape: RFC 8785's rules for escapes are the reference's job
        return canonical_json(value)
    return out
