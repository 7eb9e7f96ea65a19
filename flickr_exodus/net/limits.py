"""Bounds on every answer read from the wire: a server that trickles, stalls or never
ends its body cannot hold a run or fill a disk.

A stall is fewer than EXODUS_STALL_BYTES bytes within a window of EXODUS_STALL_SECONDS
(or no answer headers within one window), or, once a transfer is older than one window,
an average since its first byte under EXODUS_MIN_RATE bytes/s: a `Stalled`, which the
callers retry like any other transient failure. The window rule catches a server gone
silent; the floor bounds the whole transfer (none outlives its cap / EXODUS_MIN_RATE),
which the window rule alone does not: 1.1 KiB/s passes it, for 45 days of a 4 GiB body.
A body longer than its cap is `TooLarge`: final for that request, since asking again
brings the same bytes.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator

import aiohttp

from ..knobs import min_rate, stall_bytes, stall_seconds
from .errors import Transient

CHUNK = 1 << 20


class Stalled(Transient):
    """Too slow to be a working transfer."""


class TooLarge(Exception):
    """An answer longer than it may be: one line for the user."""


@asynccontextmanager
async def answer(request: "aiohttp.client._RequestContextManager") -> AsyncIterator[aiohttp.ClientResponse]:
    """The response of `session.get(...)` and the like, its headers awaited for one stall
    window at most (a server may trickle headers too)."""
    window = stall_seconds()
    timer = asyncio.timeout(window)
    try:
        async with timer:
            response = await request
    except TimeoutError:
        if not timer.expired():
            raise  # aiohttp's own (connect) timeout: the caller's transient failure
        raise Stalled(f"stalled: no answer within {window:g} s") from None
    async with response:
        yield response


async def chunks(response: aiohttp.ClientResponse, cap: int, what: str = "the answer") -> AsyncIterator[bytes]:
    """The body, a chunk at a time, at the minimum speed or `Stalled`, at most `cap` bytes
    or `TooLarge`. A declared length over the cap is refused before any byte is read."""
    if response.content_length is not None and response.content_length > cap:
        raise TooLarge(f"{what} declares {response.content_length} bytes, over the cap of {cap}")
    window, least, floor = stall_seconds(), stall_bytes(), min_rate()
    loop = asyncio.get_running_loop()
    start, got, total, first = loop.time(), 0, 0, None
    while True:
        now = loop.time()
        left = start + window - now
        if left <= 0:
            if got < least:
                raise Stalled(f"stalled: {got} bytes in {window:g} s (under {least})")
            start, got, left = now, 0, window
        if first is not None and now - first >= window and total < floor * (now - first):
            raise Stalled(f"stalled: {total} bytes in {now - first:.0f} s, an average under "
                          f"{floor:g} bytes/s (EXODUS_MIN_RATE)")
        timer = asyncio.timeout(left)
        try:
            async with timer:
                block = await response.content.read(CHUNK)
        except TimeoutError:
            if not timer.expired():
                raise
            continue  # the window is over: judged at the top of the loop
        if not block:
            return
        if first is None:
            first = loop.time()
        got += len(block)
        total += len(block)
        if total > cap:
            raise TooLarge(f"{what} went past the cap of {cap} bytes")
        yield block


async def read(response: aiohttp.ClientResponse, cap: int, what: str = "the answer") -> bytearray:
    """The whole body, within the same bounds as `chunks` (not copied into bytes: json and
    magic read a bytearray as well, and a large answer is not held twice)."""
    body = bytearray()
    async for block in chunks(response, cap, what):
        body += block
    return body
