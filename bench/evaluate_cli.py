"""Benchmark `truce evaluate --format json` as a whole process, against the obvious alternative.

    .venv/bin/python bench/evaluate_cli.py [--n 1000000] [--seed 1] [--repeat 3]
        [--workdir DIR] [--skip-alternative]

1. Generates (once per n and seed, cached in --workdir, in a child process so that this
   one stays small) the synthetic Aleppo-like agreement and n SPEC §2 report rows that
   `bench/evaluate.py` uses (bench/scenario.py).
2. Runs the real command, `python -m truce evaluate --agreement A --reports R --as-of T
   --format json` with its standard output sent to a file, in a fresh process each
   time: interpreter start, imports, reading, evaluation, the JSON written and the
   process's exit all count. Wall time is measured around the process, peak memory is
   the process's own `ru_maxrss` (from `os.wait4`, so nothing else on the machine
   counts), and its CPU time (user + system), which the machine's other load does
   not inflate. Each figure is the best of --repeat runs; every run is printed.
3. Runs the same work the two other ways in fresh processes, best of --repeat too:
   - "dumps": the obvious way, `json.dumps(evaluation_to_dict(ev), indent=1,
     ensure_ascii=False)` written to the file;
   - "one string": truce's column writer making the whole document as one string
     (`evaluation_json(ev)`) and writing it, as `truce evaluate` did
     before it streamed.
   Each output is checked to be byte for byte the command's.
4. Prints each with ratios (other / command) and the targets — 1M reports in <= 5 s
   and <= 1 GB peak, whole process — as PASS/MISS. Also the start-up of `truce --help`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET_N = 1_000_000
TARGET_WALL_S = 5.0
TARGET_PEAK_BYTES = 1024**3


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float  # user + system: what the machine's other load does not inflate
    peak_bytes: int
    digest: str  # sha256 of the output file
    size: int


def child_env() -> dict[str, str]:
    """The environment of each measured process: this checkout's truce first, its
    bytecode cached as an installed package's is (with PYTHONDONTWRITEBYTECODE, which
    some sandboxes set, every run would compile truce's sources again: ~0.5 s)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


def measure(argv: list[str], output: Path) -> Run:
    """Run `argv` with its stdout sent to `output`; its wall time and own peak RSS."""
    with output.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, env=child_env())
        # wait4 gives this child's own rusage: ru_maxrss is its resident high-water mark.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{stderr[-3000:]}")
    digest = hashlib.sha256()
    with output.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    size = output.stat().st_size
    output.unlink()
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, cpu, usage.ru_maxrss * 1024, digest.hexdigest(), size)


def best_of(argv: list[str], output: Path, repeat: int, label: str) -> tuple[Run, list[Run]]:
    runs = []
    for k in range(repeat):
        run = measure(argv, output)
        print(
            f"  {label:<12} run {k + 1}: {run.wall_s:6.2f} s wall, {run.cpu_s:6.2f} s CPU, "
            f"peak {fmt_gb(run.peak_bytes)}",
            flush=True,
        )
        runs.append(run)
    best = min(runs, key=lambda r: r.wall_s)
    # Each figure at its best: other load on the machine only ever adds to them.
    best = replace(
        best, cpu_s=min(r.cpu_s for r in runs), peak_bytes=min(r.peak_bytes for r in runs)
    )
    return best, runs


def fmt_gb(value: float) -> str:
    return f"{value / 1024**3:.2f} GB"


# --- the alternatives, run as `bench/evaluate_cli.py --worker WAY ...` ---------------------


