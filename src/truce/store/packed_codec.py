"""How a packed evaluation's blocks of rows are compressed (`truce.store.packed`).

Zstandard with a dictionary trained on the evaluation's own first rows. A block
holds only a few rows (so that a page of scattered incidents decompresses little),
and a small input leaves a compressor nothing to learn from; the rows of one
evaluation are much alike, so a dictionary made of the first of them carries what
every block shares. Measured on the bench scenario's rows (8 a block, 330 bytes
each): 67 bytes a row against zlib's 114, decompressed 2-3 times as fast, and
compressed 3 times as fast.

A zstd context may not be used by two threads at once, and a server's readers and
its refresher share one evaluation: each thread gets its own contexts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import zstandard

LEVEL = 3
DICTIONARY_BYTES = 16_384
# Blocks of rows the dictionary is trained on: fewer, and training may fail (then
# there is no dictionary); more, and it takes longer for no gain (measured: 256
# blocks 0.08 s, 4096 blocks 0.9 s, the same size within 1%).
TRAINING_BLOCKS = 256


class BlockCodec:
    """Compresses and decompresses the blocks of one packed evaluation (and of the
    evaluations patched from it, which share its dictionary)."""

    __slots__ = ("_dictionary", "_local")

    def __init__(self, dictionary: zstandard.ZstdCompressionDict | None) -> None:
        self._dictionary = dictionary
        self._local = threading.local()

    def as_bytes(self) -> bytes | None:
        """The dictionary (None: none was trained)."""
        return None if self._dictionary is None else self._dictionary.as_bytes()

    def __reduce__(self) -> tuple[Any, tuple[bytes | None]]:
        # Sent to another process as the dictionary's bytes; the contexts are per thread.
        return (_codec_of, (self.as_bytes(),))

    @classmethod
    def trained(cls, samples: Sequence[bytes]) -> BlockCodec:
        """A codec with a dictionary made from `samples` (blocks' texts), or without one
        when they are too few or too small to train on."""
        if len(samples) < TRAINING_BLOCKS // 4:
            return cls(None)
        try:
            return cls(zstandard.train_dictionary(DICTIONARY_BYTES, list(samples)))
        except zstandard.ZstdError:  # too little text to learn from
            return cls(None)

    def _contexts(self) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
        held = getattr(self._local, "contexts", None)
        if held is None:
            held = self._local.contexts = (
                zstandard.ZstdCompressor(level=LEVEL, dict_data=self._dictionary),
                zstandard.ZstdDecompressor(dict_data=self._dictionary),
            )
        return held  # type: ignore[no-any-return]

    def compress(self, text: bytes) -> bytes:
        # zstandard returns its output in a bytes object that keeps the whole worst-case
        # buffer (`ZSTD_compressBound` of the input: ~1.8 KB for a 100-byte block), so
        # the block is copied to its own size: at 1M incidents 13 MB held, not 190 MB.
        out = self._contexts()[0].compress(text)
        return bytes(memoryview(out))

    def decompress(self, block: bytes) -> bytes:
        return self._contexts()[1].decompress(block)  # type: ignore[no-any-return]

    def joined(self, blocks: Iterable[bytes], separator: bytes) -> bytes:
        """The texts of `blocks`, in order, joined by `separator`."""
        return separator.join(map(self._contexts()[1].decompress, blocks))


def _codec_of(raw: bytes | None) -> BlockCodec:
    return BlockCodec(None if raw is None else zstandard.ZstdCompressionDict(raw))
