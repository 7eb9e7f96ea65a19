"""--faves: the user's favorites (other people's photos) at the largest size Flickr lists,
into DEST/faves/{id}_{title}.jpg. A keepsake, not an archive: no resume within a file,
no sidecars; the catalog's favorites table holds who, what and where."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from ..catalog.store import Catalog
from ..flickr import ids
from ..net import limits
from ..knobs import backoff_base, photo_max_bytes
from ..media import magic
from ..layout import names, paths
from ..progress import Progress

FOLDER = "faves"


class _Retry(Exception):
    pass


async def download_faves(cat: Catalog, dest: Path, session: aiohttp.ClientSession, rebase,
                         progress: Progress, concurrency: int = 4) -> dict:
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
            todo.append((row, target))
    if not todo:
        return stats
    bar = progress.bar("faves", total=len(todo), unit="file")
    gate = asyncio.Semaphore(concurrency)

    async def one(row: dict, target: Path) -> None:
        async with gate:
            try:
                await _fetch(session, rebase(row["url"]), target)
                stats["saved"] += 1
            except (_Retry, aiohttp.ClientError, asyncio.TimeoutError, ValueError, limits.Stalled, limits.TooLarge):
                stats["failed"] += 1
            bar.update(1)

    try:
        await asyncio.gather(*(one(r, t) for r, t in todo))
    finally:
        bar.close()
    return stats


def fave_file(row: dict) -> str:
    ext = row["url"].rsplit(".", 1)[-1] if "." in row["url"].rsplit("/", 1)[-1] else "jpg"
    return names.file_name(row["id"], row["title"], ids.photo_format(ext) or "jpg")


def fave_path(dest: Path, row: dict) -> Path:
    """DEST/faves/{id}_{title}.{ext}, proven inside DEST (and its .part with it)."""
    if not ids.is_photo_id(row["id"]):
        raise paths.OutsideDest(dest, row["id"], "the favorite's id is not one of Flickr's")
    relative = f"{FOLDER}/{fave_file(row)}"
    paths.sibling(dest, relative, ".part", mkdir=False)
    return paths.inside(dest, relative)


async def _fetch(session: aiohttp.ClientSession, url: str, target: Path) -> None:
    part = target.with_name(target.name + ".part")
    async for attempt in AsyncRetrying(stop=stop_after_attempt(5), reraise=True,
                                       wait=wait_random_exponential(multiplier=backoff_base(), max=30),
                                       retry=retry_if_exception_type((_Retry, aiohttp.ClientError,
                                                                      asyncio.TimeoutError, limits.Stalled))):
        with attempt:
            # No credentials: a favorite is someone else's public photo. Bounded like any answer.
            async with limits.answer(session.get(url)) as response:
                if response.status == 429 or response.status >= 500:
                    raise _Retry(f"HTTP {response.status}")
                if response.status != 200:
                    raise ValueError(f"HTTP {response.status}")
                body = bytes(await limits.read(response, photo_max_bytes(), "a favorite"))
            if response.content_length is not None and len(body) != response.content_length:
                raise _Retry("short body")
    if not magic.matches(magic.sniff(body[:magic.HEAD]), "photo", None):
        raise ValueError("not an image")
    part.write_bytes(body)
    os.replace(part, target)
