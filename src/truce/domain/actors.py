"""Who did it: match free-text actor names in reports to an agreement's parties.

A report's actor (or target) text resolves to a *label*: the ids of the parties
and excluded groups it names, sorted and joined by "+" (`gov`, `nusra+opp`),
`outside` for a state the agreement does not bind, or "" when nothing is known.

Real datasets write sides as lists ("Ahrar al-Sham, HTS, Southern Front",
"A; B", Arabic "،"): the whole text is tried first (a group's own name may hold a slash),
then each member on its own, and the label is the union of the members'. A
member is matched, in order, stopping at the first step that finds anything:

1. exact match of the normalised name (case, accents, punctuation and the
   dots or spaces inside acronyms ignored: `S.A.A.` = `SAA`; Arabic letters
   folded: أ/إ/آ = ا, ة = ه, ى = ي) against every actor alias, party/group name
   and id;
2. the same for a *consonant skeleton* that absorbs Arabic transliteration
   variants (Fatah/Fateh, Jebhat/Jabhat, Hay'at/Hayat, al-/el-/ash-), used
   only when the skeleton keeps at least `MIN_SKELETON_CONSONANTS` consonants,
   so short acronyms (SAA, FSA, HTS) only ever match exactly;
3. containment: the name holds known names as whole words ("SAA 4th
   Division" -> the party of "SAA"); every label found counts.

A name that points to two groups is not guessed away: it keeps both labels.
That is how an aggregate such as UCDP's "Syrian insurgents", listed under a
party and under an excluded group, is judged *mixed*: rules keep its incidents
visible as `possible` violations for review (see `truce.domain.attribution`).

A name that matches nothing is unknown (""), not "someone else": a misspelt
party must stay visible as an unattributed violation rather than silently
drop out. The one exception is a state named as such ("Government of Israel",
"Military Forces of Turkey (2016-)"), which an agreement that does not list
it does not bind: its label is `outside`.

>>> index = ActorIndex([("SAA", "gov"), ("HTS", "nusra"), ("Syrian insurgents", "opp"),
...                     ("Syrian insurgents", "nusra")])
>>> index.resolve_one("S.A.A."), index.resolve_one("SAA, H.T.S."), index.resolve_one("Syrian insurgents")
('gov', 'gov+nusra', 'nusra+opp')
>>> index.resolve_one("Government of Israel"), index.resolve_one("Civilians")
('outside', '')
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from truce.domain.model import Agreement, ExcludedGroup, Party
from truce.domain.names import ARTICLES, VOWELS, consonant_skeleton, name_words, normalise_name

__all__ = [
    "MIN_SKELETON_CONSONANTS",
    "OUTSIDE",
    "ActorIndex",
    "join_label",
    "label_tokens",
    "normalise_actor",
    "normalise_name",
    "skeleton",
]

MIN_SKELETON_CONSONANTS = 4
OUTSIDE = "outside"  # a state the agreement does not bind

# Exact keys keep articles (containment matches whole phrases) and letters of every
# script (a name written in Arabic script still matches exactly).
# Actor skeletons keep h and fold only these spellings (the gazetteer's place
# skeletons also drop h and fold ch -> sh): widening them would change which actor
# names count as the same, and which pass the MIN_SKELETON_CONSONANTS guard.
_FOLDS = (("dj", "j"), ("ph", "f"), ("ck", "k"), ("q", "k"), ("ou", "u"))
# How datasets join several actors in one field; " - " is not one (a faction's name).
_LIST_SEPARATORS = re.compile(r"\s*[,;/|&+،؛]\s*|\s+and\s+")
_STATE = re.compile(
    r"^(?:the\s+)?(?:government|military forces|armed forces|police forces|forces|air force)\s+of\s+",
    re.IGNORECASE,
)


def normalise_actor(name: str) -> str:
    """`normalise_name` with initials joined: `S.A.A.` and `S A A` read as `saa`.

    >>> normalise_actor("H.T.S."), normalise_actor("Hay'at Tahrir al-Sham")
    ('hts', 'hay at tahrir al sham')
    """
    words: list[str] = []
    run: list[str] = []
    for w in name_words(name):
        if len(w) == 1 and w.isalpha():
            run.append(w)
            continue
        words.append("".join(run)) if len(run) > 1 else words.extend(run)
        run = []
        words.append(w)
    words.append("".join(run)) if len(run) > 1 else words.extend(run)
    return " ".join(words)


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


def label_tokens(label: str) -> list[str]:
    """The ids a label names: `nusra+opp` -> ["nusra", "opp"]; "" -> []."""
    return label.split("+") if label else []


def join_label(tokens: Iterable[str]) -> str:
    """The label of a set of ids (sorted, so equal sets give equal labels)."""
    return "+".join(sorted(set(tokens) - {""}))


def _consonants(key: str) -> int:
    return sum(1 for c in key if c.isalpha() and c not in VOWELS)


class ActorIndex:
    """Resolve actor names to party / excluded-group labels for one agreement."""

    def __init__(self, names: Iterable[tuple[str, str]]) -> None:
        """`names`: (name or alias, party or excluded-group id) pairs."""
        self._exact: dict[str, set[str]] = {}
        self._skeleton: dict[str, set[str]] = {}
        for name, label in names:
            self._exact.setdefault(normalise_actor(name), set()).add(label)
            key = skeleton(name)
            if _consonants(key) >= MIN_SKELETON_CONSONANTS:
                self._skeleton.setdefault(key, set()).add(label)
        self._exact.pop("", None)
        self._phrases: dict[int, dict[tuple[str, ...], set[str]]] = {}
        for name, labels in self._exact.items():
            words = tuple(name.split())
            self._phrases.setdefault(len(words), {})[words] = labels

    @classmethod
    def from_agreement(cls, agreement: Agreement) -> ActorIndex:
        pairs: list[tuple[str, str]] = []
        groups: tuple[Party | ExcludedGroup, ...] = (*agreement.parties, *agreement.excluded)
        for group in groups:
            pairs += [(group.id, group.id), (group.name, group.id)]
            pairs += [(actor, group.id) for actor in group.actors]
        return cls(pairs)

    def resolve_one(self, name: str) -> str:
        """The label of one actor text (possibly a list of names)."""
        if not isinstance(name, str) or not name.strip():
            return ""
        whole = self._exact.get(normalise_actor(name))
        if whole is not None:
            return join_label(whole)
        members = [m for m in _LIST_SEPARATORS.split(name) if m.strip()]
        if len(members) <= 1:
            return self._member(name)
        return join_label(t for m in members for t in label_tokens(self._member(m)))

    def _member(self, name: str) -> str:
        normalised = normalise_actor(name)
        if not normalised:
            return ""
        labels = self._exact.get(normalised)
        if labels is None:
            key = skeleton(name)
            if _consonants(key) >= MIN_SKELETON_CONSONANTS:
                labels = self._skeleton.get(key)
        if labels is None:
            labels = self._contained(normalised.split())
        if labels:
            return join_label(labels)
        return OUTSIDE if _STATE.match(name.strip()) else ""

    def resolve(self, names: np.ndarray) -> np.ndarray:
        """Labels for a whole column, computed once per distinct name."""
        codes, labels = self.resolve_codes(names)
        return np.array(labels, dtype=object)[codes] if len(codes) else np.array([], dtype=object)

    def resolve_codes(self, names: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """(code per row, the distinct labels by code): `resolve` without making the
        column of label strings, for callers that go on working on codes."""
        values = np.asarray(names, dtype=object)
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        labels: list[str] = []
        code_of: dict[str, int] = {}
        remap = np.empty(len(uniques), dtype=np.int64)
        for k, name in enumerate(uniques.tolist()):
            label = self.resolve_one(name)
            remap[k] = code_of.setdefault(label, len(labels))
            if remap[k] == len(labels):
                labels.append(label)
        return remap[codes] if len(values) else codes.astype(np.int64), labels

    def _contained(self, words: list[str]) -> set[str]:
        found: set[str] = set()
        for length, phrases in self._phrases.items():
            for start in range(len(words) - length + 1):
                labels = phrases.get(tuple(words[start : start + length]))
                if labels is not None:
                    found |= labels
        return found
