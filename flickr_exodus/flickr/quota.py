"""The API quota: at most CALLS per sliding window of SECONDS, shared through a ledger file
per API key, so restarts and commands running side by side spend one budget.

Each call is stamped when it is sent and re-stamped when its answer arrives. Flickr saw
the call somewhere between the two, so counting from the later stamp can never put more
calls into Flickr's window than the limit, whatever the network delay.

On top of the window, calls are paced (a token bucket with a small burst) so that a fresh
budget is not fired off in one go.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Callable

DEFAULT_RATE = (3600, 3600.0)
NOTE_EVERY = 30.0  # seconds between two "pacing" notes


def parse_rate(text: str) -> tuple[int, float]:
    """'CALLS/SECONDS' -> (calls, seconds)."""
    try:
        calls, seconds = text.split("/", 1)
        rate = int(calls), float(seconds)
    except (ValueError, AttributeError):
        raise ValueError(f"expected CALLS/SECONDS such as 3600/3600, got {text!r}") from None
    if rate[0] < 1 or rate[1] <= 0:
        raise ValueError(f"a rate needs at least 1 call in a positive window, got {text!r}")
    return rate


class Quota:
    def __init__(self, api_key: str, rate: tuple[int, float], directory: Path,
                 on_wait: Callable[[float, bool], None] | None = None):
        self.calls, self.seconds = rate
        digest = hashlib.sha256(api_key.encode()).hexdigest()[:16]
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = directory / f"quota-{digest}.json"
        self.lock_path = directory / f"quota-{digest}.lock"
        self.on_wait = on_wait
        # Seconds during which some call of this process waited for the budget: wall time,
        # the union of the waits, so that calls waiting side by side count once.
        self._waited = 0.0
        self._waiters = 0
        self._since = 0.0
        self.noted = -NOTE_EVERY
        # Pacing: refill at the window's average rate, a burst of about 1/60 of the window.
        self.burst = max(1.0, min(self.calls, self.calls // 60))
        self.tokens = self.burst
        self.refilled = time.monotonic()

    # --- the ledger ---------------------------------------------------------------
    def _locked(self, update: Callable[[list[float]], object]):
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                stamps = self._read()
                result = update(stamps)
                self._write(stamps)
                return result
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> list[float]:
        try:
            stamps = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return []  # a missing or torn ledger: start afresh (the server's 429s still guard)
        now = time.time()
        return sorted(s for s in stamps if isinstance(s, (int, float)) and now - s < self.seconds)

    def _write(self, stamps: list[float]) -> None:
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}")
        tmp.write_text(json.dumps(stamps))
        os.replace(tmp, self.path)

    def _reserve(self) -> float | tuple[str, float]:
        """A stamp if a call may go now, else the seconds until one may."""
        def update(stamps: list[float]):
            now = time.time()
            if len(stamps) < self.calls:
                stamps.append(now)
                return ("ok", now)
            return stamps[len(stamps) - self.calls] + self.seconds - now
        return self._locked(update)

    def _settle(self, sent: float) -> None:
        def update(stamps: list[float]):
            if sent in stamps:
                stamps.remove(sent)
            stamps.append(time.time())
        self._locked(update)

    def used(self) -> int:
        """Calls in the current window, by every process using this key."""
        return self._locked(lambda stamps: len(stamps))

    # --- pacing -------------------------------------------------------------------
    def _pace(self) -> float:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.refilled) * self.calls / self.seconds)
        self.refilled = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) * self.seconds / self.calls

    async def _wait(self, seconds: float, spent: bool) -> None:
        """Wait, and say so: always when the budget is spent, at most twice a minute
        while merely pacing."""
        seconds = max(seconds, 0.001)
        now = time.monotonic()
        if self.on_wait and seconds >= 0.25 and (spent or now - self.noted >= NOTE_EVERY):
            self.noted = now
            self.on_wait(seconds, spent)
        if not self._waiters:
            self._since = time.monotonic()
        self._waiters += 1
        try:
            import asyncio  # loaded by the loop running this; not at import, which gallery and status pay

            await asyncio.sleep(seconds)
        finally:
            self._waiters -= 1
            if not self._waiters:
                self._waited += time.monotonic() - self._since

    @property
    def waited(self) -> float:
        """Wall-clock seconds in which at least one call waited for the budget (never more
        than the run lasted, however many calls waited at once)."""
        return self._waited + (time.monotonic() - self._since if self._waiters else 0.0)

    @asynccontextmanager
    async def slot(self):
        """Hold one call's place in the budget for as long as the call is in flight."""
        while (wait := self._pace()) > 0:
            await self._wait(wait, spent=False)
        while not isinstance(reserved := self._reserve(), tuple):
            await self._wait(reserved, spent=True)
        sent = reserved[1]
        try:
            yield
        finally:
            self._settle(sent)
