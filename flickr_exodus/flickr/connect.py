"""One way to open the wire for a command: the shared quota ledger (its waits told to the
user), an aiohttp session, and the Api on top."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, Callable

import aiohttp

from .client import Api, Endpoints
from .credentials import Credentials, state_dir
from ..knobs import stall_seconds
from .quota import DEFAULT_RATE, Quota


@dataclass(kw_only=True)
class FlickrAccess:
    """What every command that calls Flickr is told: its quota (--api-rate), another host
    such as a sandbox (--api-base), and credentials (None: from the environment or the
    token `exodus auth` stored for that host)."""
    api_rate: tuple[int, float] = DEFAULT_RATE
    api_base: str | None = None
    creds: Credentials | None = None


@asynccontextmanager
async def connect(creds: Credentials, api_base: str | None, rate: tuple[int, float],
                  note: Callable[[str], None], connections: int = 8) -> AsyncIterator[Api]:
    endpoints = Endpoints(api_base) if api_base else Endpoints()
    calls, seconds = rate

    def waiting(delay: float, spent: bool) -> None:
        if spent:
            note(f"API quota ({calls} calls per {seconds:g} s) spent: waiting {delay:.1f} s, then going on.")
        else:
            note(f"API quota: pacing calls to {calls} per {seconds:g} s (waits of {delay:.1f} s between calls).")

    quota = Quota(creds.api_key, rate, state_dir(), on_wait=waiting)
    # No overall timeout (a large video may take hours); net/limits.py judges each answer
    # by its speed, so the socket's own read timeout is only a backstop behind it.
    timeout = aiohttp.ClientTimeout(total=None, connect=30, sock_read=max(120.0, 2 * stall_seconds() + 1))
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector,
                                     headers={"User-Agent": "flickr-exodus"}) as session:
        yield Api(creds, endpoints, quota, session, note=note)
