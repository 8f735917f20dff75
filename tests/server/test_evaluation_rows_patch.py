"""`patch` + `link` (what a reader does with the rows a refresh wrote) give the same
evaluation as linking the new one whole, for random edits: incidents added anywhere,
removed, changed; violations added on old incidents, moved, removed."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truce.store.evaluation_rows import link, patch
from truce.store.packed import PackedIncidents


def _evaluation(inc_keys: list[str], vio_of: list[tuple[str, int]]) -> tuple[list, list]:
    incidents = [{"key": k, "doc": f"d-{k}"} for k in inc_keys]
    violations = [
        {"key": f"{rule}:{k}", "incident_key": k, "doc": rule}
        for k, rule in [(inc, r) for inc, r in vio_of]
    ]
    return incidents, violations


def _changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list:
    """What `compare` writes: rows new, moved or different, and tombstones."""
    old = {item["key"]: (pos, item) for pos, item in enumerate(before)}
    out = []
    for pos, item in enumerate(after):
        was = old.pop(item["key"], None)
        if was is None or was[0] != pos or was[1] != item:
            out.append((item["key"], pos, orjson.dumps(item).decode()))
    out += [(key, None, None) for key in old]
    return out


keys = st.lists(st.integers(0, 30), unique=True, max_size=14).map(lambda ks: [f"k{k}" for k in ks])


@st.composite
def two_evaluations(draw: st.DrawFn) -> tuple[tuple[list, list], tuple[list, list]]:
    old_keys = draw(keys)
    kept = [k for k in old_keys if draw(st.booleans()) or len(old_keys) < 3]
    added = [k for k in draw(keys) if k not in old_keys]
    new_keys = kept[:]
    for k in added:
        new_keys.insert(draw(st.integers(0, len(new_keys))), k)

    def violations(pool: list[str]) -> list[tuple[str, int]]:
        if not pool:
            return []
        return draw(st.lists(st.tuples(st.sampled_from(pool), st.sampled_from("abc")), max_size=10))

    old_v = list(dict.fromkeys(violations(old_keys)))
    new_v = [v for v in old_v if v[0] in new_keys and draw(st.booleans())]
    new_v = list(dict.fromkeys(new_v + violations(new_keys)))  # keys are unique
    before = _evaluation(old_keys, old_v)
    after = _evaluation(new_keys, new_v)
    for inc in after[0]:  # some incidents change content
        if draw(st.booleans()) and draw(st.booleans()):
            inc["doc"] += "*"
    return before, after


def _packed(incidents: list[dict[str, Any]], violations: list[dict[str, Any]]) -> PackedIncidents:
    """Linked incidents as a process that loaded them holds them."""
    at: dict[int, list[str]] = {}
    for v in violations:
        at.setdefault(int(v["incident"][4:]) - 1, []).append(v["id"])
    docs = [orjson.dumps({**i, "id": None, "violations": None}).decode() for i in incidents]
    return PackedIncidents.pack(zip([i["key"] for i in incidents], docs, strict=True), at)


@pytest.mark.parametrize("packed", [False, True], ids=["dicts", "packed"])
@settings(max_examples=300, deadline=None)
@given(pair=two_evaluations())
def test_a_patched_evaluation_links_like_the_new_one_whole(pair, packed):
    (old_inc, old_vio), (new_inc, new_vio) = pair
    held_inc, held_vio = link(old_inc, old_vio)  # what a reader holds
    if packed:
        held_inc = _packed(held_inc, held_vio)
    inc_patch = patch(held_inc, _changes(old_inc, new_inc), len(new_inc))
    vio_patch = patch(held_vio, _changes(old_vio, new_vio), len(new_vio))
    assert inc_patch is not None and vio_patch is not None
    # Before the first position that differs, the same incidents in their places (what
    # a class's relink does not look at again: `OwnEvaluations._relinked`).
    first = inc_patch[1]
    assert [(i["key"], i["doc"]) for i in list(inc_patch[0])[:first]] == [
        (i["key"], i["doc"]) for i in list(held_inc)[:first]
    ]
    patched = link(
        inc_patch[0],
        vio_patch[0],
        incidents_from=inc_patch[1],
        violations_from=vio_patch[1],
        touched_before={v["incident_key"] for v in held_vio[vio_patch[1] :]},
    )
    whole = link(new_inc, new_vio)
    assert isinstance(patched[0], PackedIncidents) == packed
    assert (list(patched[0]), patched[1]) == (whole[0], whole[1])
    # Nothing the reader held was changed in place.
    assert link(old_inc, old_vio) == (held_inc, held_vio)


def test_a_snapshot_patched_twice_knows_how_far_it_is_the_same_as_each_before():
    """`same_before` through a chain of patches: up to the earliest first change."""
    from datetime import UTC, datetime, timedelta

    from truce.store.derived import LINEAGE, Snapshot, _lineage

    t0 = datetime(2026, 1, 1, tzinfo=UTC)

    def snap(version: int, patched_from: Any = ()) -> Snapshot:
        at = t0 + timedelta(minutes=version)
        data = {"incidents": [], "violations": []}
        return Snapshot("a", version, "d", at, None, at, data, patched_from=patched_from)

    chain = [snap(0)]
    for version, first in enumerate([40, 25, 30], start=1):
        chain.append(snap(version, _lineage(chain[-1], first)))
    last = chain[-1]
    assert [last.same_before(s.computation) for s in chain] == [25, 25, 30, None]
    for version in range(4, 4 + LINEAGE):
        chain.append(snap(version, _lineage(chain[-1], 50)))
    assert chain[-1].same_before(chain[-LINEAGE - 1].computation) == 50
    assert chain[-1].same_before(chain[-LINEAGE - 2].computation) is None  # forgotten
