"""--faves: the user's favorites (other people's photos) at the largest size Flickr lists,
into DEST/faves/{id}_{title}.jpg (layout/faves.py), written as every file is
(layout/writer.py). A keepsake, not an archive: no resume within a file, no sidecars; the
catalog's favorites table holds who, what and where."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp

from ..catalog.store import Catalog
from ..flickr import ids
from ..net import limits
from ..net.errors import Throttled, Transient, on_the_wire, parse_retry_after
from ..net.policy import Policy
from ..knobs import photo_max_bytes
from ..layout import paths
from ..layout.faves import fave_path, fave_relative
from ..layout.writer import Part, WrongFormat
from ..progress import Progress
from .download import cdn_policy

log = logging.getLogger("exodus.backup")


async def download_faves(cat: Catalog, dest: Path, session: aiohttp.ClientSession, rebase,
                         progress: Progress, concurrency: int = 4, policy: Policy | None = None) -> dict:
    """Each favorite not yet in DEST/faves; `policy`: the downloads', so that a CDN 429
    pauses the faves as it pauses them."""
    policy = policy or cdn_policy()
    rows = cat.favorites(with_url=True)
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
                await _fetch(session, rebase(row["url"]), Part(dest, fave_relative(row)), policy)
                stats["saved"] += 1
            except (Transient, ValueError, limits.TooLarge, WrongFormat):
                stats["failed"] += 1
            bar.update(1)

    try:
        await asyncio.gather(*(one(r) for r in todo))
    finally:
        bar.close()
    return stats


async def _fetch(session: aiohttp.ClientSession, url: str, file: Part, policy: Policy) -> None:
    """The favorite streamed through the writer: never in memory whole, never seen
    half-written under its name. Its partial file goes when it fails."""

    async def attempt() -> None:
        file.restart()  # a keepsake: no resume within a file
        # No credentials: a favorite is someone else's public photo. Bounded like any answer.
        with on_the_wire("a favorite"):
            async with limits.answer(session.get(url)) as response:
                if response.status == 429:
                    raise Throttled("CDN 429", parse_retry_after(response.headers.get("Retry-After")))
                if response.status >= 500:
                    raise Transient(f"HTTP {response.status}")
                if response.status != 200:
                    raise ValueError(f"HTTP {response.status}")
                async for _ in file.stream(limits.chunks(response, photo_max_bytes(), "a favorite")):
                    pass
        if response.content_length is not None and file.have != response.content_length:
            raise Transient("short body")

    try:
        await policy.run(attempt, on_wait=_waits)
        file.check("photo", None)
        await file.finish_async()
    except BaseException:
        file.restart()
        raise


def _waits(tries: int, delay: float, error: BaseException) -> None:
    log.info("favorite: %s; retry %d in %.1f s", error, tries, delay)
