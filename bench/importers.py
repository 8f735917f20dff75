"""Reading real event data: the shipped UCDP GED files through `read_reports`.

Prints, per file: rows read, accepted, rejected (by reason), notices, and the read
time, wall and CPU (best of --repeat runs, imports excluded; on a shared machine the
CPU time is the steadier figure). Then a scale run: the 2017 file's
rows repeated with fresh ids up to --scale rows (about the size of the global GED,
~300k events), read once as gzip, to show the cost per row.

    PYTHONPATH=src python bench/importers.py [--repeat 5] [--scale 300000]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from truce.formats.reports import read_reports  # noqa: E402

FILES = sorted((REPO / "data" / "ucdp").glob("*.csv.gz"))


def _reason_kind(reason: str) -> str:
    """A rejection reason without its values, to count them by kind."""
    return reason.split(":")[0].split(";")[0]


def per_file(path: Path, repeat: int) -> None:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = sum(1 for _ in csv.DictReader(f))
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        read = read_reports(path)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    accepted, rejected = len(read.reports), len(read.rejected)
    print(
        f"{path.name}: {rows:,} rows read, {accepted:,} accepted, {rejected:,} rejected, "
        f"{read.duplicates} duplicate"
    )
    for kind, n in Counter(_reason_kind(r.reason) for r in read.rejected).most_common():
        print(f"  rejected {n:,}: {kind}")
    for notice in read.notices:
        print(f"  notice: {notice}")
    best = min(times)
    print(
        f"  read time {best * 1000:.0f} ms wall, {min(cpu) * 1000:.0f} ms CPU "
        f"(best of {repeat}; {rows / best:,.0f} rows/s)"
    )


def scale(path: Path, target: int) -> None:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        records = list(csv.reader(f))
    header, body = records[0], records[1:]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    n = 0
    while n < target:
        for row in body:
            writer.writerow([f"{row[0]}-{n}", *row[1:]])
            n += 1
            if n == target:
                break
    data = gzip.compress(out.getvalue().encode(), compresslevel=6)
    start, start_cpu = time.perf_counter(), time.process_time()
    read = read_reports(data)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    print(f"scale: CPU time {cpu:.2f} s (the reader uses threads for the CSV)")
    print(
        f"scale: {n:,} UCDP rows ({len(data) / 1e6:.1f} MB gzip) read in {elapsed:.2f} s "
        f"({n / elapsed:,.0f} rows/s), {len(read.reports):,} accepted"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", type=int, default=300_000, help="0: skip the scale run")
    args = parser.parse_args()
    read_reports(FILES[0])  # warm: imports, time zone data
    for path in FILES:
        per_file(path, args.repeat)
    if args.scale:
        scale(FILES[0], args.scale)


if __name__ == "__main__":
    main()
