"""C2SP tlog-checkpoint and tlog-cosignature."""

from __future__ import annotations

import base64

import pytest
from tests.exchange.vectors import PETER_SIGNER, ROOTS

from truce.exchange.checkpoint import (
    Checkpoint,
    cosign,
    cosignature_key_id,
    parse_signature_line,
    signed_checkpoint,
    verify_cosignature,
)
from truce.exchange.note import NoteError, Signer, generate_signer_key, key_id, open_note


def test_checkpoint_text_is_origin_size_and_base64_root() -> None:
    cp = Checkpoint("amman", 8, ROOTS[8])
    assert cp.text() == f"amman\n8\n{base64.b64encode(ROOTS[8]).decode()}\n"
    assert Checkpoint.parse(cp.text()) == cp
    with_ext = Checkpoint("amman", 8, ROOTS[8], ("truce-agreement us-ru-2016-09",))
    assert Checkpoint.parse(with_ext.text()) == with_ext


@pytest.mark.parametrize(
    "text",
    ["amman\n8\n", "amman\n08\n" + base64.b64encode(ROOTS[1]).decode() + "\n", "amman\n8\nAAAA\n",
     "\n8\n" + base64.b64encode(ROOTS[1]).decode() + "\n", "amman\n-1\nAAAA\n"],
)  # fmt: skip
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(text)


def test_signed_checkpoint_opens_with_the_log_key_only() -> None:
    signer = Signer.parse(PETER_SIGNER)
    note = signed_checkpoint(Checkpoint("PeterNeumann", 3, ROOTS[3]), signer)
    opened, _ = open_note(note, [signer.verifier])
    assert Checkpoint.parse(opened.text).size == 3
    with pytest.raises(NoteError):
        signed_checkpoint(Checkpoint("someone-else", 3, ROOTS[3]), signer)


def test_cosignature_line_carries_type_4_key_id_time_and_signature() -> None:
    log = generate_signer_key("amman")
    witness = Signer.parse(PETER_SIGNER)
    text = Checkpoint("amman", 3, ROOTS[3]).text()
    sig = cosign(text, witness, 1679315147)
    pub = witness.verifier.public_key
    assert (
        sig.key_id == key_id("PeterNeumann", 0x04, pub) == cosignature_key_id("PeterNeumann", pub)
    )
    assert sig.key_id != witness.verifier.key_id
    assert sig.signature[:8] == (1679315147).to_bytes(8, "big")
    # Ed25519 is deterministic: the signed message is the spec's, byte for byte.
    message = b"cosignature/v1\ntime 1679315147\n" + text.encode()
    assert sig.signature[8:] == witness.sign(message)
    line = sig.line()
    assert verify_cosignature(text, parse_signature_line(line), witness.verifier) == 1679315147
    # The cosignature is a signature line a note reader ignores unless it knows the key.
    note = signed_checkpoint(Checkpoint.parse(text), log) + line
    opened, unverified = open_note(note, [log.verifier])
    assert [s.name for s in opened.signatures] == ["amman"]
    assert unverified == (sig,)


def test_a_cosignature_over_another_checkpoint_or_by_another_key_is_refused() -> None:
    witness = Signer.parse(PETER_SIGNER)
    text = Checkpoint("amman", 3, ROOTS[3]).text()
    sig = cosign(text, witness, 100)
    with pytest.raises(NoteError, match="invalid cosignature"):
        verify_cosignature(Checkpoint("amman", 4, ROOTS[4]).text(), sig, witness.verifier)
    with pytest.raises(NoteError, match="not by"):
        verify_cosignature(text, sig, generate_signer_key("PeterNeumann").verifier)