def worker(way: str, agreement: str, reports: str, as_of: str) -> None:
    from truce.cli.evaluate import run_evaluate

    ev = run_evaluate(agreement, Path(reports), as_of, None)
    if way == "dumps":
        import json

        from truce.formats.evaluation_json import evaluation_to_dict

        text = json.dumps(evaluation_to_dict(ev), indent=1, ensure_ascii=False)
    else:
        from truce.formats.evaluation_json import evaluation_json

        text = evaluation_json(ev, indent=1, ensure_ascii=False)
    sys.stdout.write(text)
    sys.stdout.write("\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=TARGET_N, help="report rows to generate")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "truce-bench"))
    p.add_argument("--repeat", type=int, default=3, help="runs of each; the fastest is reported")
    p.add_argument("--skip-alternative", action="store_true", help="run only the command")
    p.add_argument("--worker", choices=["dumps", "string"], help=argparse.SUPPRESS)
    p.add_argument("--files", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args.worker, *args.files)
        return 0

    sys.path.insert(0, str(ROOT))
    from bench.scenario import cached

    # Generated in a child of its own: a child's ru_maxrss counts the memory of the process
    # it was forked from, so a bench process grown by a million rows would inflate them all.
    make = "import sys; from pathlib import Path; from bench.scenario import cached; "
    make += "cached(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))"
    argv = [sys.executable, "-c", make, str(args.n), str(args.seed), args.workdir]
    subprocess.run(argv, check=True, cwd=ROOT, env=child_env())
    agreement, reports, meta = cached(args.n, args.seed, Path(args.workdir))
    as_of = str(meta["as_of"])
    print(
        f"truce evaluate (whole process): n={args.n:,} seed={args.seed} cpus={os.cpu_count()} "
        f"load average {os.getloadavg()[0]:.1f}\n"
        f"  reports {reports} ({reports.stat().st_size / 1e6:.0f} MB)"
    )
    output = Path(args.workdir) / f"evaluate-cli-{os.getpid()}.json"
    python = sys.executable
    files = [str(agreement), str(reports), as_of]

    startup, _ = best_of([python, "-m", "truce", "--help"], output, args.repeat, "truce --help")
    command = [python, "-m", "truce", "evaluate", "--agreement", files[0], "--reports", files[1]]
    command += ["--as-of", as_of, "--format", "json"]
    cli, _ = best_of(command, output, args.repeat, "command")
    others: dict[str, Run] = {}
    if not args.skip_alternative:
        for way, label in (("string", "one string"), ("dumps", "dumps")):
            others[label], _ = best_of(
                [python, __file__, "--worker", way, "--files", *files], output, args.repeat, label
            )

    print(
        f"\n{'way':<14}{'wall':>10}{'CPU':>10}{'peak RSS':>11}"
        f"{'wall ratio':>12}{'CPU ratio':>11}{'peak ratio':>12}"
    )
    print(f"{'command':<14}{cli.wall_s:8.2f} s{cli.cpu_s:8.2f} s{fmt_gb(cli.peak_bytes):>11}")
    for label, run in others.items():
        print(
            f"{label:<14}{run.wall_s:8.2f} s{run.cpu_s:8.2f} s{fmt_gb(run.peak_bytes):>11}"
            f"{run.wall_s / cli.wall_s:11.2f}x{run.cpu_s / cli.cpu_s:10.2f}x"
            f"{run.peak_bytes / cli.peak_bytes:11.2f}x"
        )
    print(
        f"\nJSON written: {cli.size / 1e6:.0f} MB; `truce --help` start-up {startup.wall_s:.2f} s, "
        f"{fmt_gb(startup.peak_bytes)}"
    )
    same = all(run.digest == cli.digest for run in others.values())
    if others:
        print(f"outputs byte for byte identical: {'yes' if same else 'NO'}")

    print(f"load average now {os.getloadavg()[0]:.1f} (wall times grow with it; CPU times hardly)")
    print("\ntargets (whole process)")
    scaled = "" if args.n >= TARGET_N else f" (at n={args.n:,}; run --n {TARGET_N} to decide)"
    wall_ok = cli.wall_s <= TARGET_WALL_S
    peak_ok = cli.peak_bytes <= TARGET_PEAK_BYTES
    print(
        f"  [{'PASS' if wall_ok else 'MISS'}] <= {TARGET_WALL_S:.0f} s: {cli.wall_s:.2f} s wall "
        f"({cli.cpu_s:.2f} s CPU){scaled}"
    )
    print(f"  [{'PASS' if peak_ok else 'MISS'}] <= 1 GB peak: {fmt_gb(cli.peak_bytes)}{scaled}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
