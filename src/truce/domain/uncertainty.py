"""Verdicts under uncertainty (SPEC §5).

A report places an event within a radius (`location_precision_m`) and a time
window (`observed_at`..`observed_to`); a drawn feature may itself be off by its
`uncertainty_m`. Each test a rule makes (inside a zone, closer than a distance,
during a phase, after a deadline) is made against that whole region:

- certain: the test holds wherever in the region the event really was;
- possible: it holds for part of the region only;
- not at all: it holds nowhere in it.

A rule's verdict is the conjunction of its tests (`&`): certain only when every
test is certain. Each test also says, for the rows it leaves in doubt, what the
doubt is (`location ±25,000 m: may lie outside castello-dmz`), and the
violation's evidence lists them. Growing the uncertainty can only move a verdict
from certain to possible, or from possible to nothing: never back to certain.

>>> v = within_m(np.array([100.0, 900.0, 5000.0]), np.array([50.0, 200.0, 50.0]), 1000.0)
>>> v.possible.tolist(), v.certain.tolist()
([True, True, False], [True, False, False])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from truce.domain.words import Words

__all__ = ["Doubt", "Verdict", "after", "during", "within_m"]


@dataclass(frozen=True)
class Doubt:
    """Rows a test leaves in doubt, and what the doubt is (one text, or one per row)."""

    mask: np.ndarray
    words: Words | str


@dataclass(frozen=True)
class Verdict:
    """Per incident: may the test hold (`possible`), must it (`certain` ⊆ `possible`)."""

    possible: np.ndarray
    certain: np.ndarray
    doubts: tuple[Doubt, ...] = ()

    @classmethod
    def always(cls, n: int) -> Verdict:
        return cls(np.ones(n, dtype=bool), np.ones(n, dtype=bool))

    @classmethod
    def of(
        cls,
        possible: np.ndarray,
        certain: np.ndarray,
        why: Words | str | Callable[[], Words | str],
    ) -> Verdict:
        """A test's verdict; `why` describes the rows possible but not certain (a callable
        is called only when there are such rows)."""
        certain = certain & possible
        doubtful = possible & ~certain
        if not doubtful.any():
            return cls(possible, certain)
        return cls(possible, certain, (Doubt(doubtful, why() if callable(why) else why),))

    def where(self, mask: np.ndarray) -> Verdict:
        """Only where `mask` (a certain fact, such as the event type) holds."""
        return Verdict(self.possible & mask, self.certain & mask, self.doubts)

    def __and__(self, other: Verdict) -> Verdict:
        return Verdict(
            self.possible & other.possible,
            self.certain & other.certain,
            self.doubts + other.doubts,
        )

    def __or__(self, other: Verdict) -> Verdict:
        """Either test: certain where one is certain; a doubt stands where neither is."""
        certain = self.certain | other.certain
        doubts = tuple(Doubt(d.mask & ~certain, d.words) for d in self.doubts + other.doubts)
        return Verdict(self.possible | other.possible, certain, doubts)

    def doubt_words(
        self, rows: np.ndarray, before: str = " (possible: ", after: str = ")"
    ) -> Words:
        """For the given rows, the doubts joined by "; " in `before`..`after`, or ""
        where there is none. Worked out once per distinct combination of doubts."""
        n = len(rows)
        combined = np.zeros(n, dtype=np.int64)
        parts: list[tuple[np.ndarray, list[str]]] = []
        for d in self.doubts:
            texts = [d.words] if isinstance(d.words, str) else d.words.texts
            codes = np.zeros(n, dtype=np.int64) if isinstance(d.words, str) else d.words.codes[rows]
            code = np.where(d.mask[rows], codes + 1, 0)  # 0: no doubt from this test
            combined = combined * (len(texts) + 1) + code
            parts.append((code, texts))
        distinct, which = np.unique(combined, return_inverse=True)
        first = np.zeros(len(distinct), dtype=np.int64)
        first[which[::-1]] = np.arange(n)[::-1]
        texts_out = []
        for row in first.tolist():
            said = [texts[code[row] - 1] for code, texts in parts if code[row] > 0]
            texts_out.append(f"{before}{'; '.join(dict.fromkeys(said))}{after}" if said else "")
        return Words(which.astype(np.int64).reshape(-1), texts_out)


def within_m(
    distance_m: np.ndarray,
    margin_m: np.ndarray,
    limit_m: float | np.ndarray,
    *,
    strict: bool = False,
) -> Verdict:
    """distance <= limit (`strict`: <) for an event anywhere within `margin_m` of where it
    was placed. The doubt words are the caller's: use `Verdict.of` to word them."""
    d, m = np.asarray(distance_m), np.nan_to_num(np.asarray(margin_m, dtype=np.float64))
    if strict:
        return Verdict(d - m < limit_m, d + m < limit_m)
    return Verdict(d - m <= limit_m + 1e-6, d + m <= limit_m + 1e-6)


def after(first: np.ndarray, last: np.ndarray, instant: np.datetime64) -> Verdict:
    """The event happened after `instant` (strictly), its time being in [first, last]."""
    return Verdict(last > instant, first > instant)


def during(
    first: np.ndarray, last: np.ndarray, windows: list[tuple[np.datetime64, np.datetime64]]
) -> Verdict:
    """The event happened inside one of the half-open `windows` [start, end) (NaT end: open).
    Touching windows are merged first, so a time window across a phase change into the
    next listed phase is still certain."""
    merged: list[list[np.datetime64]] = []
    for start, end in sorted((w for w in windows if not np.isnat(w[0])), key=lambda w: w[0]):
        if merged and (np.isnat(merged[-1][1]) or start <= merged[-1][1]):
            if not np.isnat(merged[-1][1]) and (np.isnat(end) or end > merged[-1][1]):
                merged[-1][1] = end
            continue
        merged.append([start, end])
    possible = np.zeros(len(first), dtype=bool)
    certain = np.zeros(len(first), dtype=bool)
    for start, end in merged:
        overlaps = last >= start
        inside = first >= start
        if not np.isnat(end):
            overlaps &= first < end
            inside &= last < end
        possible |= overlaps
        certain |= inside
    return Verdict(possible, certain)
