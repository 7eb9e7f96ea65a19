"""--faves: the user's favorites (other people's photos) at the largest size Flickr lists,
into DEST/faves/{id}_{title}.jpg (layout/faves.py), written as every file is
(layout/writer.py). A keepsake, not an archive: no resume within a file, no sidecars; the
catalog's favorites table holds who, what and where."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from ..catalog.store import Catalog
from ..flickr import ids
from ..net import limits
from ..knobs import backoff_base, photo_max_bytes
from ..layout import paths
from ..layout.faves import fave_path, fave_relative
from ..layout.writer import Part, WrongFormat
from ..progress import Progress


class _Retry(Exception):
    pass


async def download_faves(cat: Catalog, dest: Path, session: aiohttp.ClientSession, rebase,
                         progress: Progress, concurrency: int = 4) -> dict:
    rows = cat.rows("SELECT id, title, url FROM favorites WHERE url IS NOT NULL ORDER BY id")
    stats = {"saved": 0, "failed": 0, "already": 0, "refused": []}
    todo = []
    for row in rows:
        try:
            target = fave_path(dest, row)
        except paths.OutsideDest as error:
            stats["failed"] += 1
            stats["refused"].append({"id": ids.shown(row["id"]), "reason": error.why})
            continue
        if target.exists():
            stats["already"] += 1
        else:
            todo.append(row)
    if not todo:
        return stats
    bar = progress.bar("faves", total=len(todo), unit="file")
    gate = asyncio.Semaphore(concurrency)

    async def one(row: dict) -> None:
        async with gate:
            try:
                await _fetch(session, rebase(row["url"]), Part(dest, fave_relative(row)))
                stats["saved"] += 1
            except (_Retry, aiohttp.ClientError, asyncio.TimeoutError, ValueError, limits.Stalled, limits.TooLarge,
                    WrongFormat):
                stats["failed"] += 1
            bar.update(1)

    try:
        await asyncio.gather(*(one(r) for r in todo))
    finally:
        bar.close()
    return stats


async def _fetch(session: aiohttp.ClientSession, url: str, file: Part) -> None:
    """The favorite streamed through the writer: never in memory whole, never seen
    half-written under its name. Its partial file goes when it fails."""
    try:
        async for attempt in AsyncRetrying(stop=stop_after_attempt(5), reraise=True,
                                           wait=wait_random_exponential(multiplier=backoff_base(), max=30),
                                           retry=retry_if_exception_type((_Retry, aiohttp.ClientError,
                                                                          asyncio.TimeoutError, limits.Stalled))):
            with attempt:
                file.restart()  # a keepsake: no resume within a file
                # No credentials: a favorite is someone else's public photo. Bounded like any answer.
                async with limits.answer(session.get(url)) as response:
                    if response.status == 429 or response.status >= 500:
                        raise _Retry(f"HTTP {response.status}")
                    if response.status != 200:
                        raise ValueError(f"HTTP {response.status}")
                    async for _ in file.stream(limits.chunks(response, photo_max_bytes(), "a favorite")):
                        pass
                if response.content_length is not None and file.have != response.content_length:
                    raise _Retry("short body")
        file.check("photo", None)
        await file.finish_async()
    except BaseException:
        file.restart()
        raise
