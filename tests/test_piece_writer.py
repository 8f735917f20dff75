"""`write_pieces`: a text made as pieces on two processes is written whole and in order."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest
from tests.test_evaluation_json import STYLES

from truce.formats import piece_writer
from truce.formats.evaluation_json import (
    evaluation_json_pieces,
    evaluation_to_dict,
    write_evaluation_json,
)
from truce.formats.piece_writer import write_pieces

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    """The children forked meanwhile (the pieces were made on two processes)."""
    made: list[int] = []
    fork = os.fork

    def counted() -> int:
        pid = fork()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted)
    return made


def _pieces(n: int) -> list:
    # Of every length, some not ASCII (lengths in bytes differ from lengths in characters),
    # one empty.
    texts = [f"{k}:" + "é" * (k % 7) + "x" * (37 * k % 101) + "\n" for k in range(n)]
    texts[n // 2] = ""
    return [lambda t=t: t for t in texts]


@pytest.mark.parametrize("n", [piece_writer.MIN_PIECES, piece_writer.MIN_PIECES + 1, 40])
def test_pieces_made_on_two_processes_are_written_in_order(tmp_path: Path, n: int, forks):
    pieces = _pieces(n)
    path = tmp_path / "out.txt"
    with path.open("w", encoding="utf-8") as out:
        out.write("head\n")
        write_pieces(pieces, out, fork=True)
        out.write("tail\n")
    assert len(forks) == 1
    assert path.read_text(encoding="utf-8") == "head\n" + "".join(p() for p in pieces) + "tail\n"


def test_what_a_failed_child_would_have_made_is_made_by_the_parent(tmp_path: Path, forks):
    parent = os.getpid()
    made_by = []

    def piece(k: int):
        def make() -> str:
            if os.getpid() != parent:
                raise RuntimeError("the child fails")
            made_by.append(k)
            return f"{k},"

        return make

    path = tmp_path / "out.txt"
    with path.open("w", encoding="utf-8") as out:
        write_pieces([piece(k) for k in range(12)], out, fork=True)
    assert path.read_text(encoding="utf-8") == "".join(f"{k}," for k in range(12))
    assert sorted(made_by) == list(range(12)) and len(forks) == 1  # the child wrote nothing


def test_both_processes_make_pieces(tmp_path: Path):
    """Each piece takes a moment, so the child takes some from the back."""
    import time

    parent = os.getpid()
    marks = tmp_path / "marks"
    marks.mkdir()

    def piece(k: int):
        def make() -> str:
            time.sleep(0.02)
            (marks / f"{k}-{'parent' if os.getpid() == parent else 'child'}").touch()
            return f"<{k}>"

        return make

    path = tmp_path / "out.txt"
    with path.open("w", encoding="utf-8") as out:
        write_pieces([piece(k) for k in range(20)], out, fork=True)
    assert path.read_text(encoding="utf-8") == "".join(f"<{k}>" for k in range(20))
    made = sorted((int(m.name.split("-")[0]), m.name.split("-")[1]) for m in marks.iterdir())
    assert [k for k, _ in made] == list(range(20))  # each made once
    who = [w for _, w in made]
    assert who[0] == "parent" and who[-1] == "child"
    assert who == sorted(
        who, key=lambda w: w == "child"
    )  # the front the parent's, the back the child's


def test_without_a_file_or_with_few_pieces_nothing_is_forked(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked"))
    out = io.StringIO()
    write_pieces(_pieces(10), out, fork=True)
    assert out.getvalue() == "".join(p() for p in _pieces(10))
    with (tmp_path / "few.txt").open("w", encoding="utf-8") as few:
        write_pieces(_pieces(piece_writer.MIN_PIECES - 1), few, fork=True)


@pytest.mark.parametrize("style", STYLES)
def test_an_evaluation_written_on_two_processes_is_what_json_dumps_writes(
    style, tmp_path: Path, forks
):
    from bench.scenario import AS_OF, generate

    from truce.domain.evaluate import evaluate
    from truce.formats.agreement import parse_agreement
    from truce.formats.reports import read_reports

    scenario = generate(600, seed=2)
    read = read_reports(scenario.reports.to_csv(index=False, lineterminator="\n"), format="csv")
    ev = evaluate(
        parse_agreement(scenario.agreement_yaml), read.reports, as_of=AS_OF, rejected=read.rejected
    )
    assert len(evaluation_json_pieces(ev, block_rows=50, **style)) >= piece_writer.MIN_PIECES
    path = tmp_path / "ev.json"
    with path.open("w", encoding="utf-8") as out:
        write_evaluation_json(ev, out, fork=True, block_rows=50, **style)
    assert len(forks) == 1
    assert path.read_text(encoding="utf-8") == json.dumps(evaluation_to_dict(ev), **style)


@pytest.mark.parametrize("into", ["file", "pipe"])
def test_standard_output_is_written_on_two_processes(tmp_path: Path, into: str):
    """`truce evaluate` with no `-o`: the child's pieces go to the same descriptor,
    a file's or a pipe's."""
    import subprocess

    code = (
        "import sys\n"
        "from truce.formats.piece_writer import write_pieces\n"
        "sys.stdout.write('a')\n"
        "write_pieces([lambda k=k: f'<{k}é>' * 999 for k in range(30)], sys.stdout, fork=True)\n"
        "sys.stdout.write('z')\n"
    )
    argv, env = [sys.executable, "-c", code], {**os.environ, "PYTHONIOENCODING": "utf-8"}
    if into == "pipe":
        written = subprocess.run(argv, capture_output=True, check=True, env=env).stdout
    else:
        path = tmp_path / "stdout.txt"
        with path.open("wb") as out:
            subprocess.run(argv, stdout=out, check=True, env=env)
        written = path.read_bytes()
    assert written.decode("utf-8") == "a" + "".join(f"<{k}é>" * 999 for k in range(30)) + "z"


def test_where_sendfile_cannot_write_the_pieces_are_copied(monkeypatch, tmp_path: Path):
    def refuse(*_args: object) -> int:
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(piece_writer, "_sendfile", refuse)
    pieces = _pieces(40)
    path = tmp_path / "out.txt"
    with path.open("w", encoding="utf-8") as out:
        write_pieces(pieces, out, fork=True)
    assert path.read_text(encoding="utf-8") == "".join(p() for p in pieces)


def test_a_wrapper_that_compresses_is_written_on_one_process(tmp_path: Path, forks):
    """A gzip text file has the descriptor of the file it compresses into: the child's
    plain bytes must not be copied there."""
    import gzip

    pieces = _pieces(40)
    with gzip.open(tmp_path / "out.gz", "wt", encoding="utf-8") as out:
        write_pieces(pieces, out, fork=True)
    assert forks == []
    assert gzip.decompress((tmp_path / "out.gz").read_bytes()).decode() == "".join(
        p() for p in pieces
    )


def test_where_fork_fails_the_pieces_are_made_on_one_process(monkeypatch, tmp_path: Path):
    def refuse() -> int:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(os, "fork", refuse)
    pieces = _pieces(40)
    path = tmp_path / "out.txt"
    with path.open("w", encoding="utf-8") as out:
        write_pieces(pieces, out, fork=True)
    assert path.read_text(encoding="utf-8") == "".join(p() for p in pieces)
