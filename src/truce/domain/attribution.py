"""Who was involved and who, if anyone, is charged.

Per report (`attribute`): the labels (`truce.domain.actors`) of its actor and
target, who attacked (the actor, unless the report says the two sides fought and
who attacked is unknown: `direction: mutual`), and everyone involved.

Per incident (`judge`): whether the terms can cover it and whom they charge.
Each side of an incident is one of

- unknown: nobody named, or nobody the agreement lists;
- a party, or several;
- excluded: only excluded groups;
- mixed: parties and excluded groups together (a coalition list, or an
  aggregate such as UCDP's "Syrian insurgents");
- outside: only states the agreement does not bind.

An incident is outside the terms when a side is excluded (fighting an excluded
group is no breach) or outside (the terms do not bind that state, and a party
fighting one is not a breach of them either). Otherwise it can be a violation:

- an attack charges its attacker's party (unknown: `unattributed`);
- a mutual clash charges nobody (`unattributed`) and involves both sides;
- a mixed side makes the verdict only `possible`, with the reason in the
  evidence: whether the terms reach a joint operation with an excluded group,
  or an attack on one, is for a person to decide. It is never silently
  charged, and never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pandas as pd

from truce.domain.actors import OUTSIDE, ActorIndex, join_label, label_tokens
from truce.domain.model import MUTUAL, UNATTRIBUTED, Agreement, ReportTable


class Side(IntEnum):
    UNKNOWN = 0
    PARTY = 1
    PARTIES = 2
    EXCLUDED = 3
    MIXED = 4
    OUTSIDE = 5


@dataclass(frozen=True)
class Attribution:
    """Per report labels (object arrays of str)."""

    attacker: np.ndarray  # who attacked; "" when unknown or mutual
    actor: np.ndarray  # the actor column's label
    target: np.ndarray  # the target column's label
    involved: np.ndarray  # party and excluded-group ids among actor and target
    mutual: np.ndarray  # bool


def attribute(agreement: Agreement, reports: ReportTable) -> Attribution:
    """A stated `side` that names a party or excluded group wins over the actor name."""
    index = ActorIndex.from_agreement(agreement)
    known = np.array([*agreement.party_ids(), *agreement.excluded_ids()], dtype=object)
    side = reports.side.astype(object)
    actor = np.where(np.isin(side, known), side, index.resolve(reports.actor)).astype(object)
    target = index.resolve(reports.target).astype(object)
    mutual = reports.direction == MUTUAL
    attacker = np.where(mutual, "", actor).astype(object)
    return Attribution(attacker, actor, target, _involved(actor, target), mutual)


def _involved(actor: np.ndarray, target: np.ndarray) -> np.ndarray:
    pair, (actors, targets) = _factorize_pairs(actor, target)
    labels = [
        join_label(t for t in (*label_tokens(a), *label_tokens(b)) if t != OUTSIDE)
        for a, b in zip(actors, targets, strict=True)
    ]
    return np.array(labels, dtype=object)[pair] if len(pair) else np.array([], dtype=object)


def _factorize_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple[list, list]]:
    ca, ua = pd.factorize(a, use_na_sentinel=False)
    cb, ub = pd.factorize(b, use_na_sentinel=False)
    combined, distinct = pd.factorize(ca.astype(np.int64) * max(len(ub), 1) + cb)
    k = max(len(ub), 1)
    return combined, ([ua[d // k] for d in distinct], [ub[d % k] for d in distinct])


@dataclass(frozen=True)
class Judgement:
    """Per incident: can the terms cover it, whom do they charge, and what is in doubt."""

    covered: np.ndarray  # bool: it can be a violation
    certain: np.ndarray  # bool: it surely can (no mixed side)
    charged: np.ndarray  # object: party id or UNATTRIBUTED
    doubt: np.ndarray  # object: why only possible ("" when certain or not covered)


def side_of(label: str, parties: frozenset[str], excluded: frozenset[str]) -> Side:
    tokens = set(label_tokens(label))
    p, e = tokens & parties, tokens & excluded
    if p and e:
        return Side.MIXED
    if e:
        return Side.EXCLUDED
    if p:
        return Side.PARTY if len(p) == 1 else Side.PARTIES
    return Side.OUTSIDE if OUTSIDE in tokens else Side.UNKNOWN


def judge(
    agreement: Agreement,
    attacker: np.ndarray,
    actor: np.ndarray,
    target: np.ndarray,
    mutual: np.ndarray,
) -> Judgement:
    """Decided once per distinct (attacker, actor, target, mutual) combination."""
    parties, excluded = frozenset(agreement.party_ids()), frozenset(agreement.excluded_ids())
    n = len(attacker)
    first = np.where(mutual, actor, attacker)
    codes, distinct = pd.factorize(
        pd.Series(first.astype(str))
        + "\x1f"
        + pd.Series(target.astype(str))
        + "\x1f"
        + pd.Series(np.where(mutual, "m", "a")),
        use_na_sentinel=False,
    )
    covered, certain, charged, doubt = [], [], [], []
    for key in distinct.tolist():
        a, t, how = key.split("\x1f")
        verdict = _judge_one(a, t, how == "m", parties, excluded)
        covered.append(verdict[0])
        certain.append(verdict[1])
        charged.append(verdict[2])
        doubt.append(verdict[3])
    if n == 0:
        empty = np.array([], dtype=object)
        return Judgement(np.array([], dtype=bool), np.array([], dtype=bool), empty, empty)
    return Judgement(
        np.array(covered, dtype=bool)[codes],
        np.array(certain, dtype=bool)[codes],
        np.array(charged, dtype=object)[codes],
        np.array(doubt, dtype=object)[codes],
    )


def _judge_one(
    first: str, target: str, mutual: bool, parties: frozenset[str], excluded: frozenset[str]
) -> tuple[bool, bool, str, str]:
    sides = (side_of(first, parties, excluded), side_of(target, parties, excluded))
    if Side.EXCLUDED in sides or Side.OUTSIDE in sides:
        return False, False, UNATTRIBUTED, ""
    charged = UNATTRIBUTED
    if not mutual and sides[0] in (Side.PARTY, Side.MIXED):
        named = sorted(set(label_tokens(first)) & parties)
        charged = named[0] if len(named) == 1 else UNATTRIBUTED
    doubts = [
        f"{role} names both {_ids(label, parties)} and excluded {_ids(label, excluded)}"
        for role, label, side in (
            ("one side" if mutual else "attacker", first, sides[0]),
            ("other side" if mutual else "target", target, sides[1]),
        )
        if side == Side.MIXED
    ]
    return True, not doubts, charged, "; ".join(doubts)


def _ids(label: str, among: frozenset[str]) -> str:
    return "/".join(sorted(set(label_tokens(label)) & among))
