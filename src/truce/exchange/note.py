"""C2SP signed notes with Ed25519 keys (https://c2sp.org/signed-note).

The same text forms as Go's golang.org/x/mod/sumdb/note, so keys and notes
move between truce and other tools:

- verifier key: ``NAME+<8 hex key ID>+<base64(0x01 || 32-byte public key)>``
- signer key:   ``PRIVATE+KEY+NAME+<8 hex key ID>+<base64(0x01 || 32-byte seed)>``
- note: text ending in a newline, a blank line, then one line per signature,
  ``— NAME base64(4-byte key ID || signature)``.

The key ID is the first 4 bytes of SHA-256(NAME || 0x0A || type || public key);
type 0x01 signs notes, 0x04 cosigns checkpoints (see `checkpoint.py`). Pure:
no I/O; the caller keeps the signer key wherever it must live.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "ALG_ED25519",
    "ALG_ED25519_COSIGNATURE",
    "NoteError",
    "Signature",
    "Signer",
    "UnknownKeyError",
    "Verifier",
    "generate_signer_key",
    "key_id",
    "open_note",
    "parse_note",
    "sign_note",
]

ALG_ED25519 = 0x01
ALG_ED25519_COSIGNATURE = 0x04
SIG_PREFIX = "— "  # U+2014 EM DASH, then a space
MAX_SIGNATURES = 100


class NoteError(ValueError):
    """A malformed key or note, or a signature that does not verify."""


class UnknownKeyError(NoteError):
    """A note carries signatures, but none by a key the caller knows."""


def key_id(name: str, alg: int, public_key: bytes) -> int:
    """First 4 bytes (big-endian) of SHA-256(name || "\\n" || alg || public key)."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def valid_name(name: str) -> bool:
    """Non-empty, no whitespace, no "+" (as signed-note requires)."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def _b64decode(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"not standard base64: {text!r}") from exc
    if base64.b64encode(raw).decode() != text:  # one encoding per value, no slack bits
        raise NoteError(f"not canonical base64: {text!r}")
    return raw


def _public_bytes(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key that checks note signatures (type 0x01)."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> int:
        return key_id(self.name, ALG_ED25519, self.public_key)

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Read ``NAME+hex8+base64``; the key ID must match the name and key."""
        parts = vkey.split("+", 2)  # base64 may itself contain "+"
        if len(parts) != 3:
            raise NoteError(f"verifier key must be NAME+KEYID+KEY, got {vkey!r}")
        name, hex8, b64 = parts
        if not valid_name(name) or len(hex8) != 8 or not _is_hex(hex8):
            raise NoteError(f"malformed verifier key {vkey!r}")
        raw = _b64decode(b64)
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError(f"verifier key {vkey!r} is not an Ed25519 key (type 0x01, 32 bytes)")
        verifier = cls(name, raw[1:])
        if verifier.key_id != int(hex8, 16):
            raise NoteError(f"verifier key {vkey!r}: key ID does not match its name and key")
        return verifier

    def __str__(self) -> str:
        key = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{key}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


@dataclass(frozen=True, repr=False)
class Signer:
    """A named Ed25519 private key. `repr` never shows the key."""

    name: str
    seed: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Signer({self.name!r}, key ID {self.verifier.key_id:08x})"

    @property
    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, _public_bytes(self._private.public_key()))

    @classmethod
    def parse(cls, skey: str) -> Signer:
        """Read ``PRIVATE+KEY+NAME+hex8+base64(0x01 || seed)``."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("signer key must be PRIVATE+KEY+NAME+KEYID+KEY")
        name, hex8, b64 = parts[2:]
        if not valid_name(name) or len(hex8) != 8 or not _is_hex(hex8):
            raise NoteError("malformed signer key")
        raw = _b64decode(b64)
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("signer key is not an Ed25519 key (type 0x01, 32-byte seed)")
        signer = cls(name, raw[1:])
        if signer.verifier.key_id != int(hex8, 16):
            raise NoteError("signer key: key ID does not match its name and key")
        return signer

    def encode(self) -> str:
        """The private key text (for the key file only)."""
        key = base64.b64encode(bytes([ALG_ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id:08x}+{key}"

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)


def generate_signer_key(name: str) -> Signer:
    """A new random Ed25519 key named `name`."""
    if not valid_name(name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return Signer(name, seed)


@dataclass(frozen=True)
class Signature:
    """One signature line: the key name, its 4-byte key ID, the signature bytes."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        blob = self.key_id.to_bytes(4, "big") + self.signature
        return f"{SIG_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]  # verified (by `open_note`) or merely parsed


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("malformed note: the text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("malformed note: control characters in the text")


def sign_note(text: str, *signers: Signer) -> str:
    """The note `text` followed by a signature line per signer."""
    _check_text(text)
    if "\n\n" in text:
        raise NoteError("malformed note: a blank line inside the text")
    lines = [Signature(s.name, s.verifier.key_id, s.sign(text.encode())).line() for s in signers]
    return text + "\n" + "".join(lines)


def parse_note(message: str) -> Note:
    """Split a note into its text and signature lines, verifying nothing."""
    _check_text(message)
    split = message.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block:
        raise NoteError("malformed note: no signatures")
    sigs: list[Signature] = []
    for line in block.split("\n")[:-1]:
        if not line.startswith(SIG_PREFIX):
            raise NoteError(f"malformed note: not a signature line: {line!r}")
        name, _, b64 = line[len(SIG_PREFIX) :].partition(" ")
        blob = _b64decode(b64) if b64 else b""
        if not valid_name(name) or len(blob) < 5:
            raise NoteError(f"malformed note: bad signature line {line!r}")
        sigs.append(Signature(name, int.from_bytes(blob[:4], "big"), blob[4:]))
        if len(sigs) > MAX_SIGNATURES:
            raise NoteError("malformed note: too many signatures")
    return Note(text, tuple(sigs))


def open_note(message: str, verifiers: Iterable[Verifier]) -> tuple[Note, tuple[Signature, ...]]:
    """Verify a note: (note with its verified signatures, the signatures left unverified).

    Raises NoteError for a bad signature by a known key, UnknownKeyError when no
    signature is by a known key. A repeated signature by one key counts once."""
    note = parse_note(message)
    known: dict[tuple[str, int], Verifier] = {}
    for v in verifiers:
        if (v.name, v.key_id) in known and known[(v.name, v.key_id)] != v:
            raise NoteError(f"ambiguous key {v.name}+{v.key_id:08x}")
        known[(v.name, v.key_id)] = v
    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, int]] = set()
    for sig in note.signatures:
        key = known.get((sig.name, sig.key_id))
        if key is None:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if (sig.name, sig.key_id) in seen:
            continue
        seen.add((sig.name, sig.key_id))
        if not key.verify(note.text.encode(), sig.signature):
            raise NoteError(f"invalid signature for key {sig.name}+{sig.key_id:08x}")
        verified.append(sig)
    if not verified:
        names = ", ".join(f"{s.name}+{s.key_id:08x}" for s in unverified)
        raise UnknownKeyError(f"note has no verifiable signatures (signed by {names})")
    return Note(note.text, tuple(verified)), tuple(unverified)
