"""The audit log as a use case: verify the stored chain."""

from __future__ import annotations

from sqlalchemy import Engine

from truce.store import audit


def verify_audit(engine: Engine) -> audit.VerifyResult:
    return audit.verify(engine)
