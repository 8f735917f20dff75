"""Benchmark `reevaluate` (truce.domain.incremental) against a full `evaluate`.

    .venv/bin/python bench/incremental.py [--n 1000000] [--new 10000] [--seed 1]
        [--repeat 3] [--workdir DIR]

The scenario of bench/evaluate.py (bench/scenario.py, cached in --workdir) with
n + new rows. The previous evaluation is made over n of them; then the `new`
others arrive and the table is the old rows followed by the new ones (the
store's order). Two batches, over the same full table:

- recent: `new` rows observed in the scenario's last day (the usual case);
- spread: `new` rows drawn over the whole period (the changes reach back to
  the first days, so nearly everything is consolidated again).

For each: a full `evaluate` over the n + new rows and `reevaluate(previous, ...)`,
both warm (numba compiled, the same process), best of --repeat by wall time,
with CPU time (the process's user + system) beside it, both ratios, and a check
that both give the same incidents, violations, phases and conditions.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.scenario import cached  # noqa: E402

from truce.domain.evaluate import evaluate  # noqa: E402
from truce.domain.incremental import reevaluate  # noqa: E402
from truce.domain.model import Evaluation, IncidentTable, ReportTable  # noqa: E402
from truce.formats.agreement import parse_agreement  # noqa: E402
from truce.formats.reports import read_reports  # noqa: E402

TARGET_S = 2.0


def load(n: int, seed: int, workdir: Path) -> tuple[Any, ReportTable, datetime]:
    """The scenario's agreement, its reports (read once, then pickled beside the CSV)."""
    agreement_path, reports_path, meta = cached(n, seed, workdir)
    agreement = parse_agreement(agreement_path.read_text(encoding="utf-8"), str(agreement_path))
    table_path = reports_path.with_suffix(".reports.pickle")
    if table_path.exists():
        reports = pickle.loads(table_path.read_bytes())
    else:
        reports = read_reports(reports_path).reports
        table_path.write_bytes(pickle.dumps(reports, protocol=pickle.HIGHEST_PROTOCOL))
    return agreement, reports, datetime.fromisoformat(str(meta["as_of"]))


def best_of(repeat: int, run: Any) -> tuple[float, float, Any]:
    """(wall s, CPU s, result) of the fastest of `repeat` runs by wall time."""
    best: tuple[float, float, Any] | None = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        timing = (time.perf_counter() - wall, time.process_time() - cpu, result)
        if best is None or timing[0] < best[0]:
            best = timing
    assert best is not None
    return best


def identical(a: Evaluation, b: Evaluation) -> bool:
    same_incidents = all(
        getattr(a.incidents, f.name).dtype == getattr(b.incidents, f.name).dtype
        and np.array_equal(
            getattr(a.incidents, f.name), getattr(b.incidents, f.name), equal_nan=_floats(a, f.name)
        )
        for f in fields(IncidentTable)
    )
    return (
        same_incidents
        and a.violations == b.violations
        and a.phases == b.phases
        and a.conditions == b.conditions
    )


def _floats(ev: Evaluation, column: str) -> bool:
    return getattr(ev.incidents, column).dtype.kind in "fmM"  # NaN and NaT equal themselves


def measure(
    name: str,
    agreement: Any,
    reports: ReportTable,
    new: np.ndarray,
    as_of: datetime,
    args: argparse.Namespace,
) -> bool:
    """Print one batch's line; whether both ways gave the same evaluation."""
    old = np.setdiff1d(np.arange(len(reports)), new)
    previous = evaluate(agreement, reports.take(old), as_of=as_of)
    table = reports.take(np.concatenate([old, new]))  # the new rows after the old
    new_rows = np.arange(len(old), len(table))
    full_s, full_cpu, full = best_of(args.repeat, lambda: evaluate(agreement, table, as_of=as_of))
    inc_s, inc_cpu, inc = best_of(
        args.repeat, lambda: reevaluate(previous, table, new_rows, as_of=as_of)
    )
    info = inc.extra["incremental"]
    same = identical(inc, full)
    print(
        f"{name:<8} {full_s:>9.2f}s {full_cpu:>8.2f}s {inc_s:>9.2f}s {inc_cpu:>8.2f}s"
        f" {full_s / inc_s:>5.1f}x {full_cpu / inc_cpu:>5.1f}x  {'yes' if same else 'NO':<5}"
        f" {info['consolidated']:,} reports / {info['reused']:,} of {len(full.incidents):,}"
        f" ({info['reason']})"
    )
    stages = ", ".join(f"{k} {v:.2f}" for k, v in inc.extra["timings"].items())
    print(f"{'':<8} reevaluate stages (s): {stages}")
    if name == "recent":
        verdict = "PASS" if inc_s <= TARGET_S else "MISS"
        print(f"{'':<8} target: {args.new:,} recent into {args.n:,} in <= {TARGET_S} s: {verdict}")
    return same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/truce-bench"))
    args = parser.parse_args(argv)

    start = time.perf_counter()
    agreement, reports, as_of = load(args.n + args.new, args.seed, args.workdir)
    print(
        f"scenario: {len(reports):,} reports, loaded in {time.perf_counter() - start:.1f} s;"
        f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    rng = np.random.default_rng(args.seed)
    t = reports.observed_at
    last_day = np.flatnonzero(t > t.max() - np.timedelta64(1, "D"))
    batches = {
        "recent": rng.choice(last_day, args.new, replace=False),
        "spread": rng.choice(len(reports), args.new, replace=False),
    }
    evaluate(agreement, reports.take(np.arange(2_000)), as_of=as_of)  # numba compiled or loaded
    print(
        f"{'batch':<8} {'full wall':>10} {'full CPU':>9} {'incr wall':>10} {'incr CPU':>9}"
        f" {'ratio':>6} {'CPU':>6}  {'same':<5} reconsolidated / reused incidents"
    )
    ok = True
    for name, new in batches.items():
        ok &= measure(name, agreement, reports, new, as_of, args)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
