"""Imported once by the fork server of `truce.service.compute_process`: everything a
computation needs, loaded before any child is forked from it."""

from __future__ import annotations

import numpy as np

import truce.formats.evaluation_json
import truce.service.evaluation  # noqa: F401  (the pipeline and the store)
from truce.domain.anchors import assign_anchors

# The compiled kernel's first call loads its machine code (~0.5 s): done here, once.
_one = np.zeros(1)
_int = np.zeros(1, dtype=np.int64)
assign_anchors(
    _one, _one, _one, _one, _one, _int - 1, _int, _int, np.array([0, 1]),
    np.zeros((1, 9), dtype=np.int64) - 1, 1.0, 1.0, 1.0, 1.0,
)  # fmt: skip
