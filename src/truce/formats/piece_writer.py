"""Write a long text, made as independent pieces, on two CPUs.

Encoding a million reports' evaluation as JSON is Python work that holds the GIL
(some 1.8 s at 1M reports), so a second thread cannot share it; a second process
can. `write_pieces` forks once the pieces' shared inputs are made: the parent makes
pieces from the front and writes them to `out`, the child makes them from the back
into a temporary file, and the two meet wherever the work balances, whatever each
piece costs. The parent then copies the child's pieces after its own, in the
kernel (`os.sendfile`). Where there is no `fork`, no second CPU, no file behind
`out`, or too few pieces, the pieces are made and written in this process.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import io
import mmap
import multiprocessing
import os
import signal
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TextIO

import numpy as np

Piece = Callable[[], str]

# Fewer pieces than this are not worth a process: some 50k rows of JSON blocks, made in
# a quarter of a second, where forking costs ~15 ms at 1M reports.
MIN_PIECES = 8


def write_pieces(pieces: Sequence[Piece], out: TextIO, *, fork: bool | None = None) -> None:
    """Write each piece's text to `out`, in order. `fork`: None decides (see the
    module); False never forks; True forks wherever it can (tests)."""
    fd = _file_descriptor(out)
    can = fd is not None and hasattr(os, "fork") and len(pieces) >= MIN_PIECES
    if fork is None:
        fork = can and (os.cpu_count() or 1) > 1
    if not (fork and can and fd is not None):
        _write_in_order(pieces, out)
        return
    _write_on_two(pieces, out, fd)


def _file_descriptor(out: TextIO) -> int | None:
    """The descriptor `out`'s text goes to as it is, UTF-8 or ASCII encoded (the child
    encodes its pieces the same way): None for a StringIO, a test's capture, or a
    wrapper that compresses or re-encodes (a gzip text file has a descriptor too)."""
    if not isinstance(out, io.TextIOWrapper):
        return None
    buffer = out.buffer
    if not isinstance(buffer, io.BufferedWriter | io.BufferedRandom):
        return None
    if not isinstance(buffer.raw, io.FileIO):
        return None
    try:
        if codecs.lookup(out.encoding).name not in ("utf-8", "ascii"):
            return None
        return out.fileno()
    except (OSError, LookupError, ValueError):
        return None


def _write_in_order(pieces: Iterable[Piece], out: TextIO) -> None:
    """Each piece handed to a thread that writes it while the next is made: the GIL is
    free during the write (the system call). At most two pieces are held."""
    with ThreadPoolExecutor(1, thread_name_prefix="truce-write") as writer:
        pending: Future[int] | None = None
        for piece in pieces:
            text = piece()
            if pending is not None:
                pending.result()
            pending = writer.submit(out.write, text)
        if pending is not None:
            pending.result()


class _Claims:
    """Which pieces each process took, in memory both share: the parent takes from the
    front, the child from the back, each under the lock, until they meet. The child
    records the byte length of each piece it wrote."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._memory = mmap.mmap(-1, 8 * (n + 2))  # anonymous and shared across fork
        self._cells = np.frombuffer(self._memory, dtype=np.int64)
        self._cells[0], self._cells[1] = 0, n  # next from the front; one past the back's
        self.lengths = self._cells[2:]
        self._lock = multiprocessing.get_context("fork").Lock()

    def front(self) -> int | None:
        with self._lock:
            i = int(self._cells[0])
            if i >= self._cells[1]:
                return None
            self._cells[0] = i + 1
            return i

    def back(self) -> int | None:
        with self._lock:
            i = int(self._cells[1]) - 1
            if i < self._cells[0]:
                return None
            self._cells[1] = i
            return i

    @property
    def meet(self) -> int:
        """The first piece the child took (all after it are the child's)."""
        return int(self._cells[1])

    def close(self) -> None:
        del self.lengths, self._cells
        self._memory.close()


def _write_on_two(pieces: Sequence[Piece], out: TextIO, fd: int) -> None:
    # Where the system refuses a part (no /dev/shm, no temporary directory, no memory
    # to fork), the same text is made on one CPU.
    try:
        claims = _Claims(len(pieces))
        made = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, or by the `with`
    except OSError:
        _write_in_order(pieces, out)
        return
    try:
        out.flush()
        pid = os.fork()
    except OSError:
        made.close()
        claims.close()
        _write_in_order(pieces, out)
        return
    if pid == 0:  # the child: pieces from the back, into `made`; never returns
        status = 1
        with contextlib.suppress(BaseException):
            while (i := claims.back()) is not None:
                text = pieces[i]().encode(out.encoding, out.errors or "strict")
                claims.lengths[i] = len(text)
                made.write(text)
            made.flush()
            status = 0
        os._exit(status)
    with made:
        try:
            _write_in_order(_fronts(pieces, claims), out)
        except BaseException:
            os.kill(pid, signal.SIGKILL)  # its pieces will not be wanted
            raise
        finally:
            _, status = os.waitpid(pid, 0)
        meet, lengths = claims.meet, claims.lengths[claims.meet :].tolist()
        claims.close()
        out.flush()
        if status != 0:  # the child failed: its pieces are made here
            _write_in_order(pieces[meet:], out)
        else:
            _copy_back(made.fileno(), fd, lengths)


def _fronts(pieces: Sequence[Piece], claims: _Claims) -> Iterator[Piece]:
    """The parent's pieces, each claimed just before it is made."""
    while (i := claims.front()) is not None:
        yield pieces[i]


def _copy_back(source: int, target: int, lengths: list[int]) -> None:
    """Copy the child's pieces to `target` in order: it wrote them from the last back,
    so the k-th of them starts after all the later ones."""
    starts = sum(lengths) - np.cumsum(lengths)
    copy = _sendfile
    for start, size in zip(starts.tolist(), lengths, strict=True):
        while size:
            try:
                sent = copy(target, source, start, size)
            except OSError as exc:
                if copy is _pread_write or exc.errno not in _NO_SENDFILE:
                    raise
                copy = _pread_write  # a target sendfile cannot write to
                continue
            if sent == 0:
                raise OSError("the child's pieces are shorter than it said")
            start, size = start + sent, size - sent


_NO_SENDFILE = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP}


def _sendfile(target: int, source: int, start: int, size: int) -> int:
    return os.sendfile(target, source, start, size)


def _pread_write(target: int, source: int, start: int, size: int) -> int:
    data = os.pread(source, min(size, 1 << 20), start)
    return os.write(target, data) if data else 0
