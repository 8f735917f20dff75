"""The benchmark's synthetic scenario stays valid, so `bench/evaluate.py` cannot silently rot."""

from __future__ import annotations

from datetime import datetime

import pytest
from bench.scenario import AS_OF, cached, generate

from truce.domain.evaluate import evaluate
from truce.formats.agreement import parse_agreement
from truce.formats.reports import read_reports

RULE_KINDS = {
    "cease_attacks",
    "no_territorial_gain",
    "withdrawal",
    "demilitarised",
    "no_fly",
    "checkpoint_limit",
    "humanitarian_access",
}


@pytest.fixture(scope="module")
def scenario_files(tmp_path_factory):
    return cached(2_000, 1, tmp_path_factory.mktemp("bench"))


def test_generator_gives_exactly_n_rows_and_is_reproducible():
    first, again = generate(2_000, seed=3), generate(2_000, seed=3)
    assert len(first.reports) == 2_000
    assert first.reports.equals(again.reports)
    assert first.agreement_yaml == again.agreement_yaml


def test_generated_agreement_loads_with_about_fifty_zones_and_every_rule_kind(scenario_files):
    agreement_path, _, _ = scenario_files
    agreement = parse_agreement(agreement_path.read_text(encoding="utf-8"))
    assert 45 <= len(agreement.zones) <= 55
    assert {r.kind for r in agreement.rules} == RULE_KINDS
    assert any(c.kind == "quiet_days" for c in agreement.conditions)


def test_evaluate_accepts_the_generated_reports_and_finds_every_kind(scenario_files):
    agreement_path, reports_path, meta = scenario_files
    agreement = parse_agreement(agreement_path.read_text(encoding="utf-8"))
    read = read_reports(reports_path)
    # every row is accepted, rejected (the planted malformed ones) or a re-sent duplicate
    assert len(read.reports) + len(read.rejected) + read.duplicates == 2_000
    assert len(read.rejected) == meta["malformed_rows"]
    assert read.duplicates == meta["resent_rows"]
    ev = evaluate(agreement, read.reports, as_of=AS_OF, rejected=read.rejected)
    assert datetime.fromisoformat(str(meta["as_of"])) == AS_OF
    assert 0 < len(ev.incidents) < len(read.reports)  # duplicates were merged
    assert set(ev.extra["timings"]) == {"project", "consolidate", "phases", "rules"}
    kinds = {v.kind for v in ev.violations}
    # no_fly needs the quiet condition met and a gov airstrike in a small area: rare at 2,000
    assert kinds >= RULE_KINDS - {"no_fly"}
    assert {p.id: p.status for p in ev.phases}["cessation"] == "ended"


def test_incremental_bench_finds_reevaluate_equal_to_evaluate(tmp_path, capsys):
    from bench.incremental import main

    assert main(["--n", "3000", "--new", "40", "--repeat", "1", "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "(incremental)" in out and " NO " not in out
