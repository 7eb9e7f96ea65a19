"""What both kinds of push share: the options, the retry policy of downloads, file
digests, and the `pushes` row written once an upload is checked."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable, Iterable, TypeVar

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from ..catalog import Catalog
from ..catalog.store import now_iso
from ..flickr.client import backoff_base

ATTEMPTS = 6
T = TypeVar("T")


@dataclass
class PushOptions:
    dest: Path
    target: str
    concurrency: int = 4
    dry_run: bool = False
    quiet: bool = False


class Mismatch(Exception):
    """The target holds other bytes than were sent: sent again, then reported."""


def retrying(*more: type[BaseException]) -> AsyncRetrying:
    """Downloads' policy: a few attempts, jittered exponential pauses (EXODUS_BACKOFF)."""
    return AsyncRetrying(stop=stop_after_attempt(ATTEMPTS), reraise=True,
                         wait=wait_random_exponential(multiplier=backoff_base(), max=30),
                         retry=retry_if_exception_type((aiohttp.ClientError, asyncio.TimeoutError, ConnectionError,
                                                        BotoCoreError, ClientError, Mismatch, *more)))


def digests(path: Path, *names: str) -> list[str]:
    """Hex digests of one file, one read: digests(path, "sha256", "md5")."""
    hashes = [hashlib.new(name) for name in names]
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            for h in hashes:
                h.update(block)
    return [h.hexdigest() for h in hashes]


def pushed(cat: Catalog, target: str, key: str) -> dict | None:
    rows = cat.rows("SELECT size, sha256, etag, meta_sha256 FROM pushes WHERE target = ? AND key = ?", [target, key])
    return rows[0] if rows else None


def record(cat: Catalog, target: str, key: str, item_id: str | None, size: int | None, sha256: str,
           etag: str | None, meta_sha256: str | None = None) -> None:
    with cat.tx() as conn:
        conn.execute("INSERT INTO pushes (target, key, item_id, size, sha256, etag, meta_sha256, pushed_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(target, key) DO UPDATE SET "
                     "item_id = excluded.item_id, size = excluded.size, sha256 = excluded.sha256, "
                     "etag = excluded.etag, meta_sha256 = excluded.meta_sha256, pushed_at = excluded.pushed_at",
                     (target, key, item_id, size, sha256, etag, meta_sha256, now_iso()))


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
