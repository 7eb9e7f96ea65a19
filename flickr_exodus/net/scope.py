"""A target's credentials go to its own host and nowhere else.

`same_host` is the one rule: scheme, host name and port, as a browser compares origins
(localhost and 127.0.0.1 are two hosts; so are http and https of one name, so a
downgrade loses the credential too). `scoped` is an aiohttp client middleware that adds
the credential headers to each request, redirects included, only when it goes to the
target's host: a redirect elsewhere is followed without them (aiohttp itself drops only
Authorization and Cookie, never a key like Immich's x-api-key)."""

from __future__ import annotations

from typing import Mapping

from aiohttp import ClientHandlerType, ClientRequest, ClientResponse
from yarl import URL

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str | URL) -> tuple[str, str, int | None]:
    url = URL(str(url)) if not isinstance(url, URL) else url
    scheme = (url.scheme or "").lower()
    return scheme, (url.host or "").lower().rstrip("."), url.port or _DEFAULT_PORTS.get(scheme)


def same_host(a: str | URL, b: str | URL) -> bool:
    """True when both URLs name one host: same scheme, host name and port."""
    first = _origin(a)
    return bool(first[1]) and first == _origin(b)


def scoped(base: str, credentials: Mapping[str, str]):
    """An aiohttp middleware: `credentials` (headers) on requests to base's host only."""
    names = tuple(credentials)

    async def middleware(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        for name in names:
            request.headers.popall(name, None)
        if same_host(request.url, base):
            request.headers.update(credentials)
        return await handler(request)

    return middleware
