"""Keys for names written many ways: one normaliser and one consonant skeleton,
shared by actor matching (`truce.domain.actors`) and place look-up
(`truce.library.gazetteer`).

Both ignore case, accents and punctuation and tolerate Arabic transliteration
variants. Where the two deliberately differ, the caller says so with a
parameter, and its comments say why.

>>> normalise_name("  Hay'at Taḥrīr al-Shām ")
'hay at tahrir al sham'
>>> normalise_name("Ma‘arrat an-Nu‘mān", apostrophes="join", articles=ARTICLES)
'maarrat numan'
>>> consonant_skeleton(name_words("Jabhat Fatah")) == consonant_skeleton(name_words("Jebhat Fateh"))
True
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Literal

__all__ = [
    "APOSTROPHES",
    "ARTICLES",
    "VOWELS",
    "consonant_skeleton",
    "name_words",
    "normalise_name",
]

# Apostrophes and the modifier letters transliterations use for hamza and ayn (Dāʿish, Ma‘arrat).
APOSTROPHES = re.compile(r"['`´ʹʻʼʽʾʿˈ‘’‛′]")
# Arabic articles as Latin transliterations write them, once split from the noun (al-Sham, ash-Shughur).
ARTICLES = frozenset(
    {"al", "el", "il", "ul", "ad", "ed", "ash", "esh", "as", "at", "an", "ar", "az", "adh", "ath"}
)
VOWELS = frozenset("aeiouyw")

# Arabic letters written several ways for one sound: alef with hamza or madda, ta
# marbuta, alef maqsura; tatweel (a stretching stroke) is dropped.
_ARABIC_FOLDS = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ـ": None}
)
_WORD_BREAKS = re.compile(r"[\W_]+")
_ASCII_WORD_BREAKS = re.compile(r"[^a-z0-9]+")
_DOUBLED = re.compile(r"(.)\1+")


def name_words(
    name: str,
    *,
    apostrophes: Literal["split", "join"] = "split",
    ascii_only: bool = False,
    articles: frozenset[str] = frozenset(),
) -> list[str]:
    """The words of `name`: casefolded, accents stripped, split at punctuation and spaces.

    `apostrophes`: "split" makes one a word break (Hay'at -> hay at), "join" drops it
    (Ma‘arrat -> maarrat).
    `ascii_only`: any letter outside a-z and 0-9 left after stripping accents is a word
    break too; ı (dotless i, no ASCII decomposition) is read as i first.
    `articles`: words to leave out.

    >>> name_words("Jisr ash-Shughūr", articles=ARTICLES)
    ['jisr', 'shughur']
    >>> name_words("Fırat", ascii_only=True), name_words("Fırat")
    (['firat'], ['fırat'])
    """
    decomposed = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    text = unicodedata.normalize("NFC", text).translate(_ARABIC_FOLDS)
    if ascii_only:
        text = text.replace("ı", "i")
    text = APOSTROPHES.sub(" " if apostrophes == "split" else "", text)
    breaks = _ASCII_WORD_BREAKS if ascii_only else _WORD_BREAKS
    return [w for w in breaks.sub(" ", text).split() if w not in articles]


def normalise_name(
    name: str,
    *,
    apostrophes: Literal["split", "join"] = "split",
    ascii_only: bool = False,
    articles: frozenset[str] = frozenset(),
) -> str:
    """`name_words` joined by single spaces.

    >>> normalise_name("Jabhat Fateh al-Sham")
    'jabhat fateh al sham'
    """
    return " ".join(
        name_words(name, apostrophes=apostrophes, ascii_only=ascii_only, articles=articles)
    )


def consonant_skeleton(
    words: Iterable[str],
    *,
    folds: tuple[tuple[str, str], ...] = (),
    silent: frozenset[str] = VOWELS,
    separator: str = "",
) -> str:
    """A transliteration-tolerant key: in each word, `folds` applied in order
    (e.g. ("q", "k")), then the `silent` letters dropped except the word's first,
    then doubled letters collapsed; words joined by `separator`.

    >>> consonant_skeleton(["hayat", "tahrir", "sham"])
    'hthrshm'
    >>> consonant_skeleton(["khan", "sheikhoun"], silent=VOWELS | {"h"}, separator=" ")
    'kn skn'
    """
    keys = []
    for word in words:
        for old, new in folds:
            word = word.replace(old, new)
        keys.append(word[:1] + "".join(c for c in word[1:] if c not in silent))
    return _DOUBLED.sub(r"\1", separator.join(keys))
