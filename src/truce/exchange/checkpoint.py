"""C2SP tlog-checkpoint and tlog-cosignature (Ed25519, `cosignature/v1`).

A checkpoint is a signed note whose text is the log's origin line, the tree
size in decimal and the base64 root hash, each ending in a newline (extension
lines may follow). A cosignature is a witness's signature line over it: key ID
type 0x04, the signature an 8-byte big-endian POSIX time followed by an
Ed25519 signature over::

    cosignature/v1
    time <seconds>
    <the checkpoint text>

Pure: the time is a parameter.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from truce.exchange.merkle import HASH_SIZE
from truce.exchange.note import (
    ALG_ED25519_COSIGNATURE,
    NoteError,
    Signature,
    Signer,
    Verifier,
    key_id,
    parse_note,
    sign_note,
)

__all__ = [
    "Checkpoint",
    "cosign",
    "cosignature_key_id",
    "signed_checkpoint",
    "verify_cosignature",
]

COSIGNATURE_HEADER = "cosignature/v1\n"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "".join(f"{line}\n" for line in (*lines, *self.extensions))

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """The checkpoint in a note's text (signatures already split off)."""
        if not text.endswith("\n"):
            raise NoteError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or not lines[0]:
            raise NoteError("checkpoint must have an origin, a size and a root hash line")
        origin, size_text, root_text = lines[:3]
        if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise NoteError(f"checkpoint size {size_text!r} is not a decimal number")
        try:
            root = base64.b64decode(root_text, validate=True)
        except ValueError as exc:
            raise NoteError(f"checkpoint root hash {root_text!r} is not base64") from exc
        if len(root) != HASH_SIZE:
            raise NoteError(f"checkpoint root hash is {len(root)} bytes, not {HASH_SIZE}")
        if any(not line for line in lines[3:]):
            raise NoteError("checkpoint extension lines must not be empty")
        return cls(origin, int(size_text), root, tuple(lines[3:]))


def signed_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The checkpoint as a signed note; the origin must be the signer's key name."""
    if checkpoint.origin != signer.name:
        raise NoteError(f"origin {checkpoint.origin!r} is not the key name {signer.name!r}")
    return sign_note(checkpoint.text(), signer)


def cosignature_key_id(name: str, public_key: bytes) -> int:
    return key_id(name, ALG_ED25519_COSIGNATURE, public_key)


def _cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{checkpoint_text}".encode()


def cosign(checkpoint_text: str, signer: Signer, timestamp: int) -> Signature:
    """The witness's cosignature over a checkpoint's text at `timestamp` (POSIX seconds)."""
    if not 0 <= timestamp < 2**63:
        raise NoteError(f"cosignature time {timestamp} is out of range")
    Checkpoint.parse(checkpoint_text)
    sig = signer.sign(_cosigned_message(checkpoint_text, timestamp))
    kid = cosignature_key_id(signer.name, signer.verifier.public_key)
    return Signature(signer.name, kid, timestamp.to_bytes(8, "big") + sig)


def verify_cosignature(checkpoint_text: str, signature: Signature, witness: Verifier) -> int:
    """Check a cosignature line by `witness` (its note key, used as cosigner); its time."""
    kid = cosignature_key_id(witness.name, witness.public_key)
    if signature.name != witness.name or signature.key_id != kid:
        raise NoteError(f"cosignature is not by {witness.name}+{kid:08x}")
    if len(signature.signature) != 8 + 64:
        raise NoteError("cosignature must be an 8-byte time and a 64-byte signature")
    timestamp = int.from_bytes(signature.signature[:8], "big")
    message = _cosigned_message(checkpoint_text, timestamp)
    if not witness.verify(message, signature.signature[8:]):
        raise NoteError(f"invalid cosignature by {witness.name}+{kid:08x}")
    return timestamp


def parse_signature_line(line: str) -> Signature:
    """One ``— NAME base64`` line (with or without its newline)."""
    body = line if line.endswith("\n") else line + "\n"
    (sig,) = parse_note("x\n\n" + body).signatures
    return sig
