"""What `truce serve --demo` sets up: the demo reports and one expiring demo admin.

Each run revokes the previous demo admin's token (and the per-run
`demo-admin-YYYYmmddHHMMSS` users older versions made) before making a new one,
so a database never holds more than one working demo token, and that one
expires after `DEMO_TOKEN_TTL`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

DEMO_AGREEMENT = "us-ru-2016-09"
DEMO_USER = "demo-admin"
DEMO_TOKEN_TTL = timedelta(days=1)


@dataclass(frozen=True)
class DemoLoad:
    accepted: int
    duplicate: int
    rejected: int

    def describe(self) -> str:
        return (
            f"demo data: {self.accepted} reports added, {self.duplicate} already there, "
            f"{self.rejected} rejected (deliberately bad rows)"
        )


def load_demo_reports(service: Any) -> DemoLoad:
    """Ingest the synthetic week of reports for the demo agreement (again: no change)."""
    from truce import demodata
    from truce.store.users import SYSTEM_USER

    agreement = service.agreements.get(DEMO_AGREEMENT).agreement
    out = io.StringIO()
    writer = csv.DictWriter(out, list(demodata.COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(demodata.generate(agreement))
    result = service.ingest_reports(out.getvalue().encode("utf-8"), format="csv", user=SYSTEM_USER)
    return DemoLoad(result.accepted, result.duplicate, len(result.rejected))


def is_demo_user(name: str) -> bool:
    return name == DEMO_USER or name.startswith(f"{DEMO_USER}-")


def demo_token(service: Any, now: datetime | None = None) -> tuple[str, datetime]:
    """A fresh demo admin token and its expiry; earlier demo tokens are revoked."""
    now = now or datetime.now(UTC)
    active = {u.name for u in service.list_users() if is_demo_user(u.name) and u.revoked_at is None}
    for name in sorted(active):
        service.revoke_user(name, actor="demo")
    expires = now + DEMO_TOKEN_TTL
    _, token = service.add_user(DEMO_USER, "admin", None, expires_at=expires, actor="demo")
    return token, expires
