"""What a push target answers, read within net/limits.py's bounds (the minimum speed,
the average floor, a cap of EXODUS_TARGET_MAX_BYTES), so that a WebDAV or Immich server
that trickles, or answers without end, can neither hold a push nor fill its memory.

A stall is retried like any transient failure (`TargetStalled` is net/'s Transient);
a target that stalls STALLS_IN_A_ROW times with no whole answer
between them is not working, and the push ends there with one line (`TargetProblem`)
rather than paying retries of a stall window for every file. An answer over the cap is
a `TargetProblem` at once: asking again brings the same bytes.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

import aiohttp

from ..net import limits
from ..net.errors import Transient
from ..knobs import target_max_bytes
from .base import TargetProblem

STALLS_IN_A_ROW = 3


class TargetStalled(Transient):
    """A target's answer too slow to be a working one: transient."""


class Answers:
    """One target's reads, and how many stalled in a row."""

    def __init__(self, name: str):
        self.name = name
        self.stalls = 0

    @asynccontextmanager
    async def answer(self, request, what: str) -> AsyncIterator[aiohttp.ClientResponse]:
        """The response of a request that sends little (not an upload, whose body may
        rightly take longer than a window to go), its headers within one stall window."""
        try:
            async with limits.answer(request) as response:
                yield response
        except limits.Stalled as error:
            raise self._stalled(error, what) from None

    async def read(self, response: aiohttp.ClientResponse, what: str) -> bytes:
        """The whole body, within the bounds, or TargetStalled / TargetProblem."""
        if response.content_length == 0:  # most answers to an upload: nothing to bound or wait for
            self.stalls = 0
            return b""
        try:
            body = await limits.read(response, target_max_bytes(), what)
        except limits.Stalled as error:
            raise self._stalled(error, what) from None
        except limits.TooLarge as error:
            raise TargetProblem(f"{self.name}: {error} (EXODUS_TARGET_MAX_BYTES)") from None
        self.stalls = 0
        return bytes(body)

    def _stalled(self, error: limits.Stalled, what: str) -> Exception:
        self.stalls += 1
        said = f"{self.name}, {what}: {error}"
        if self.stalls >= STALLS_IN_A_ROW:
            return TargetProblem(f"{said}; {self.stalls} stalls in a row: the target is not answering")
        return TargetStalled(said)
