"""The audit chain rule, pure, against fixed vectors: a log written by any truce version
must verify with this one, so the hashed bytes never change."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from truce.domain.chain import GENESIS, Entry, entry_hash, make_entry, verify_chain

T0 = datetime(2016, 9, 12, 16, 0, tzinfo=UTC)
H1 = "de567415b80ee91dfc401877de945365e207b5d77fbbf213e19fe192d86126eb"
H2 = "450df5a2389c458f81af074610731215716a91f27c36af0798a7301c67d72dfa"
H3 = "ba426e07fe972a19a021b42ac083244976dc4290246e7b037489d440f3d60bee"
# The fixed vectors: three entries as stored (seq, at, actor, action, payload, prev, hash).
VECTORS = [
    Entry(1, "2016-09-12T16:00:00.000000+00:00", "cli", "user.add",
          '{"name":"sec","party":null,"role":"secretariat"}', GENESIS, H1),
    Entry(2, "2016-09-12T17:30:00.000000+00:00", "sec", "reports.ingest",
          '{"accepted":4,"sources":["amman","hmeimim"]}', H1, H2),
    Entry(3, "2016-09-12T19:00:00.000000+00:00", "sec", "violation.confirm",
          '{"comment":"two sources é","from":"alleged","to":"confirmed",'
          '"violation":"us-ru-2016-09:r-cease:amman:a-1"}', H2, H3),
]  # fmt: skip
HEAD = (3, H3)


def test_the_hash_is_sha256_of_the_canonical_json_of_the_entry():
    body = (
        '{"action":"user.add","actor":"cli","at":"2016-09-12T16:00:00.000000+00:00",'
        '"payload":"{\\"name\\":\\"sec\\",\\"party\\":null,\\"role\\":\\"secretariat\\"}",'
        f'"prev_hash":"{GENESIS}","seq":1}}'
    )
    assert hashlib.sha256(body.encode()).hexdigest() == H1
    e = VECTORS[0]
    assert entry_hash(e.seq, e.at, e.actor, e.action, e.payload, e.prev_hash) == H1


def test_entries_made_with_the_clock_passed_in_match_the_vectors():
    payloads = [
        {"name": "sec", "role": "secretariat", "party": None},
        {"sources": ["amman", "hmeimim"], "accepted": 4},
        {
            "violation": "us-ru-2016-09:r-cease:amman:a-1",
            "from": "alleged",
            "to": "confirmed",
            "comment": "two sources é",
        },
    ]
    damascus = timezone(timedelta(hours=3))  # any zone: `at` is written in UTC
    prev, made = GENESIS, []
    for i, (v, payload) in enumerate(zip(VECTORS, payloads, strict=True)):
        now = (T0 + timedelta(minutes=90 * i)).astimezone(damascus)
        made.append(make_entry(v.seq, prev, v.actor, v.action, payload, now=now))
        prev = made[-1].hash
    assert made == VECTORS


def test_the_vectors_verify():
    result = verify_chain(VECTORS, HEAD)
    assert result.ok and result.entries == 3


def _edited(i: int, **change: object) -> list[Entry]:
    out = list(VECTORS)
    out[i] = dataclasses.replace(out[i], **change)  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize(
    ("entries", "head", "first_bad", "words"),
    [
        (_edited(1, payload='{"accepted":5,"sources":["amman","hmeimim"]}'), HEAD, 2, "edited"),
        (_edited(0, actor="someone"), HEAD, 1, "edited"),
        ([VECTORS[0], VECTORS[2]], HEAD, 3, "missing"),
        ([VECTORS[0], VECTORS[2], VECTORS[1]], HEAD, 3, "reordered"),
        (VECTORS[:2], HEAD, None, "removed"),
        (VECTORS, None, None, "head record is missing"),
    ],
    ids=["payload", "actor", "middle-removed", "reordered", "tail-removed", "no-head"],
)
def test_tampering_is_found_at_the_first_bad_entry(entries, head, first_bad, words):
    result = verify_chain(entries, head)
    assert not result.ok
    assert result.problems[0].seq == first_bad
    assert any(words in p.message for p in result.problems)


def test_an_empty_log_with_an_empty_head_verifies():
    assert verify_chain([], (0, GENESIS)).ok
