"""The README tells the truth: its worked example gives what it says, every rule kind is documented."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from truce.domain.evaluate import evaluate
from truce.domain.rules import rule_kinds
from truce.formats.agreement import parse_agreement
from truce.formats.reports import read_reports

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_every_rule_kind_is_documented():
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", README, re.M))
    assert documented == set(rule_kinds())


def test_readme_worked_example_gives_what_the_readme_says():
    agreement = parse_agreement(
        re.search(r"```yaml\n# aleppo.yaml\n(.*?)```", README, re.S).group(1)
    )
    reports = read_reports(re.search(r"```csv\n(.*?)```", README, re.S).group(1), format="csv")
    ev = evaluate(
        agreement, reports.reports, as_of=datetime.fromisoformat("2016-09-20T00:00:00+03:00")
    )
    assert reports.rejected == []
    assert [int(c) for c in ev.incidents.corroboration] == [2, 1, 1]
    assert [(v.kind, v.party) for v in ev.violations] == [
        ("cease_attacks", "gov"),
        ("withdrawal", "gov"),
    ]
    assert ev.incidents.target[1] == "nusra"
    assert "m from castello_road" in ev.violations[1].evidence


def test_every_permission_is_documented_with_its_roles():
    from truce.domain.access import ACTIONS, ROLES

    api = (Path(__file__).parents[1] / "docs" / "api.md").read_text()
    rows = re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| ([a-z, ]+) \|", api, re.M)
    documented = {name: frozenset(r.strip() for r in roles.split(",")) for name, roles in rows}
    assert documented == {name: a.roles for name, a in ACTIONS.items()}
    assert all(set(roles) <= set(ROLES) for roles in documented.values())
