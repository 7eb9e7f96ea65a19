"""The link between a client and the sandbox: a round-trip time, a total bandwidth cap and
a cap per connection, shaped the way a real link shapes them.

- Every answer waits one round trip before its first byte; the first answer on a new
  connection waits two (the TCP handshake came first), so a client that keeps its
  connections alive gains what it would gain on a real link.
- Each cap is a token bucket whose burst is at most 64 KiB: a client that waited (for a
  round trip, for its own disk) gets that time back as 64 KiB at most, not as a tenth of a
  second of the cap, which used to hand a sequential client its idle waits back for free.
- A connection's bytes are held to its own cap (what a real stream's window and round trip
  allow), then to the total cap that every connection shares: concurrency pays up to the
  total, as it does on a real link.
"""

from __future__ import annotations

import asyncio
import time
import weakref

from aiohttp import web

from .config import SandboxConfig

BURST = 64 * 1024  # bytes a bucket may hand out at once after an idle spell
BURST_SECONDS = 0.1  # ... and never more than this much of its rate (slow caps)


class Bucket:
    """`rate` bytes a second; a take that overdraws waits until the debt is paid, so the
    bytes sent by any instant t are at most burst + rate * t."""

    def __init__(self, rate: int):
        self.rate = rate
        self.burst = min(BURST, rate * BURST_SECONDS)
        self.allowance = 0.0
        self.last = time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self, n: int) -> None:
        async with self.lock:  # FIFO: connections sharing a bucket take turns
            now = time.monotonic()
            self.allowance = min(self.allowance + (now - self.last) * self.rate, self.burst)
            self.last = now
            self.allowance -= n
            if self.allowance < 0:
                await asyncio.sleep(-self.allowance / self.rate)


class Link:
    """One per sandbox; `configure` rereads the knobs (tests change them while it runs)."""

    def __init__(self, config: SandboxConfig):
        # Connections that have had an answer: their handshake is paid. Keyed by the
        # transport, forgotten with it.
        self.opened: weakref.WeakSet = weakref.WeakSet()
        self.configure(config)

    def configure(self, config: SandboxConfig) -> None:
        self.latency = config.latency_ms / 1000
        self.total = Bucket(config.bandwidth) if config.bandwidth else None
        self.per_connection = config.connection_bandwidth
        self.buckets: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @property
    def capped(self) -> bool:
        return bool(self.total or self.per_connection)

    async def round_trip(self, request: web.Request) -> None:
        """Before an answer's first byte: one round trip, two on a new connection."""
        transport = request.transport
        trips = 1
        if transport is not None and transport not in self.opened:
            self.opened.add(transport)
            trips = 2
        if self.latency > 0:
            await asyncio.sleep(trips * self.latency)

    async def send(self, request: web.Request, n: int) -> None:
        """Wait until `n` more bytes of this request's answer may go out."""
        if self.per_connection and request.transport is not None:
            bucket = self.buckets.get(request.transport)
            if bucket is None:
                bucket = self.buckets[request.transport] = Bucket(self.per_connection)
            await bucket.take(n)
        if self.total:
            await self.total.take(n)
