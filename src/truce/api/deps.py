"""FastAPI dependencies as `Annotated` aliases: the service, the settings, the caller.

Tests override exactly one of them (e.g. `get_current_user`) with
`app.dependency_overrides`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from truce.api.settings import Settings
from truce.service import Service
from truce.store.errors import Forbidden
from truce.store.users import User

bearer = HTTPBearer(auto_error=False, description="a token from `truce users add`")


def get_service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


ServiceDep = Annotated[Service, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_current_user(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    return service.authenticate(credentials.credentials if credentials else None)


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_optional_user(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User | None:
    """The caller, or None without a token (for endpoints that may be public, e.g. OGC);
    a token that is sent but bad is still 401."""
    if credentials is None:
        return None
    return service.authenticate(credentials.credentials)


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


def require_roles(*roles: str):  # type: ignore[no-untyped-def]
    """A dependency that lets only these roles through (403 otherwise)."""

    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(f"role {user.role!r} may not do this; allowed: {', '.join(roles)}")
        return user

    return check


Submitter = Annotated[
    User, Depends(require_roles("admin", "secretariat", "centre", "humanitarian"))
]
Publisher = Annotated[User, Depends(require_roles("admin", "secretariat"))]
