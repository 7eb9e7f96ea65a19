"""What both kinds of push share: the options, the job's counts, failures and retry
policy (net/policy.py, one for all its uploads), file digests, and the `pushes` row
written once an upload is checked."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable, Iterable, TypeVar

from ..catalog import Catalog
from ..catalog.store import now_iso
from ..knobs import crash_point
from ..layout.proof import hash_through
from ..net.errors import Permanent, Transient
from ..net.policy import Policy
from ..progress import Progress
from ..targets import LibraryTarget, Target

ATTEMPTS = 6
BACKOFF_CAP_S = 30.0
T = TypeVar("T")


@dataclass
class PushOptions:
    dest: Path
    target: str
    concurrency: int = 4
    dry_run: bool = False
    quiet: bool = False


class Mismatch(Transient):
    """The target holds other bytes than were sent: sent again, then reported."""


def why(error: BaseException) -> str:
    """A failure as the report gives it: the target's own words for what it classified
    (net/errors.py), the type and message of anything else."""
    if isinstance(error, (Transient, Permanent)):
        return error.reason
    return f"{type(error).__name__}: {error}"


class Push:
    """One push job: its counts and failures, the recorder of `pushes` rows, and one retry
    policy for all its uploads, so that a target's 429 pauses every one of them. Each
    target raises net/'s Transient or Permanent for what it met; none of a backend's own
    exception types reaches here."""

    def __init__(self, cat: Catalog, target: Target | LibraryTarget, options: PushOptions, progress: Progress):
        self.cat, self.target, self.options, self.progress = cat, target, options, progress
        self.counts: Counter = Counter()
        self.failed: list[dict] = []
        self.recorder = Recorder(cat, target.name)
        self.policy = Policy(ATTEMPTS, cap=BACKOFF_CAP_S)

    def _fail(self, key: str, reason: str) -> None:
        self.counts["failed"] += 1
        self.failed.append({"key": key, "reason": reason})


def digests(path: Path, other: str) -> tuple[str, str]:
    """SHA-256 and one more hex digest of a file (the MD5 an S3 ETag is, the SHA-1 Immich
    keeps), in one read through the reader verify proves files with."""
    extra = hashlib.new(other)
    with open(path, "rb") as handle:
        read = hash_through(handle, feed=extra.update)
    return read.sha256, extra.hexdigest()


class Recorder:
    """Writes `pushes` rows in small groups: one commit per upload cost as much CPU as a
    small upload itself. A kill loses at most the last half second of rows, whose files
    are then sent again under the same keys: no duplicates, only a little more traffic."""
    GROUP, SECONDS = 64, 0.5

    def __init__(self, cat: Catalog, target: str):
        self.cat, self.target = cat, target
        self.pending: list[tuple] = []
        self.since = 0.0

    def add(self, key: str, item_id: str | None, size: int | None, sha256: str | None, etag: str | None,
            meta_sha256: str | None = None, checked: str | None = None) -> None:
        """`checked` says how the upload was found whole (mirror.check, library.send)."""
        crash_point("push-item")  # the instant that matters: on the target, not yet recorded
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append((self.target, key, item_id, size, sha256, etag, meta_sha256, checked, now_iso()))
        if len(self.pending) >= self.GROUP or time.monotonic() - self.since >= self.SECONDS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        rows, self.pending = self.pending, []
        self.cat.record_pushes(rows)


async def each(items: Iterable[T], work: Callable[[T], Awaitable[object]], concurrency: int) -> None:
    """work(item) for every item, at most `concurrency` at once, reading items lazily (a
    few ahead), so memory stays flat however many there are. A failure stops the rest."""
    gate = asyncio.Semaphore(max(1, concurrency))
    flying: set[asyncio.Task] = set()

    async def guarded(item: T) -> None:
        async with gate:
            await work(item)

    try:
        for item in items:
            while len(flying) >= concurrency * 4:
                done, _ = await asyncio.wait(flying, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    flying.discard(task)
                    task.result()
            flying.add(asyncio.create_task(guarded(item)))
        for task in asyncio.as_completed(list(flying)):
            await task
    finally:
        for task in flying:
            task.cancel()
