"""Who did it: match free-text actor names in reports to an agreement's parties.

A label is a party id, an excluded-group id, or "" (unknown or ambiguous).
Matching, in order, stopping at the first step that gives exactly one label:

1. exact match of the normalised name (case, accents, punctuation ignored)
   against every actor alias, party/group name and id;
2. the same for a *consonant skeleton* that absorbs Arabic transliteration
   variants (Fatah/Fateh, Jebhat/Jabhat, Hay'at/Hayat, al-/el-/ash-), used
   only when the skeleton keeps at least `MIN_SKELETON_CONSONANTS` consonants,
   so short acronyms (SAA, FSA, HTS) only ever match exactly;
3. containment: the name holds a known name as whole words ("SAA 4th
   Division" -> the party of "SAA"). Every contained known name must point to
   the same label, so "FSA and HTS fighters" stays "".

A step whose candidates point to two labels resolves to "" rather than guess.

>>> normalise_name("  Hay'at Taḥrīr al-Shām ")
'hay at tahrir al sham'
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from truce.domain.model import Agreement, ExcludedGroup, Party
from truce.domain.names import ARTICLES, VOWELS, consonant_skeleton, name_words, normalise_name

__all__ = ["MIN_SKELETON_CONSONANTS", "ActorIndex", "normalise_name", "skeleton"]

MIN_SKELETON_CONSONANTS = 4
_AMBIGUOUS = "\x00ambiguous"

# Exact keys are `normalise_name` as it stands: apostrophes split words (Hay'at =
# Hay at), articles stay (containment matches whole phrases) and letters of every
# script count (a name written in Arabic script still matches exactly).
# Actor skeletons keep h and fold only these spellings (the gazetteer's place
# skeletons also drop h and fold ch -> sh): widening them would change which actor
# names count as the same, and which pass the MIN_SKELETON_CONSONANTS guard.
_FOLDS = (("dj", "j"), ("ph", "f"), ("ck", "k"), ("q", "k"), ("ou", "u"))


def skeleton(name: str) -> str:
    """A transliteration-tolerant key: apostrophes dropped (Hay'at = Hayat),
    articles dropped (al-, el-, ash-...), vowels dropped except a word's first
    letter, doubled letters collapsed, spaces removed.

    >>> skeleton("Jabhat Fatah al Sham") == skeleton("Jabhat Fateh al-Sham")
    True
    >>> skeleton("Hay'at Tahrir al-Sham") == skeleton("Hayat Tahrir al Sham")
    True
    """
    return consonant_skeleton(name_words(name, apostrophes="join", articles=ARTICLES), folds=_FOLDS)


def _consonants(key: str) -> int:
    return sum(1 for c in key if c.isalpha() and c not in VOWELS)


class ActorIndex:
    """Resolve actor names to party / excluded-group ids for one agreement."""

    def __init__(self, names: Iterable[tuple[str, str]]) -> None:
        """`names`: (name or alias, label) pairs."""
        self._exact: dict[str, str] = {}
        self._skeleton: dict[str, str] = {}
        for name, label in names:
            _add(self._exact, normalise_name(name), label)
            key = skeleton(name)
            if _consonants(key) >= MIN_SKELETON_CONSONANTS:
                _add(self._skeleton, key, label)
        self._exact.pop("", None)
        self._phrases: dict[int, dict[tuple[str, ...], str]] = {}
        for name, label in self._exact.items():
            words = tuple(name.split())
            self._phrases.setdefault(len(words), {})[words] = label

    @classmethod
    def from_agreement(cls, agreement: Agreement) -> ActorIndex:
        pairs: list[tuple[str, str]] = []
        groups: tuple[Party | ExcludedGroup, ...] = (*agreement.parties, *agreement.excluded)
        for group in groups:
            pairs += [(group.id, group.id), (group.name, group.id)]
            pairs += [(actor, group.id) for actor in group.actors]
        return cls(pairs)

    def resolve_one(self, name: str) -> str:
        """The label of one name, or "" when unknown or ambiguous."""
        if not isinstance(name, str):
            return ""
        normalised = normalise_name(name)
        if not normalised:
            return ""
        label = self._exact.get(normalised)
        if label is None:
            key = skeleton(name)
            if _consonants(key) >= MIN_SKELETON_CONSONANTS:
                label = self._skeleton.get(key)
        if label is None:
            label = self._contained(normalised.split())
        return "" if label is None or label == _AMBIGUOUS else label

    def resolve(self, names: np.ndarray) -> np.ndarray:
        """Labels for a whole column, computed once per distinct name."""
        values = np.asarray(names, dtype=object)
        if len(values) == 0:
            return np.array([], dtype=object)
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        labels = np.array([self.resolve_one(u) for u in uniques], dtype=object)
        return labels[codes]

    def _contained(self, words: list[str]) -> str | None:
        found: set[str] = set()
        for length, phrases in self._phrases.items():
            for start in range(len(words) - length + 1):
                label = phrases.get(tuple(words[start : start + length]))
                if label is not None:
                    found.add(label)
        if not found:
            return None
        return found.pop() if len(found) == 1 else _AMBIGUOUS


def _add(index: dict[str, str], key: str, label: str) -> None:
    if index.get(key, label) != label:
        index[key] = _AMBIGUOUS
    else:
        index[key] = label
