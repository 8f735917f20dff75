"""The centre's key: a 0600 file or an environment variable; never in the database."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truce.cli import app
from truce.exchange.keys import KeyError_, default_key_path, init_key, load_signer, rotate_key
from truce.exchange.note import Verifier


def test_init_writes_a_0600_file_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "truce.key"
    signer = init_key("amman", path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_signer(path, env={}) == signer
    with pytest.raises(KeyError_, match="already exists"):
        init_key("amman", path)


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "truce.key"
    init_key("amman", path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyError_, match="chmod 600"):
        load_signer(path, env={})


def test_the_key_may_come_from_the_environment(tmp_path: Path) -> None:
    signer = init_key("amman", tmp_path / "k")
    assert load_signer(tmp_path / "absent", env={"TRUCE_KEY": signer.encode()}) == signer
    with pytest.raises(KeyError_, match="truce keys init"):
        load_signer(tmp_path / "absent", env={})


def test_default_path_is_beside_the_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db' / 'truce.sqlite'}"
    assert default_key_path(url, env={}) == tmp_path / "db" / "truce.key"
    assert default_key_path(url, env={"TRUCE_KEY_FILE": "/x/k"}) == Path("/x/k")


def test_rotation_keeps_the_name_and_changes_the_key(tmp_path: Path) -> None:
    path = tmp_path / "truce.key"
    first = init_key("amman", path)
    old, new = rotate_key(path)
    assert old == first and new.name == "amman" and new != first
    assert load_signer(path, env={}) == new
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_cli_keys_init_prints_the_verifier_key_last_and_keeps_the_secret_out_of_the_db(
    tmp_path: Path,
) -> None:
    db = tmp_path / "truce.sqlite"
    env = {"TRUCE_DB_PATH": str(db), "TRUCE_KEY_FILE": "", "TRUCE_KEY": ""}
    result = CliRunner().invoke(app, ["keys", "init", "--name", "amman"], env=env)
    assert result.exit_code == 0, result.output
    vkey = result.stdout.strip().splitlines()[-1]
    assert Verifier.parse(vkey).name == "amman"
    secret = (tmp_path / "truce.key").read_text().strip()
    assert secret.startswith("PRIVATE+KEY+amman+")
    result = CliRunner().invoke(app, ["bulletin", "issue", "--agreement", "us-ru-2016-09"], env=env)
    assert result.exit_code == 0, result.output
    # PRIVATE+KEY+<name>+<hash>+<key data>: the key data is base64, which may hold "+".
    seed = secret.split("+", 4)[4]
    assert len(seed) > 40
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("truce.sqlite*"))  # with the WAL
    assert seed.encode() not in stored
    assert vkey.encode() in stored
