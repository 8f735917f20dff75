"""Typed errors that carry where the problem is and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, what was found, why it is wrong."""

    path: str
    message: str
    file: str | None = None
    line: int | None = None
    value: object = None

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        loc = f"{where}: " if where else ""
        at = f"{self.path}: " if self.path else ""
        return f"{loc}{at}{self.message}"


class TruceError(Exception):
    """Base class for errors a user can act on."""


@dataclass
class AgreementError(TruceError):
    """An agreement file is unusable; carries every problem found, not just the first."""

    problems: list[Problem] = field(default_factory=list)
    file: str | None = None

    def __str__(self) -> str:
        head = f"{self.file or 'agreement'}: {len(self.problems)} problem(s)"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


class UnknownAgreement(TruceError):
    """No agreement with that id in the library and no such file."""


class ReportFormatError(TruceError):
    """A report file as a whole is unusable (not a single bad row: those are rejections)."""


class GazetteerError(TruceError):
    """A place name could not be resolved to one location."""

    def __init__(self, message: str, candidates: list[str] | None = None) -> None:
        super().__init__(message)
        self.candidates = candidates or []
