"""One-time sign-in links: `truce serve --demo` prints a URL that signs the browser in.

The link is `/signin#code=CODE`. The code sits after `#`, so it never reaches
server logs or proxies; the page `/signin` posts it to `POST /api/signin`, which
answers the token the code stands for, once, within `ttl_s`. Codes live in this
process's memory only: a restarted server, or a second use, refuses them.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, Field

from truce.api.errors import error_responses
from truce.errors import AuthError

__all__ = ["DEFAULT_TTL_S", "SignInLinks", "mount"]

DEFAULT_TTL_S = 15 * 60


class SignInLinks:
    """Code -> token, each code redeemable once before it expires."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._codes: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def issue(self, token: str, ttl_s: float = DEFAULT_TTL_S) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = (token, self._clock() + ttl_s)
        return code

    def redeem(self, code: str) -> str | None:
        """The token for `code`, or None when it is unknown, used or expired."""
        with self._lock:
            found = self._codes.pop(code, None)
            now = self._clock()
            for other in [c for c, (_, until) in self._codes.items() if until <= now]:
                del self._codes[other]
        if found is None or found[1] <= now:
            return None
        return found[0]


class SignInCode(BaseModel):
    code: str = Field(min_length=1, max_length=200)


class SignInAnswer(BaseModel):
    token: str


router = APIRouter(prefix="/api")


@router.post(
    "/signin",
    response_model=SignInAnswer,
    tags=["meta"],
    responses=error_responses(400, 401, 422),
)
def signin(body: SignInCode, request: Request) -> SignInAnswer:
    """Exchange a one-time sign-in code (printed by `truce serve --demo`) for its token."""
    token = request.app.state.signin_links.redeem(body.code)
    if token is None:
        raise AuthError(
            "this sign-in link was already used or has expired: start the demo again "
            "(`make demo`) for a new one, or sign in with a token"
        )
    return SignInAnswer(token=token)


def mount(app: FastAPI) -> None:
    app.state.signin_links = SignInLinks()
    app.include_router(router)
