"""--faves: the user's favorites (other people's photos) at the largest size Flickr lists,
into DEST/faves/{id}_{title}.jpg (layout/faves.py), fetched as every still is (stills.py).
A keepsake, not an archive: no sidecars; the catalog's favorites table holds who, what
and where."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from ..catalog.store import Catalog
from ..flickr import ids
from ..net import limits
from ..net.errors import Transient
from ..net.policy import Policy
from ..layout import paths
from ..layout.faves import fave_path, fave_relative
from ..layout.writer import Part, WrongFormat
from ..progress import Progress
from .download import cdn_policy
from .stills import fetch_still


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
                await fetch_still(session, rebase(row["url"]), Part(dest, fave_relative(row)), policy,
                                  "a favorite")
                stats["saved"] += 1
            except (Transient, ValueError, limits.TooLarge, WrongFormat):
                stats["failed"] += 1
            bar.update(1)

    try:
        await asyncio.gather(*(one(r) for r in todo))
    finally:
        bar.close()
    return stats
