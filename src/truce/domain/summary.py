"""What an evaluation found, in the figures a reader checks first: how many violations
of each kind, and how many charge a party, only name the parties involved, or do
neither. Used by the real-data report and benchmark."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from truce.domain.model import UNATTRIBUTED, Evaluation


@dataclass(frozen=True)
class Summary:
    reports: int
    rejected: int
    incidents: int
    merged_incidents: int  # incidents holding more than one report
    violations: int
    by_kind: dict[str, int]
    charged: int  # a party is charged
    involved_only: int  # nobody is charged, but the parties involved are named
    unattributed: int  # nobody is charged and no party is named
    certain: int
    possible: int

    def share(self, count: int) -> float:
        return count / self.violations if self.violations else 0.0


def summarise(ev: Evaluation) -> Summary:
    vt = ev.violations
    unattributed = vt.party == UNATTRIBUTED
    named = vt.involved != ""  # type: ignore[operator]
    certain = int(np.count_nonzero(vt.certain))
    return Summary(
        reports=len(ev.reports),
        rejected=len(ev.rejected),
        incidents=len(ev.incidents),
        merged_incidents=int(np.count_nonzero(np.diff(ev.incidents.offsets) > 1)),
        violations=len(vt),
        by_kind=dict(sorted(Counter(vt.kind.tolist()).items())),
        charged=int(np.count_nonzero(~unattributed)),
        involved_only=int(np.count_nonzero(unattributed & named)),
        unattributed=int(np.count_nonzero(unattributed & ~named)),
        certain=certain,
        possible=len(vt) - certain,
    )
