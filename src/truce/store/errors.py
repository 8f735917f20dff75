"""The error tree lives in `truce.errors`; this name stays for code written before it moved."""

from truce.errors import AuthError, BadInput, Conflict, Forbidden, NotFound, TruceError

__all__ = ["AuthError", "BadInput", "Conflict", "Forbidden", "NotFound", "TruceError"]
