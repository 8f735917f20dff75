"""The agreements a server serves: the built-in library plus extra files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import truce
from truce.domain.model import Agreement
from truce.errors import NotFound


@dataclass(frozen=True)
class AgreementEntry:
    agreement: Agreement
    digest: str  # changes when the file (or truce's version) changes: invalidates the cache
    origin: str


class AgreementRegistry:
    """The agreements a server serves: the built-in library plus extra files."""

    def __init__(self, entries: list[AgreementEntry]) -> None:
        self._by_id = {e.agreement.id: e for e in entries}

    @classmethod
    def load(
        cls, extra_files: list[Path] | tuple[Path, ...] = (), *, builtins: bool = True
    ) -> AgreementRegistry:
        from truce.formats.agreement import load_agreement, parse_agreement
        from truce.library.catalog import builtin_files

        entries: list[AgreementEntry] = []
        if builtins:
            for res in builtin_files():
                text = res.read_text(encoding="utf-8")
                a = parse_agreement(text, file=f"library/agreements/{res.name}")
                entries.append(AgreementEntry(a, digest(text.encode()), f"library:{res.name}"))
        for path in extra_files:
            path = Path(path)
            a = load_agreement(path)
            entries.append(AgreementEntry(a, digest(path.read_bytes()), str(path)))
        return cls(entries)

    def get(self, agreement_id: str) -> AgreementEntry:
        try:
            return self._by_id[agreement_id]
        except KeyError:
            known = ", ".join(sorted(self._by_id)) or "(none)"
            raise NotFound(f"unknown agreement {agreement_id!r}; known: {known}") from None

    def all(self) -> list[AgreementEntry]:
        return [self._by_id[k] for k in sorted(self._by_id)]


def digest(data: bytes) -> str:
    """The file's content and truce's version: a new release re-evaluates everything."""
    return hashlib.sha256(truce.__version__.encode() + b"\0" + data).hexdigest()
