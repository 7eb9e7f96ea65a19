"""Fault injection: quotas, errors, broken connections, slowness. Every fault is counted.

Nothing here touches /__sandbox__/: the control endpoints are never faulted. The link's
round trips and bandwidth caps are link.py's; the faults hold the one link.
"""

from __future__ import annotations

import collections
import random
import time

from .config import API_FAULT_KINDS, CDN_FAULT_KINDS, SandboxConfig
from .link import Link


class Window:
    """At most `calls` per sliding window of `seconds`; refused calls do not count."""

    def __init__(self, calls: int, seconds: float):
        self.calls = calls
        self.seconds = seconds
        self.stamps: collections.deque[float] = collections.deque()

    def admit(self) -> float | None:
        """None when admitted, else seconds until a slot frees up."""
        now = time.monotonic()
        while self.stamps and now - self.stamps[0] >= self.seconds:
            self.stamps.popleft()
        if len(self.stamps) < self.calls:
            self.stamps.append(now)
            return None
        return self.seconds - (now - self.stamps[0])


class Faults:
    def __init__(self, config: SandboxConfig):
        self.link = Link(config)
        self.configure(config)
        self.rng = random.Random(f"faults-{config.seed}")
        self.counts: collections.Counter[str] = collections.Counter()

    def configure(self, config: SandboxConfig) -> None:
        """(Re)read the knobs; tests may change them while the sandbox runs."""
        self.config = config
        self.api_window = Window(*config.rate_limit) if config.rate_limit else None
        self.cdn_window = Window(*config.cdn_rate_limit) if config.cdn_rate_limit else None
        self.link.configure(config)

    def count(self, kind: str) -> None:
        self.counts[kind] += 1

    def throttle(self, cdn: bool) -> float | None:
        """Seconds to wait when this request is over its quota (-> HTTP 429), else None."""
        window = self.cdn_window if cdn else self.api_window
        if window is None:
            return None
        wait = window.admit()
        if wait is not None:
            self.count("cdn_429" if cdn else "api_429")
        return wait

    def roll(self, cdn: bool) -> str | None:
        """Which fault, if any, this request suffers (--fault-rate, --fault-kinds)."""
        rate = self.config.fault_rate
        if rate <= 0 or self.rng.random() >= rate:
            return None
        kinds = [k for k in (CDN_FAULT_KINDS if cdn else API_FAULT_KINDS) if k in self.config.fault_kinds]
        if not kinds:
            return None
        kind = self.rng.choice(kinds)
        self.count(("cdn_" if cdn else "api_") + kind)
        return kind

    def page_shift(self) -> int:
        """Items to lose off the front of a listing page (--page-drop-rate): the page
        comes back short while total stays, its first items having moved to an earlier
        page the client already read (reference §4.1 paging; flickrmirrorer #21)."""
        if self.config.page_drop_rate <= 0 or self.rng.random() >= self.config.page_drop_rate:
            return 0
        self.count("page_drop")
        return self.rng.randint(1, 3)

    def cut_point(self, size: int) -> int:
        """Where a reset or short body stops: somewhere inside the body."""
        return self.rng.randrange(0, max(1, size)) if size > 1 else 0
