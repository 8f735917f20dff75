"""Sizes that trade the report reader's speed against its memory. Results never
depend on them: tests pass small ones to run every path (mapped files, many Arrow
blocks, the thread pool, bisected casts) on small inputs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReaderTuning:
    map_bytes: int = 1 << 24  # files this big are mapped, not copied into fresh memory
    csv_block_bytes: int | None = None  # Arrow's CSV blocks; None: from the size
    parallel_rows: int = 100_000  # below this, threads cost more than they save
    piece_rows: int = 8192  # rows per cast (a refused piece is bisected)
    leaf_rows: int = 64  # a refused piece this small goes straight to the reference parser

    def block_bytes(self, size: int) -> int:
        """Blocks Arrow parses in parallel: a few per core, not tiny ones."""
        if self.csv_block_bytes is not None:
            return self.csv_block_bytes
        return int(min(max(size // 8, 1 << 20), 1 << 24))


TUNING = ReaderTuning()
