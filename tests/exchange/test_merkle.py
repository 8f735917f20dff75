"""RFC 6962 / 9162 hashing and proofs against the published vectors (tests/exchange/vectors.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.exchange.vectors import (
    CONSISTENCY_PROOFS,
    INCLUSION_PROOFS,
    LEAF_HASHES,
    LEAF_INPUTS,
    ROOTS,
)

from truce.exchange.merkle import (
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

HASHES = [leaf_hash(x) for x in LEAF_INPUTS]


def test_leaf_hashes_match_the_vectors() -> None:
    assert HASHES == LEAF_HASHES


@pytest.mark.parametrize("size", range(9))
def test_root_of_every_prefix_matches_the_vectors(size: int) -> None:
    assert root_hash(HASHES[:size]) == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_inclusion_proofs_match_and_verify(index: int, size: int, proof: list[bytes]) -> None:
    assert inclusion_proof(index, HASHES[:size]) == proof
    verify_inclusion(index, size, HASHES[index], proof, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_PROOFS)
def test_consistency_proofs_match_and_verify(old: int, new: int, proof: list[bytes]) -> None:
    assert consistency_proof(old, HASHES[:new]) == proof
    verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


def _corruptions(proof: list[bytes], root: bytes) -> list[list[bytes]]:
    out = [[*proof, b""], [*proof, root], [b"", *proof], [root, *proof]]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        out.append(flipped)
    if proof:
        out.append(proof[:-1])
    return out


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS[1:])
def test_corrupted_inclusion_proofs_are_refused(index: int, size: int, proof: list[bytes]) -> None:
    root, leaf = ROOTS[size], HASHES[index]
    for bad in _corruptions(proof, root):
        with pytest.raises(ProofError):
            verify_inclusion(index, size, leaf, bad, root)
    for i, n in ((index + 1, size), (index ^ 2, size), (index, size * 2), (index, size // 2)):
        if (i, n) != (index, size):
            with pytest.raises(ProofError):
                verify_inclusion(i, n, leaf, proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf_hash(b"WrongLeaf"), proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf, proof, ROOTS[0])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_PROOFS[1:])
def test_corrupted_consistency_proofs_are_refused(old: int, new: int, proof: list[bytes]) -> None:
    r1, r2 = ROOTS[old], ROOTS[new]
    for bad in [*_corruptions(proof, r1), [*proof, r2], [r2, *proof], [proof[0], *proof], []]:
        with pytest.raises(ProofError):
            verify_consistency(old, new, r1, r2, bad)
    for o, n in ((old - 1, new), (old + 1, new), (old ^ 2, new), (old, new * 2), (old, new // 2)):
        if (o, n) != (old, new) and o > 0:
            with pytest.raises(ProofError):
                verify_consistency(o, n, r1, r2, proof)
    with pytest.raises(ProofError):
        verify_consistency(old, new, r2, r1, proof)


def test_a_shorter_tree_cannot_be_consistent_with_a_longer_old_one() -> None:
    with pytest.raises(ProofError):
        verify_consistency(2, 1, ROOTS[2], ROOTS[1], [])


def test_two_roots_for_one_size_are_a_fork() -> None:
    with pytest.raises(ProofError, match="two different roots"):
        verify_consistency(3, 3, ROOTS[3], ROOTS[4], [])


def test_proofs_outside_the_tree_are_refused() -> None:
    with pytest.raises(ProofError):
        inclusion_proof(8, HASHES)
    with pytest.raises(ProofError):
        consistency_proof(9, HASHES)


@given(st.integers(1, 70), st.data())
def test_every_generated_proof_verifies_and_proofs_are_logarithmic(n: int, data) -> None:  # type: ignore[no-untyped-def]
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    root = root_hash(leaves)
    index = data.draw(st.integers(0, n - 1))
    proof = inclusion_proof(index, leaves)
    assert len(proof) <= (n - 1).bit_length()
    verify_inclusion(index, n, leaves[index], proof, root)
    old = data.draw(st.integers(1, n))
    cproof = consistency_proof(old, leaves)
    assert len(cproof) <= 2 * n.bit_length()
    verify_consistency(old, n, root_hash(leaves[:old]), root, cproof)
    if old < n:  # a rewritten old leaf breaks consistency
        forged = [leaf_hash(b"x"), *leaves[1:old]]
        with pytest.raises(ProofError):
            verify_consistency(old, n, root_hash(forged), root, cproof)
