"""Small wording helpers shared by the commands."""

from __future__ import annotations


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """`1 violation`, `2 violations`, `0 incidents`.

    >>> plural(1, "violation"), plural(3, "incident"), plural(2, "entry", "entries")
    ('1 violation', '3 incidents', '2 entries')
    """
    word = singular if n == 1 else (plural_form or f"{singular}s")
    return f"{n:,} {word}"
