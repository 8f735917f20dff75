"""The timeline: times and `{after: PHASE}` / `{when: CONDITION}` references,
phases, conditions, and the dependency cycles between them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from truce.domain.conditions import condition_kinds
from truce.domain.conditions.forces_withdrawn import WITHDRAWAL_KINDS
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
from truce.formats.agreement.document import CONDITION_HEAD_KEYS, ConditionHeadDoc, PhaseDoc
from truce.formats.agreement.yaml_paths import PathT, parse_path


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


def conditions(
    check: Checker, items: list[Any], raw_rules: list[Any] | None = None
) -> tuple[Condition, ...]:
    """Each condition's head, then its registered kind's parameters and references.

    A condition depends (for cycle detection) on the conditions it is made of and on
    the phases of the rules it watches."""
    kinds = condition_kinds()
    rule_phases = {
        r["id"]: [p for p in r.get("phases") or [] if isinstance(p, str)]
        for r in raw_rules or []
        if isinstance(r, dict)
        and isinstance(r.get("id"), str)
        and isinstance(r.get("phases"), list)
    }
    rule_kinds_by_id = {
        r["id"]: r.get("kind")
        for r in raw_rules or []
        if isinstance(r, dict) and isinstance(r.get("id"), str)
    }
    out = []
    for i, item in enumerate(items):
        path: PathT = ("conditions", i)
        if not isinstance(item, dict):
            check.add(path, "expected a mapping with id, kind and the kind's parameters", item)
            continue
        head_data = {k: v for k, v in item.items() if k in CONDITION_HEAD_KEYS}
        head = check.validate(ConditionHeadDoc, head_data, path)
        if head is None:
            continue
        kind = kinds.get(head.kind)
        if kind is None:
            check.add(
                (*path, "kind"),
                f"unknown condition kind '{head.kind}'; known kinds: {', '.join(kinds)}",
                head.kind,
            )
            continue
        params_data = {k: v for k, v in item.items() if k not in CONDITION_HEAD_KEYS}
        params = check.validate(
            kind.Params, params_data, path, context={"tz": check.tz}, extra_keys=CONDITION_HEAD_KEYS
        )
        if params is None:
            continue
        ok = True
        for ref_path, namespace, ref_id in params.refs():
            full = (*path, *parse_path(ref_path))
            if not check.ref(full, namespace, ref_id):
                ok = False
                continue
            if namespace == "condition":
                check.depends.setdefault(head.id, []).append((ref_id, full))
            elif namespace == "rule":
                ok = _watchable_rule(check, full, ref_id, rule_kinds_by_id.get(ref_id)) and ok
                for phase in rule_phases.get(ref_id, []):
                    check.depends.setdefault(head.id, []).append((phase, full))
            elif namespace == "feature" and head.kind == "checkpoints_established":
                found = check.feature_kinds.get(ref_id)
                if found not in (None, "point"):
                    check.add(
                        full,
                        f"checkpoint '{ref_id}' is a {found}; a checkpoint must be a point feature",
                        ref_id,
                    )
                    ok = False
        start = None
        if head.from_ is not None:
            start = time_ref(check, head.from_, (*path, "from"), head.id, allow_when=False)
            ok = ok and start is not None
        if ok:
            out.append(Condition(head.id, head.kind, params, start, head.name, head.note))
    return tuple(out)


def _watchable_rule(check: Checker, path: PathT, rule_id: str, kind: object) -> bool:
    if kind in WITHDRAWAL_KINDS:
        return True
    check.add(
        path,
        f"rule '{rule_id}' is a {kind} rule; forces_withdrawn watches "
        f"{' or '.join(WITHDRAWAL_KINDS)} rules",
        rule_id,
    )
    return False


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
