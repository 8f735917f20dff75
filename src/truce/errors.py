"""Every error truce raises for a caller to act on, in one tree.

Each class carries the HTTP `status` the API answers with and the OGC API
exception `ogc_code`; `truce.api.errors` maps any of them to one response
body, `{"code", "description", "detail"}`, and the CLI prints the message. The
messages say what is wrong and what to do. Pure: no I/O, no adapter imports,
so `truce.domain` raises these too.

    TruceError                      400  InvalidParameterValue
    ├── AgreementError              400  an agreement file is unusable (every problem found)
    ├── ReportFormatError           400  a report file as a whole is unusable
    ├── BadInput                    400  a request body or parameter is unusable
    ├── AuthError                   401  Unauthorized: no token, unknown, revoked or expired
    ├── Forbidden                   403  Forbidden: the caller's role may not do this
    ├── NotFound                    404  NotFound: no such agreement, incident, violation, user
    │   ├── UnknownAgreement        404  no agreement with that id in the library, no such file
    │   └── GazetteerError          404  a place name does not resolve to one location
    ├── Conflict                    409  Conflict: clashes with the current state
    └── Unavailable                 503  ServiceUnavailable: a part the server needs is missing

HTTP-only errors (a body too large, an unreadable media type) live in
`truce.api.errors`, the only place that raises them.

>>> NotFound("no incident 'x'").status, UnknownAgreement("nope").ogc_code
(404, 'NotFound')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


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

    status: ClassVar[int] = 400
    ogc_code: ClassVar[str] = "InvalidParameterValue"

    @property
    def detail(self) -> str:
        """The message, as the API's `detail` field shows it."""
        return str(self)


@dataclass
class AgreementError(TruceError):
    """An agreement file is unusable; carries every problem found, not just the first."""

    problems: list[Problem] = field(default_factory=list)
    file: str | None = None

    def __str__(self) -> str:
        head = f"{self.file or 'agreement'}: {len(self.problems)} problem(s)"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


class ReportFormatError(TruceError):
    """A report file as a whole is unusable (not a single bad row: those are rejections)."""


class BadInput(TruceError):
    """The body or a parameter is unusable as a whole (malformed JSON or CSV, empty,
    wrong shape, a bad query parameter)."""


class AuthError(TruceError):
    """No token, an unknown token, or a revoked or expired one."""

    status = 401
    ogc_code = "Unauthorized"


class Forbidden(TruceError):
    """The caller's role may not do this."""

    status = 403
    ogc_code = "Forbidden"


class NotFound(TruceError):
    """No such agreement, incident, violation, collection or user."""

    status = 404
    ogc_code = "NotFound"


class UnknownAgreement(NotFound):
    """No agreement with that id in the library and no such file."""


class GazetteerError(NotFound):
    """A place name could not be resolved to one location."""

    def __init__(self, message: str, candidates: list[str] | None = None) -> None:
        super().__init__(message)
        self.candidates = candidates or []


class Conflict(TruceError):
    """The request clashes with the current state (an illegal review transition, a taken name)."""

    status = 409
    ogc_code = "Conflict"


class Unavailable(TruceError):
    """Something the server needs for this answer is not installed (the PDF renderer)."""

    status = 503
    ogc_code = "ServiceUnavailable"


__all__ = [
    "AgreementError",
    "AuthError",
    "BadInput",
    "Conflict",
    "Forbidden",
    "GazetteerError",
    "NotFound",
    "Problem",
    "ReportFormatError",
    "TruceError",
    "Unavailable",
    "UnknownAgreement",
]
