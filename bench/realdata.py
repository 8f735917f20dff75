"""Real data through every built-in agreement: the shipped UCDP GED Syria extracts.

    .venv/bin/python bench/realdata.py [--repeat 3]

For each file in data/ucdp/ and each built-in agreement, in this one process: the wall
time to read the raw file (importer, checks) and to evaluate it, best of --repeat; the
shares of violations that charge a party, only name the parties involved, or do neither
(target: at most 10 % neither); certain / possible; and the process's peak memory.

The obvious alternative, measured beside it: the hand conversion users made before
truce read UCDP (issue #10) — side_a as the attacker and side_b as the target of every
event, no time window, no location precision, no dataset. The same pipeline then merges
distinct UCDP events and charges the government with every state-based clash; the
columns show how many violations each reading charges to `gov`, and how many incidents
merge events.
"""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from truce.domain.evaluate import evaluate
from truce.domain.model import ATTACK, ReportTable
from truce.domain.summary import summarise
from truce.formats.reports import read_reports
from truce.library.catalog import list_agreements

ROOT = Path(__file__).resolve().parents[1]
AS_OF = datetime(2021, 1, 1, tzinfo=UTC)
TARGET_BLIND_SHARE = 0.10


def best_of(repeat: int, fn):  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def hand_converted(reports: ReportTable) -> ReportTable:
    """side_a attacked side_b, at the start of the window, exactly where placed."""
    n = len(reports)
    return replace(
        reports,
        direction=np.full(n, ATTACK, dtype=np.int8),
        observed_to=np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"),
        precision_m=np.full(n, np.nan),
        dataset=np.full(n, "", dtype=object),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = sorted((ROOT / "data" / "ucdp").glob("*.csv.gz"))
    agreements = list_agreements()
    print(
        f"truce real-data bench: {len(files)} files x {len(agreements)} agreements, best of {args.repeat}"
    )
    header = (
        f"{'file':34} {'agreement':15} {'read s':>7} {'eval s':>7} {'viol':>6} "
        f"{'charged':>8} {'inv.only':>8} {'neither':>8} {'certain':>8} | "
        f"{'alt viol':>8} {'alt gov':>8} {'alt merged':>10}"
    )
    print(header)
    worst_blind = 0.0
    total_read = total_eval = 0.0
    for path in files:
        read_s, read = best_of(args.repeat, lambda path=path: read_reports(path))
        total_read += read_s
        for agreement in agreements:
            eval_s, ev = best_of(
                args.repeat,
                lambda agreement=agreement, read=read: evaluate(
                    agreement, read.reports, as_of=AS_OF, rejected=read.rejected
                ),
            )
            total_eval += eval_s
            s = summarise(ev)
            worst_blind = max(worst_blind, s.share(s.unattributed))
            alt = evaluate(agreement, hand_converted(read.reports), as_of=AS_OF)
            alt_gov = int(np.count_nonzero(alt.violations.party == "gov"))
            print(
                f"{path.name.removesuffix('.csv.gz'):34} {agreement.id:15} {read_s:7.2f} "
                f"{eval_s:7.2f} {s.violations:6d} {s.share(s.charged):8.1%} "
                f"{s.share(s.involved_only):8.1%} {s.share(s.unattributed):8.1%} "
                f"{s.share(s.certain):8.1%} | {len(alt.violations):8d} {alt_gov:8d} "
                f"{summarise(alt).merged_incidents:10d}"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        f"total: read {total_read:.2f} s, evaluate {total_eval:.2f} s; peak memory {peak / 2**20:.0f} MB"
    )
    verdict = "PASS" if worst_blind <= TARGET_BLIND_SHARE else "MISS"
    print(
        f"[{verdict}] violations charging nobody and naming no party <= "
        f"{TARGET_BLIND_SHARE:.0%}: worst {worst_blind:.1%}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
