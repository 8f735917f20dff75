"""Typed errors raised by the store and the service layer.

They say what is wrong and what to do; the web layer maps each class to one
HTTP status in exactly one place (`truce.api.errors`), the CLI prints them.
"""

from __future__ import annotations

from truce.domain.errors import TruceError


class StoreError(TruceError):
    """Base of the errors the store and service raise for a caller to act on."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(StoreError):
    """No such agreement, incident, violation or user."""


class Conflict(StoreError):
    """The request clashes with the current state (an illegal review transition, a taken name)."""


class Forbidden(StoreError):
    """The caller's role may not do this."""


class AuthError(StoreError):
    """No token, an unknown token, or a revoked or expired one."""


class BadInput(StoreError):
    """The body is unusable as a whole (malformed JSON or CSV, empty, wrong shape)."""


class PayloadTooLarge(StoreError):
    """The body exceeds the configured limit."""


class UnsupportedMediaType(StoreError):
    """The Content-Type is not one the endpoint reads."""
