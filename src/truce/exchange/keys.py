"""The centre's Ed25519 key: a file (mode 0600) or an environment variable.

`TRUCE_KEY` holds the signer key text itself (for containers and secret
stores); otherwise `TRUCE_KEY_FILE` names the file; otherwise it is
`truce.key` beside the SQLite database (`./truce.key` for PostgreSQL). The
file holds one line, the Go signed-note signer key form
``PRIVATE+KEY+NAME+hex8+base64``. The private key is never written to the
database or a log: only its verifier key (public) is recorded, so checkpoints
signed before a rotation stay verifiable.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from truce.exchange.note import NoteError, Signer, generate_signer_key

__all__ = ["KeyError_", "default_key_path", "init_key", "load_signer", "rotate_key"]

ENV_KEY = "TRUCE_KEY"
ENV_KEY_FILE = "TRUCE_KEY_FILE"
KEY_FILE_NAME = "truce.key"


class KeyError_(Exception):
    """No key, or a key file that is unsafe or unreadable; says what to do."""


def default_key_path(database_url: str, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get(ENV_KEY_FILE):
        return Path(env[ENV_KEY_FILE]).expanduser()
    if database_url.startswith("sqlite:///"):
        db = Path(database_url.removeprefix("sqlite:///")).expanduser()
        return db.parent / KEY_FILE_NAME
    return Path(KEY_FILE_NAME)


def _write_private(path: Path, text: str, *, replace: bool) -> None:
    """Write with mode 0600 from the first byte (never readable by others, even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the file exists: never overwrite a key silently
            os.unlink(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def init_key(name: str, path: Path) -> Signer:
    """A new key named `name` in `path` (refused if the file exists)."""
    if path.exists():
        raise KeyError_(f"{path} already exists: keep it, or use `truce keys rotate`")
    try:
        signer = generate_signer_key(name)
    except NoteError as exc:
        raise KeyError_(str(exc)) from None
    try:
        _write_private(path, signer.encode(), replace=False)
    except FileExistsError:
        raise KeyError_(f"{path} already exists: keep it, or use `truce keys rotate`") from None
    return signer


def rotate_key(path: Path) -> tuple[Signer, Signer]:
    """(old, new): a new key with the same name replaces the file's key."""
    old = _read(path)
    new = generate_signer_key(old.name)
    _write_private(path, new.encode(), replace=True)
    return old, new


def _read(path: Path) -> Signer:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyError_(
            f"no key at {path}: run `truce keys init --name NAME` (or set {ENV_KEY_FILE} / {ENV_KEY})"
        ) from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyError_(f"{path} is readable by others (mode {st.st_mode & 0o777:o}): chmod 600 it")
    try:
        return Signer.parse(path.read_text())
    except NoteError as exc:
        raise KeyError_(f"{path}: {exc}") from None


def load_signer(path: Path, env: Mapping[str, str] | None = None) -> Signer:
    """The key from `TRUCE_KEY`, else from `path`."""
    env = os.environ if env is None else env
    if env.get(ENV_KEY):
        try:
            return Signer.parse(env[ENV_KEY])
        except NoteError as exc:
            raise KeyError_(f"{ENV_KEY}: {exc}") from None
    return _read(path)
