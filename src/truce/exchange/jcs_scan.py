"""One compiled pass over orjson's sorted-key output that finds where it differs from
RFC 8785 (JSON Canonicalization Scheme), for `canonical.canonical_json_fast`.

orjson writes what RFC 8785 writes (the same escapes, the same shortest round-trip
digits) except for: integral floats (`2.0`, `-0.0`; RFC 8785: `2`, `0`), numbers that
RFC 8785 writes as ES6 doubles (an exponent; an integer past 2**53), and key order where
UTF-8 and UTF-16 orders can differ (characters at or above U+E000). The pass drops the
`.0` (and the `-` of `-0`) and reports the other cases, which go to the reference.

A state machine over bytes, compiled with numba: one pass, no Python per value (the
Python-level alternatives cost seconds per 100k reports).
"""

from __future__ import annotations

import numpy as np

from truce.domain.compiled import compiled

OK, REFERENCE = 0, 1

_QUOTE, _BACKSLASH, _MINUS, _DOT, _ZERO, _NINE = 34, 92, 45, 46, 48, 57
_LOWER_E, _UPPER_E = 101, 69
# UTF-8 lead bytes of U+E000..U+10FFFF.
_ORDER_LOW, _ORDER_HIGH = 0xEE, 0xF4
# An integer of this many digits may be past 2**53 (16 digits: up to 9.99e15 > 2**53).
_LONG_INTEGER = 16


def _scan(buf: np.ndarray, keep: np.ndarray) -> int:
    """Clears `keep` where a byte must go; returns REFERENCE when the reference must write
    the document instead."""
    n = len(buf)
    i = 0
    while i < n:
        c = buf[i]
        if c == _QUOTE:  # a string: skip to its end (escapes are two bytes or \uXXXX)
            i += 1
            while i < n:
                c = buf[i]
                if c == _BACKSLASH:
                    i += 2
                    continue
                if c == _QUOTE:
                    break
                if _ORDER_LOW <= c <= _ORDER_HIGH:
                    return REFERENCE
                i += 1
            i += 1
            continue
        if c == _MINUS or _ZERO <= c <= _NINE:
            start = i
            if c == _MINUS:
                i += 1
            digits_start = i
            while i < n and _ZERO <= buf[i] <= _NINE:
                i += 1
            int_digits = i - digits_start
            fraction = -1  # digits after a '.', -1 when there is no '.'
            dot = i
            if i < n and buf[i] == _DOT:
                i += 1
                f_start = i
                while i < n and _ZERO <= buf[i] <= _NINE:
                    i += 1
                fraction = i - f_start
            if i < n and (buf[i] == _LOWER_E or buf[i] == _UPPER_E):
                return REFERENCE
            if fraction == -1 and int_digits >= _LONG_INTEGER:
                return REFERENCE
            if fraction == 1 and buf[dot + 1] == _ZERO:  # integral float: drop ".0"
                keep[dot] = False
                keep[dot + 1] = False
                if start != digits_start and int_digits == 1 and buf[digits_start] == _ZERO:
                    keep[start] = False  # -0.0 -> 0
            continue
        i += 1
    return OK


scan = compiled(_scan)


def rewrite(out: bytes) -> bytes | None:
    """orjson's sorted-key bytes as RFC 8785 writes them, or None when only the reference
    can say (see the module's docstring)."""
    buf = np.frombuffer(out, dtype=np.uint8)
    keep = np.ones(len(buf), dtype=np.bool_)
    if scan(buf, keep) != OK:
        return None
    if keep.all():
        return out
    return buf[keep].tobytes()
