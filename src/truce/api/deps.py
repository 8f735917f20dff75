"""FastAPI dependencies as `Annotated` aliases: the service, the settings, the caller.

Tests override exactly one of them (e.g. `get_current_user`) with
`app.dependency_overrides`.

Callers are authenticated through `Authenticator` (one per app): a per-process
cache of token hash -> user that is valid while the store's watermark does not
move (`truce.store.watermark`). Revoking a token is a write, so every server
process refuses it within `freshness_ms` (the process that revoked it at once);
an expired token is refused on the first request after its expiry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from truce.api.settings import Settings
from truce.domain.access import require
from truce.service import Service
from truce.store.users import TokenCache, User
from truce.store.watermark import Watermark

bearer = HTTPBearer(auto_error=False, description="a token from `truce users add`")


class Authenticator:
    """Bearer token -> `User`, cached per process while the store's watermark holds."""

    def __init__(self, service: Service, watermark: Watermark) -> None:
        self.service = service
        self.watermark = watermark
        self.cache = TokenCache()

    def user(self, token: str | None) -> User:
        """The caller; AuthError (401) saying why not. May read the database."""
        mark = self.watermark.current()  # first: what is read next is at least this new
        return self.cache.get(self.service.engine, token, version=mark, now=self.service.clock())

    def user_nowait(self, token: str | None) -> User | None:
        """The caller from memory; None when the database must be read (use `user`)."""
        mark = self.watermark.peek()
        if mark is None:
            return None
        return self.cache.cached(token, version=mark, now=self.service.clock())


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, as `HTTPBearer` reads it."""
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    token = token.strip()
    if not (scheme and token) or scheme.lower() != "bearer":
        return None
    return token


def get_service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


ServiceDep = Annotated[Service, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_authenticator(request: Request) -> Authenticator:
    return request.app.state.auth  # type: ignore[no-any-return]


AuthDep = Annotated[Authenticator, Depends(get_authenticator)]


def get_current_user(
    auth: AuthDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    return auth.user(credentials.credentials if credentials else None)


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_optional_user(
    auth: AuthDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User | None:
    """The caller, or None without a token (for endpoints that may be public, e.g. OGC);
    a token that is sent but bad is still 401."""
    if credentials is None:
        return None
    return auth.user(credentials.credentials)


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


def allowed_to(action: str) -> Callable[[User], User]:
    """A dependency that lets through only the roles `truce.domain.access` allows to do
    `action` (403 otherwise, before the body is read)."""

    def check(user: CurrentUser) -> User:
        require(user, action)
        return user

    return check


Submitter = Annotated[User, Depends(allowed_to("reports.submit"))]
Publisher = Annotated[User, Depends(allowed_to("incident.publish"))]
ExchangeOperator = Annotated[User, Depends(allowed_to("exchange.status"))]
