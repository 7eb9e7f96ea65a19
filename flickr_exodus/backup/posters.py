"""Each video's poster: Flickr's own still of it (the listing's url_o for a video, else the
largest size the listing offers), kept beside the video as {video}.poster.jpg
(layout/companions.py), so that the gallery shows a frame of it without decoding video.

Fetched once per video whose file is kept: a rerun fetches only what is missing. A poster
is a convenience: one that fails is told in the summary and tried again next run, and
never fails the backup.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Callable

import aiohttp

from ..catalog.items import LIVE, WITH_FILE, Where
from ..catalog.store import Catalog
from ..flickr.parse import Listed
from ..layout import paths
from ..layout.companions import POSTER
from ..layout.writer import Part, WrongFormat
from ..net import limits
from ..net.errors import Transient
from ..net.policy import Policy
from ..progress import Progress
from .stills import fetch_still

VIDEOS = Where("media = 'video'")


def poster_url(url_o: str | None, raw: str | None, rebase: Callable[[str], str]) -> str | None:
    """Where the video's still is: url_o (rebased when listed), else the largest size in the
    listing's own record."""
    if url_o:
        return url_o
    try:
        largest = Listed.from_dict(json.loads(raw)).largest_url if raw else None
    except (ValueError, TypeError, AttributeError):  # a record exodus cannot read: no poster
        return None
    return rebase(largest) if largest else None


def _kept(dest: Path, relative: str) -> bool:
    """A regular file is there already (a link or anything else in its place is replaced)."""
    try:
        return stat.S_ISREG(os.lstat(paths.inside(dest, relative, mkdir=False)).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False


async def fetch_posters(cat: Catalog, dest: Path, session: aiohttp.ClientSession, rebase: Callable[[str], str],
                        progress: Progress, policy: Policy, concurrency: int = 4) -> dict:
    """The posters missing beside the videos kept; what was saved, already there, failed."""
    stats = {"saved": 0, "already": 0, "failed": 0, "none_listed": 0}
    todo = []
    for item in cat.items(WITH_FILE & LIVE & VIDEOS):
        relative = item.path + POSTER
        try:
            if _kept(dest, relative):
                stats["already"] += 1
                continue
        except paths.OutsideDest:
            stats["failed"] += 1
            continue
        url = poster_url(item.url_o, item.raw, rebase)
        if url is None:
            stats["none_listed"] += 1
        else:
            todo.append((relative, url))
    if not todo:
        return stats
    bar = progress.bar("posters", total=len(todo), unit="file")
    gate = asyncio.Semaphore(concurrency)

    async def one(relative: str, url: str) -> None:
        async with gate:
            try:
                await fetch_still(session, url, Part(dest, relative), policy, "a video's poster", "jpg")
                stats["saved"] += 1
            except (Transient, ValueError, limits.TooLarge, WrongFormat, paths.OutsideDest):
                stats["failed"] += 1
            bar.update(1)

    try:
        await asyncio.gather(*(one(*job) for job in todo))
    finally:
        bar.close()
    return stats
