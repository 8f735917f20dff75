"""Rules: the common head (id, kind, name, note) and the parameters of the
registered rule kind (`truce.domain.rules`), with their references resolved."""

from __future__ import annotations

from typing import Any

from truce.domain.model import Rule
from truce.domain.rules import rule_kinds
from truce.formats.agreement.checker import Checker
from truce.formats.agreement.document import RULE_HEAD_KEYS, RuleHeadDoc
from truce.formats.agreement.yaml_paths import PathT, parse_path


def rules(check: Checker, items: list[Any]) -> tuple[Rule, ...]:
    kinds = rule_kinds()
    out = []
    for i, item in enumerate(items):
        path: PathT = ("rules", i)
        if not isinstance(item, dict):
            check.add(path, "expected a mapping with id, kind and the kind's parameters", item)
            continue
        head_data = {k: v for k, v in item.items() if k in RULE_HEAD_KEYS}
        params_data = {k: v for k, v in item.items() if k not in RULE_HEAD_KEYS}
        head = check.validate(RuleHeadDoc, head_data, path)
        if head is None:
            continue
        kind = kinds.get(head.kind)
        if kind is None:
            check.add(
                (*path, "kind"),
                f"unknown rule kind '{head.kind}'; known kinds: {', '.join(kinds)}",
                head.kind,
            )
            continue
        params = check.validate(
            kind.Params, params_data, path, context={"tz": check.tz}, extra_keys=RULE_HEAD_KEYS
        )
        if params is None:
            continue
        ok = True
        for ref_path, namespace, ref_id in params.refs():
            full = (*path, *parse_path(ref_path))
            ok = check.ref(full, namespace, ref_id) and ok
            if ok and head.kind == "checkpoint_limit" and namespace == "feature":
                found = check.feature_kinds.get(ref_id)
                if found not in (None, "point"):
                    check.add(
                        full,
                        f"checkpoint '{ref_id}' is a {found}; a checkpoint must be a point feature",
                        ref_id,
                    )
                    ok = False
        if ok:
            out.append(Rule(head.id, head.kind, params, head.name, head.note))
    return tuple(out)
