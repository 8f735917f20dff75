"""A JSON document sent as it is written, its long lists a block of items at a time.

The whole evaluation at 1M incidents is ~325 MB of JSON: rendering it as one
value (FastAPI validates and encodes the returned dict whole) took seconds of
the worker's interpreter and as much memory again as the evaluation itself.
Streamed, the server holds one block of encoded items at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from truce.store.packed import plain_value

BLOCK = 2_000  # items encoded per chunk sent


def json_chunks(doc: dict[str, Any], lists: Sequence[str], block: int = BLOCK) -> Iterator[bytes]:
    """`doc` as JSON text in chunks: its other members first, then each of `lists`
    (members holding lists), written `block` items at a time."""
    head = {k: v for k, v in doc.items() if k not in lists}
    text = orjson.dumps(head, default=plain_value)
    yield text[:-1]  # without the closing brace
    first_member = len(head) == 0
    for name in lists:
        items = doc[name]
        yield (b"" if first_member else b",") + orjson.dumps(name) + b":["
        first_member = False
        for start in range(0, len(items), block):
            encoded = b",".join(
                orjson.dumps(i, default=plain_value) for i in items[start : start + block]
            )
            yield (b"," if start else b"") + encoded
        yield b"]"
    yield b"}"
