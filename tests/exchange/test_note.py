"""Signed notes against Go's golang.org/x/mod/sumdb/note known answers (tests/exchange/vectors.py)."""

from __future__ import annotations

import pytest
from tests.exchange.vectors import (
    BAD_VERIFIERS,
    ENOCH_SIG,
    ENOCH_VERIFIER,
    NOTE_TEXT,
    PETER_SIG,
    PETER_SIGNER,
    PETER_VERIFIER,
)

from truce.exchange.note import (
    NoteError,
    Signer,
    UnknownKeyError,
    Verifier,
    generate_signer_key,
    open_note,
    sign_note,
)


def test_signer_key_gives_the_published_verifier_key() -> None:
    signer = Signer.parse(PETER_SIGNER)
    assert str(signer.verifier) == PETER_VERIFIER
    assert signer.encode() == PETER_SIGNER
    assert f"{signer.verifier.key_id:08x}" == "c74f20a3"


def test_signing_reproduces_the_published_note() -> None:
    assert sign_note(NOTE_TEXT, Signer.parse(PETER_SIGNER)) == NOTE_TEXT + "\n" + PETER_SIG


def test_verifier_keys_round_trip() -> None:
    for vkey in (PETER_VERIFIER, ENOCH_VERIFIER):
        assert str(Verifier.parse(vkey)) == vkey


@pytest.mark.parametrize("vkey", BAD_VERIFIERS)
def test_published_bad_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        Verifier.parse(vkey)


def test_every_truncation_and_single_byte_change_of_a_verifier_key_is_refused() -> None:
    b = PETER_VERIFIER
    for i in range(len(b) + 1):
        for j in range(i + 1, len(b) + 1):
            if (i, j) != (0, len(b)):
                with pytest.raises(NoteError):
                    Verifier.parse(b[i:j])
    for i in range(len(b)):
        with pytest.raises(NoteError):
            Verifier.parse(b[:i] + chr(ord(b[i]) + 1) + b[i + 1 :])


def test_every_single_byte_change_of_a_signer_key_is_refused() -> None:
    b = PETER_SIGNER
    for i in range(len(b)):
        with pytest.raises(NoteError):
            Signer.parse(b[:i] + chr(ord(b[i]) + 1) + b[i + 1 :])


def test_open_verifies_known_keys_and_leaves_others_unverified() -> None:
    peter, enoch = Verifier.parse(PETER_VERIFIER), Verifier.parse(ENOCH_VERIFIER)
    msg = NOTE_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    note, unverified = open_note(msg, [peter])
    assert note.text == NOTE_TEXT
    assert [s.name for s in note.signatures] == ["PeterNeumann"]
    assert [(s.name, s.key_id) for s in unverified] == [("EnochRoot", 0xAF0CFE78)]
    note, unverified = open_note(msg, [peter, enoch])
    assert [s.name for s in note.signatures] == ["PeterNeumann", "EnochRoot"]
    assert unverified == ()


def test_a_note_without_a_known_key_is_an_unknown_key_error() -> None:
    with pytest.raises(UnknownKeyError, match="EnochRoot"):
        open_note(NOTE_TEXT + "\n" + ENOCH_SIG, [Verifier.parse(PETER_VERIFIER)])


def test_a_changed_signature_by_a_known_key_is_refused() -> None:
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(NoteError, match="invalid signature for key PeterNeumann\\+c74f20a3"):
        open_note(NOTE_TEXT + "\n" + bad, [Verifier.parse(PETER_VERIFIER)])


def test_an_edited_text_is_refused() -> None:
    edited = NOTE_TEXT.replace("answer", "question")
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(edited + "\n" + PETER_SIG, [Verifier.parse(PETER_VERIFIER)])


@pytest.mark.parametrize(
    "msg",
    [
        NOTE_TEXT,
        NOTE_TEXT + "\n",
        NOTE_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + NOTE_TEXT + "\n" + PETER_SIG,
        NOTE_TEXT
        + "\n"
        + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        NOTE_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        NOTE_TEXT + "\n" + PETER_SIG * 101,
    ],
)
def test_malformed_notes_are_refused(msg: str) -> None:
    with pytest.raises(NoteError):
        open_note(msg, [Verifier.parse(PETER_VERIFIER)])


def test_generated_keys_sign_and_verify_and_never_show_the_seed() -> None:
    signer = generate_signer_key("amman")
    note = sign_note("hello\n", signer)
    opened, _ = open_note(note, [signer.verifier])
    assert opened.text == "hello\n"
    assert signer.encode() not in repr(signer)
    assert Signer.parse(signer.encode()) == signer
    with pytest.raises(NoteError):
        generate_signer_key("bad name")
