"""numba, for the few passes that are compiled (the anchor pass, the JCS scan).

When its CPU target first loads, even to run a kernel from the cache, numba's
array-math support probes for BLAS by importing scipy.linalg: 0.2-0.4 s of every
`truce evaluate`. These kernels use no linear algebra, so the probe is told that
scipy.linalg is absent (unless it is loaded already, when the probe costs nothing); a
numba function in the same process that wanted `np.dot` would then be refused.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

F = TypeVar("F", bound=Callable[..., Any])


def _without_blas_probe() -> None:
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    sys.modules["scipy.linalg"] = None  # type: ignore[assignment]  # its import fails at once
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        del sys.modules["scipy.linalg"]


def compiled(fn: F) -> F:
    """`fn` compiled without the GIL, its machine code cached beside its module (or in
    `NUMBA_CACHE_DIR`), or compiled once per process where no cache is writable."""
    _without_blas_probe()
    try:
        return cast(F, numba.njit(cache=True, nogil=True)(fn))
    except RuntimeError:  # numba found no writable cache directory
        return cast(F, numba.njit(nogil=True)(fn))
