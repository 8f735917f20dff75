"""The timeline: times and `{after: PHASE}` / `{when: CONDITION}` references,
phases, conditions, and the dependency cycles between them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from truce.domain.model import (
    AfterPhase,
    AtTime,
    Condition,
    Phase,
    TimeRef,
    WhenCondition,
)
from truce.domain.timeparse import parse_duration, parse_local_datetime
from truce.formats.agreement.checker import Checker, Namespace
from truce.formats.agreement.document import ConditionDoc, PhaseDoc
from truce.formats.agreement.yaml_paths import PathT

CONDITION_KINDS: tuple[str, ...] = ("quiet_days",)


def time_ref(
    check: Checker, value: Any, path: PathT, owner: str, *, allow_when: bool
) -> TimeRef | None:
    """A time, or a reference that `owner` then depends on (recorded in `check.depends`)."""
    if isinstance(value, dict):
        forms = "{after: PHASE, offset: 48h}" + (
            " or {when: CONDITION, offset: 48h}" if allow_when else ""
        )
        anchor = "after" if "after" in value else "when" if "when" in value and allow_when else None
        if anchor is None:
            check.add(path, f"expected a time, or {forms}", value)
            return None
        for key in value:
            if key not in (anchor, "offset"):
                check.add((*path, str(key)), f"unknown key '{key}'; write {forms}", value[key])
        offset = timedelta(0)
        if "offset" in value:
            try:
                offset = parse_duration(value["offset"])
            except ValueError as exc:
                check.add((*path, "offset"), str(exc), value["offset"])
        target = value[anchor]
        namespace: Namespace = "phase" if anchor == "after" else "condition"
        if not check.ref((*path, anchor), namespace, target):
            return None
        check.depends.setdefault(owner, []).append((str(target), (*path, anchor)))
        return AfterPhase(target, offset) if anchor == "after" else WhenCondition(target, offset)
    try:
        return AtTime(parse_local_datetime(value, check.tz))
    except ValueError as exc:
        check.add(
            path,
            f"{exc}; write an ISO 8601 time like 2016-09-12T19:00:00+03:00"
            + (", {after: PHASE} or {when: CONDITION}" if allow_when else " or {after: PHASE}"),
            value,
        )
        return None


def phases(check: Checker, items: list[Any]) -> tuple[Phase, ...]:
    out = []
    for i, item in enumerate(items):
        path: PathT = ("phases", i)
        doc = check.validate(PhaseDoc, item, path)
        if doc is None:
            if isinstance(item, dict) and isinstance(item.get("id"), str) and "start" in item:
                # still follow its start, so a cycle through it is reported too
                time_ref(check, item["start"], (*path, "start"), item["id"], allow_when=True)
            continue
        start = time_ref(check, doc.start, (*path, "start"), doc.id, allow_when=True)
        if start is not None:
            out.append(Phase(doc.id, start, doc.duration, doc.name, doc.note))
    return tuple(out)


def conditions(check: Checker, items: list[Any]) -> tuple[Condition, ...]:
    out = []
    for i, item in enumerate(items):
        path: PathT = ("conditions", i)
        kind = item.get("kind") if isinstance(item, dict) else None
        if isinstance(kind, str) and kind not in CONDITION_KINDS:
            check.add(
                (*path, "kind"),
                f"unknown condition kind '{kind}'; known kinds: {', '.join(CONDITION_KINDS)}",
                kind,
            )
            continue
        doc = check.validate(ConditionDoc, item, path)
        if doc is None:
            continue
        ok = all([check.ref((*path, "within", j), "zone", z) for j, z in enumerate(doc.within)])
        start = None
        if doc.from_ is not None:
            start = time_ref(check, doc.from_, (*path, "from"), doc.id, allow_when=False)
            ok = ok and start is not None
        if ok:
            out.append(
                Condition(
                    doc.id,
                    doc.kind,
                    doc.days,
                    doc.max_incidents,
                    tuple(doc.within),
                    start,
                    doc.name,
                    doc.note,
                )
            )
    return tuple(out)


def cycles(check: Checker) -> None:
    """Report every phase/condition dependency cycle once, as `a -> b -> a`."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []
    reported: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target, path in check.depends.get(node, []):
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    check.add(
                        path,
                        f"cycle: {' -> '.join(cycle)}; a phase cannot wait, directly or through "
                        "conditions, for itself; start one of them at a fixed time or after another phase",
                        target,
                    )
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in list(check.depends):
        if node not in state:
            visit(node)
