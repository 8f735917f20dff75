"""The one name normaliser and skeleton behind actor matching and place look-up."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from truce.domain.actors import normalise_name as actor_key
from truce.domain.names import ARTICLES, VOWELS, consonant_skeleton, name_words, normalise_name
from truce.library.gazetteer import normalise_place_name, place_skeleton


def test_apostrophes_split_words_or_join_them() -> None:
    assert name_words("Hay'at Tahrir") == ["hay", "at", "tahrir"]
    assert name_words("Hay'at Tahrir", apostrophes="join") == ["hayat", "tahrir"]
    assert name_words("Maʽarrat", apostrophes="join") == name_words("Ma'arrat", apostrophes="join")


def test_ascii_only_reads_dotless_i_as_i_and_breaks_at_other_letters() -> None:
    assert name_words("Fırat", ascii_only=True) == ["firat"]
    assert name_words("Fırat") == ["fırat"]
    assert name_words("Hələb", ascii_only=True) == ["h", "l", "b"]
    # Arabic letters written two ways are folded: ta marbuta (ة) reads as ha (ه).
    assert name_words("جبهة النصرة") == ["جبهه", "النصره"]
    assert name_words("أحرار") == name_words("احرار")
    assert name_words("جبهة النصرة", ascii_only=True) == []


def test_articles_are_left_out_only_when_asked() -> None:
    assert normalise_name("Jisr ash-Shughūr") == "jisr ash shughur"
    assert normalise_name("Jisr ash-Shughūr", articles=ARTICLES) == "jisr shughur"


def test_skeleton_folds_in_order_keeps_first_letters_and_collapses_doubles() -> None:
    assert consonant_skeleton(["ouqba"], folds=(("q", "k"), ("ou", "u"))) == "ukb"
    assert consonant_skeleton(["tahrir", "raqqa"]) == "thrq"  # doubles collapse across words
    assert consonant_skeleton(["tahrir", "raqqa"], separator=" ") == "thr rq"
    assert consonant_skeleton(["hama"], silent=VOWELS | {"h"}) == "hm"


def test_actors_and_places_differ_where_they_mean_to() -> None:
    assert actor_key("Hay'at al-Sham") == "hay at al sham"
    assert normalise_place_name("Hay'at al-Sham") == "hayat sham"
    assert place_skeleton("Cheikh") == place_skeleton("Shaykh")


@given(st.text(max_size=30))
def test_place_keys_are_ascii_words_without_articles(text: str) -> None:
    words = normalise_place_name(text).split()
    assert all(w.isascii() and w.isalnum() and w not in ARTICLES for w in words)
    assert len(place_skeleton(text).split()) == len(words)
