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
from truce.domain.words import combinations


class Side(IntEnum):
    UNKNOWN = 0
    PARTY = 1
    PARTIES = 2
    EXCLUDED = 3
    MIXED = 4
    OUTSIDE = 5


@dataclass(frozen=True)
class Labels:
    """A column of labels as codes into its few distinct labels."""

    codes: np.ndarray  # int64
    names: list[str]

    @property
    def values(self) -> np.ndarray:
        return (
            np.array(self.names, dtype=object)[self.codes]
            if len(self.codes)
            else self.codes.astype(object)
        )


@dataclass(frozen=True)
class Attribution:
    """Per report labels."""

    attacker: Labels  # who attacked; "" when unknown or mutual
    actor: Labels  # the actor column's label
    target: Labels  # the target column's label
    involved: Labels  # party and excluded-group ids among actor and target


def attribute(agreement: Agreement, reports: ReportTable) -> Attribution:
    """A stated `side` that names a party or excluded group wins over the actor name.
    Each text column is hashed once; the rest works on small integer codes."""
    index = ActorIndex.from_agreement(agreement)
    actor_codes, actor_names = index.resolve_codes(reports.actor)
    side_codes, sides = pd.factorize(reports.side.astype(object), use_na_sentinel=False)
    known = {*agreement.party_ids(), *agreement.excluded_ids()}
    stated = [str(x) for x in sides.tolist() if x in known]
    if stated:
        # Stated sides become labels of their own, after the actor names' labels.
        names = actor_names + [x for x in stated if x not in actor_names]
        side_label = np.array([names.index(x) if x in known else -1 for x in sides.tolist()])
        by_side = side_label[side_codes]
        actor = Labels(np.where(by_side >= 0, by_side, actor_codes), names)
    else:
        actor = Labels(actor_codes, actor_names)
    target = Labels(*index.resolve_codes(reports.target))
    mutual = reports.direction == MUTUAL
    none = len(actor.names)
    attacker = Labels(np.where(mutual, none, actor.codes), [*actor.names, ""])
    return Attribution(attacker, actor, target, _involved(actor, target))


def _involved(actor: Labels, target: Labels) -> Labels:
    pair, distinct = pd.factorize(actor.codes * max(len(target.names), 1) + target.codes)
    k = max(len(target.names), 1)
    names = [
        join_label(
            t
            for t in (*label_tokens(actor.names[d // k]), *label_tokens(target.names[d % k]))
            if t != OUTSIDE
        )
        for d in distinct.tolist()
    ]
    return Labels(pair.astype(np.int64), names)


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
    first = np.where(mutual, actor, attacker)
    codes, distinct = combinations([first, target, mutual])
    verdicts = [_judge_one(a, t, bool(m), parties, excluded) for a, t, m in distinct]
    if not verdicts:
        empty = np.array([], dtype=object)
        return Judgement(np.array([], dtype=bool), np.array([], dtype=bool), empty, empty)
    covered, certain, charged, doubt = (np.array(c) for c in zip(*verdicts, strict=True))
    return Judgement(
        covered.astype(bool)[codes],
        certain.astype(bool)[codes],
        charged.astype(object)[codes],
        doubt.astype(object)[codes],
    )


def _judge_one(
    first: str, target: str, mutual: bool, parties: frozenset[str], excluded: frozenset[str]
) -> tuple[bool, bool, str, str]:
    sides = (side_of(first, parties, excluded), side_of(target, parties, excluded))
    charged = UNATTRIBUTED
    if not mutual and sides[0] in (Side.PARTY, Side.MIXED):
        named = sorted(set(label_tokens(first)) & parties)
        charged = named[0] if len(named) == 1 else UNATTRIBUTED
    if Side.EXCLUDED in sides or Side.OUTSIDE in sides:
        return False, False, charged, ""
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
