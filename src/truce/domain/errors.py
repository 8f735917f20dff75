"""The error tree lives in `truce.errors`; this name stays for code written before it moved."""

from truce.errors import (
    AgreementError,
    GazetteerError,
    Problem,
    ReportFormatError,
    TruceError,
    UnknownAgreement,
)

__all__ = [
    "AgreementError",
    "GazetteerError",
    "Problem",
    "ReportFormatError",
    "TruceError",
    "UnknownAgreement",
]
