"""What `truce serve --demo` sets up for the quiet-day coverage rule (SPEC §6 `coverage`).

The built-in us-ru-2016-09 is the agreement as published: it names no
monitoring centres, so `truce evaluate` on a file counts its quiet week as it
always did. The demo serves it with one change: the quiet week counts only the
days the demo centre's bulletins cover. The demo centre is this server (its
exchange key, made as `demo` when it has none), and the demo closes the past
with one bulletin a day, starting a day late on purpose: the first counted day
(13 Sep) has no bulletin, so the dashboard shows it "not covered", and the
days after it counted as quiet or not by their incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from truce.domain.model import Agreement, AtTime
from truce.exchange.issuing import Issued
from truce.exchange.keys import KeyError_, default_key_path, init_key, load_signer
from truce.exchange.service import Exchange
from truce.formats.agreement import parse_agreement
from truce.library.catalog import builtin_files

DEMO_AGREEMENT = "us-ru-2016-09"
DEMO_CENTRE = "demo"
CONDITION_LINE = "    kind: quiet_days\n"


@dataclass(frozen=True)
class DemoCentre:
    name: str
    agreement_file: Path


def prepare(database_url: str) -> DemoCentre:
    """This server's key (a new one named `demo` if it has none) and, beside it, the demo
    agreement whose quiet week counts only the days that key's bulletins cover."""
    path = default_key_path(database_url)
    try:
        name = load_signer(path).name
    except KeyError_:
        if path.exists():
            raise  # an unsafe or unreadable key: say so rather than replace it
        name = init_key(DEMO_CENTRE, path).name
    target = path.parent / f"demo-{DEMO_AGREEMENT}.yaml"
    target.write_text(demo_agreement_text(name), encoding="utf-8")
    return DemoCentre(name, target)


def demo_agreement_text(centre: str) -> str:
    """The built-in agreement's text with `coverage: [centre]` on its quiet-days condition."""
    (resource,) = [f for f in builtin_files() if f.name == f"{DEMO_AGREEMENT}.yaml"]
    text = resource.read_text(encoding="utf-8")
    if text.count(CONDITION_LINE) != 1:
        raise ValueError(f"{resource.name}: expected one quiet_days condition to add coverage to")
    header = (
        f"# truce serve --demo: {DEMO_AGREEMENT} with its quiet week counted only on the days\n"
        f"# the bulletins of the demo centre ({centre}) cover.\n"
    )
    covered = header + text.replace(CONDITION_LINE, f"{CONDITION_LINE}    coverage: [{centre}]\n")
    agreement = parse_agreement(covered, file=f"demo-{DEMO_AGREEMENT}.yaml")
    if not any(c.coverage == (centre,) for c in agreement.conditions):
        raise ValueError(f"{resource.name}: the quiet_days condition did not take the coverage")
    return covered


def first_covered_day(agreement: Agreement) -> datetime:
    """Local midnight two days after the first fixed phase start: the first day counted
    (the day after it) is left without a bulletin."""
    start = min(p.start.at for p in agreement.phases if isinstance(p.start, AtTime))
    local = start.astimezone(agreement.timezone).date() + timedelta(days=2)
    return datetime.combine(local, datetime.min.time(), agreement.timezone)


def issue_bulletins(ex: Exchange) -> list[Issued]:
    """One bulletin a day for the demo period, from `first_covered_day` to the demo's end
    (again: the periods are closed already, nothing new)."""
    from truce.demodata import demo_period

    agreement = ex.agreement(DEMO_AGREEMENT)
    _, end = demo_period(agreement)
    daily = Exchange(ex.engine, ex.agreement, signer=ex.signer, interval=timedelta(days=1))
    issued = []
    close = first_covered_day(agreement) + timedelta(days=1)
    while close <= end:
        issued.append(daily.issue(DEMO_AGREEMENT, period_to=close))
        close += timedelta(days=1)
    return issued


def describe(centre: DemoCentre, issued: list[Issued], agreement: Agreement) -> str:
    from truce.demodata import demo_period

    new = sum(1 for i in issued if i.created)
    start, end = (
        first_covered_day(agreement),
        demo_period(agreement)[1].astimezone(agreement.timezone),
    )
    return (
        f"demo centre {centre.name}: daily bulletins cover {start:%Y-%m-%d} to {end:%Y-%m-%d} "
        f"({new} issued now); the quiet week counts only the days they cover"
    )
