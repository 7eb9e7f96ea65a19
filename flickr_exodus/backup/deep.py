"""The deep pass: what only `photos.getInfo` knows (notes, exact permissions, geo
permissions and places, rotation, URLs, a video's duration), and the people in a photo
where getInfo says there are some.

It runs after the originals are safe, one getInfo per item whose `last_update` changed
since its last deep fetch, inside the same quota; each item commits, so it resumes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from ..catalog.store import Catalog
from ..flickr import Api, FlickrError
from ..flickr import parse
from ..knobs import crash_point
from ..progress import Progress

log = logging.getLogger("exodus.backup")
WORKERS = 4  # calls in flight: enough to hide latency; the quota sets the pace


@dataclass
class DeepStats:
    items: int = 0
    people_calls: int = 0
    vanished: int = 0


async def deep_pass(api: Api, cat: Catalog, progress: Progress) -> DeepStats:
    stats = DeepStats()
    todo = cat.count_needing_deep()
    if not todo:
        return stats
    bar = progress.bar("metadata", total=todo, unit="item")
    queue: asyncio.Queue = asyncio.Queue(maxsize=WORKERS * 2)

    async def feed() -> None:
        for photo_id in cat.needing_deep():
            await queue.put(photo_id)
        for _ in range(WORKERS):
            await queue.put(None)

    async def work() -> None:
        while (photo_id := await queue.get()) is not None:
            await _one(api, cat, photo_id, stats)
            bar.update(1)

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(feed())
            for _ in range(WORKERS):
                group.create_task(work())
    finally:
        bar.close()
    return stats


async def _one(api: Api, cat: Catalog, photo_id: str, stats: DeepStats) -> None:
    try:
        data = await api.call("flickr.photos.getInfo", photo_id=photo_id)
        info = parse.info(data)
        people: list[dict] = []
        if info["has_people"]:
            stats.people_calls += 1
            people = parse.people(await api.call("flickr.photos.people.getList", photo_id=photo_id))
    except FlickrError as error:
        if error.code == 1:  # deleted since the listing: the next listing marks it gone
            stats.vanished += 1
            log.info("%s: gone from Flickr before its deep pass", photo_id)
            return
        raise
    cat.set_deep(photo_id, info, data.get("photo") or {}, people)
    stats.items += 1
    crash_point("deep-item")
