"""Text columns as codes into their few distinct texts, and evidence put together
from them once per distinct combination of words, not once per violation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Words", "combinations", "compose"]


@dataclass(frozen=True)
class Words:
    """A column of text as codes into its few distinct texts: row i reads `texts[codes[i]]`.

    Evidence is put together from such columns (`compose`) once per distinct combination
    of words, not once per violation.
    """

    codes: np.ndarray  # int
    texts: list[str]

    @classmethod
    def of(cls, values: np.ndarray, words: Callable[[Any], str] = str) -> Words:
        """`words(v)` for each value (no None among them), worked out once per distinct value."""
        codes, distinct = pd.factorize(np.asarray(values), use_na_sentinel=False)
        return cls(codes.astype(np.int64), [words(v) for v in distinct.tolist()])

    def take(self, rows: np.ndarray) -> Words:
        return Words(self.codes[rows], self.texts)

    def map(self, words: Callable[[str], str]) -> Words:
        return Words(self.codes, [words(t) for t in self.texts])

    def joined(self, more: Words) -> Words:
        """This column, then `more`'s rows; a text both hold keeps this column's code."""
        texts = list(self.texts)
        at: dict[str, int] = {}
        for k, t in enumerate(texts):
            at.setdefault(t, k)
        for t in more.texts:
            if t not in at:
                at[t] = len(texts)
                texts.append(t)
        to = np.array([at[t] for t in more.texts] + [0], dtype=np.int64)
        return Words(np.concatenate([self.codes, to[more.codes]]), texts)

    def is_in(self, texts: tuple[str, ...]) -> np.ndarray:
        """Mask: rows whose text is one of `texts`."""
        return np.array([t in texts for t in self.texts] + [False], dtype=bool)[self.codes]


def compose(n: int, *parts: str | Words) -> np.ndarray:
    """n texts (an object array), row i's being the parts joined: a `str` as it is, a
    `Words` column by its row i. Each distinct combination is joined once."""
    columns = [p for p in parts if isinstance(p, Words)]
    if not columns:
        return np.full(n, "".join(p for p in parts if isinstance(p, str)), dtype=object)
    combined = np.zeros(n, dtype=np.int64)
    for w in columns:
        combined = combined * max(len(w.texts), 1) + w.codes
        if combined.max(initial=0) > 2**40:
            combined = pd.factorize(combined)[0].astype(np.int64)
    which, _ = pd.factorize(combined)
    first = np.empty(int(which.max(initial=-1)) + 1, dtype=np.int64)
    first[which[::-1]] = np.arange(n)[::-1]  # a row showing each distinct combination
    pieces = [
        repeat(p) if isinstance(p, str) else np.array(p.texts, dtype=object)[p.codes[first]]
        for p in parts
    ]
    texts = np.empty(len(first), dtype=object)
    texts[:] = ["".join(t) for t in zip(*pieces, strict=False)]  # constants repeat
    return texts[which]  # type: ignore[no-any-return]


def combinations(columns: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """(code per row, the distinct combinations of the columns' values by code): each
    column is hashed once, then only small integers are combined."""
    n = len(columns[0]) if columns else 0
    combined = np.zeros(n, dtype=np.int64)
    uniques = []
    for column in columns:
        codes, distinct = pd.factorize(np.asarray(column, dtype=object), use_na_sentinel=False)
        uniques.append(distinct)
        combined = combined * max(len(distinct), 1) + codes
        if combined.max(initial=0) > 2**40:
            combined = pd.factorize(combined)[0].astype(np.int64)
    which, _ = pd.factorize(combined)
    first = np.empty(int(which.max(initial=-1)) + 1, dtype=np.int64)
    first[which[::-1]] = np.arange(n)[::-1]
    rows = [tuple(np.asarray(c, dtype=object)[first].tolist()) for c in columns]
    return which.astype(np.int64), list(zip(*rows, strict=True)) if rows else []
