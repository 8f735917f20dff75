"""One exchange round at scale: a bulletin of --new reports (default 100k) issued,
signed, pulled, verified and imported into a centre that already holds --held
reports (default 1M). Prints each stage's wall time, and proof sizes against log size.

    .venv/bin/python bench/exchange.py [--held 1000000] [--new 100000] [--backend sqlite|postgresql]

Setup (not timed): the witness ("hmeimim") ingests --held reports; the issuer
("amman") ingests --new reports. Then, timed:
1. issue: read the period's reports, evaluate as of the period's end over all the
   issuer holds (the `evaluation_digest`), canonical JSON (RFC 8785), leaf, sign
   the checkpoint, commit;
2. pull at the witness, over in-process HTTP (the real routes): checkpoint, fetch,
   verify (signature, inclusion), decode (canonical check), parse the reports,
   import them, cosign and post the cosignature, and the convergence check
   (re-evaluate the issuer's set from the witness's side and compare digests).
Target (issue #11): the whole round under 10 s on this machine's kind.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import Db, make_csv_chunks  # noqa: E402

from truce.exchange import merkle  # noqa: E402
from truce.exchange.keys import init_key  # noqa: E402
from truce.exchange.pull import pull  # noqa: E402
from truce.exchange.service import Exchange  # noqa: E402
from truce.service import AgreementRegistry, Service  # noqa: E402
from truce.store.users import SYSTEM_USER  # noqa: E402

AGREEMENT = "us-ru-2016-09"


def _ingest(svc: Service, n: int, prefix: str, seed: int) -> float:
    t0 = time.perf_counter()
    for chunk in make_csv_chunks(n, 50_000, seed=seed, prefix=prefix):
        svc.ingest_reports(chunk, format="csv", user=SYSTEM_USER)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--held", type=int, default=1_000_000)
    ap.add_argument("--new", type=int, default=100_000)
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = ap.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from truce.api import Settings, create_app

    keys = tempfile.TemporaryDirectory()
    issuer_db, witness_db = Db(args.backend), Db(args.backend)
    registry = AgreementRegistry.load()
    centres = {}
    for name, db in (("amman", issuer_db), ("hmeimim", witness_db)):
        signer = init_key(name, Path(keys.name) / f"{name}.key")
        os.environ["TRUCE_KEY_FILE"] = str(Path(keys.name) / f"{name}.key")
        app = create_app(Settings(database_url=db.url, migrate=False))
        centres[name] = (app, signer)
    del os.environ["TRUCE_KEY_FILE"]
    issuer_app, issuer_key = centres["amman"]
    witness_app, witness_key = centres["hmeimim"]
    issuer: Exchange = issuer_app.state.exchange
    witness: Exchange = witness_app.state.exchange
    issuer.add_peer("hmeimim", "http://hmeimim", str(witness_key.verifier))
    witness.add_peer("amman", "http://amman", str(issuer_key.verifier))
    client = TestClient(issuer_app)

    def transport(method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        r = client.request(method, path, content=body)
        return r.status_code, r.content

    print(f"setup ({args.backend}): witness ingests {args.held:,} reports ...", flush=True)
    s = _ingest(witness_app.state.service, args.held, "held", 1)
    print(f"  {s:.1f} s; issuer ingests {args.new:,} reports ...", flush=True)
    s = _ingest(issuer_app.state.service, args.new, "new", 2)
    print(f"  {s:.1f} s", flush=True)
    _ = registry
    # A running server has its numba kernels compiled: warm them outside the timing.
    issuer_app.state.service.snapshot(AGREEMENT)

    t0, c0 = time.perf_counter(), time.process_time()
    issued = issuer.issue(AGREEMENT)
    t_issue, c_issue = time.perf_counter() - t0, time.process_time() - c0
    size_kb = len(issuer.bulletin(issued.seq)) / 1024
    print(
        f"issue: bulletin {issued.seq}, {issued.reports:,} reports, {size_kb:,.0f} KiB: "
        f"{t_issue:.2f} s ({c_issue:.2f} s CPU)"
    )

    t0, c0 = time.perf_counter(), time.process_time()
    result = pull(witness, "amman", transport)
    t_pull, c_pull = time.perf_counter() - t0, time.process_time() - c0
    assert not result.alerts, result.alerts
    assert result.imported_reports == args.new and result.cosigned
    print(
        f"pull: {result.imported_reports:,} reports imported into {args.held:,}: "
        f"{t_pull:.2f} s ({c_pull:.2f} s CPU)"
    )
    for stage in ("fetch", "verify", "decode", "parse", "import", "cosign", "converge"):
        print(f"  {stage:9s} {result.timings_s.get(stage, 0.0):6.2f} s")
    print(f"  digests equal: {[ok for _, ok in result.converged]}")
    total = t_issue + t_pull
    print(
        f"round: {total:.2f} s, {c_issue + c_pull:.2f} s CPU "
        f"(target < 10 s: {'PASS' if total < 10 else 'MISS'}; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )

    print("proof sizes (hashes) against log size:")
    for n in (10, 100, 1_000, 10_000, 100_000):
        leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
        inc = len(merkle.inclusion_proof(n // 3, leaves))
        con = len(merkle.consistency_proof(n // 3 or 1, leaves))
        print(f"  {n:>7,} bulletins: inclusion {inc:2d}, consistency {con:2d}")
    client.close()
    for app, _ in centres.values():
        app.state.service.engine.dispose()
    issuer_db.close()
    witness_db.close()
    keys.cleanup()


if __name__ == "__main__":
    main()
