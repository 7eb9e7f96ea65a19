"""Pushing to a photo library (Immich): items as assets, with what Flickr knew of them.

For each item with a file: its SHA-1 goes through the library's bulk-upload check, so a
file the library already holds (from an earlier or interrupted run, or another tool) is
never sent again; new files are uploaded with their XMP sidecar where the backup has one.
Then, whatever the check said, the asset's checksum is compared with the file's and its
description (title and description), date taken, GPS and favourite are set; only then
does `pushes` record it, with a hash of that metadata, so an edit on Flickr is carried
over by the next backup and push. Albums follow, with their photos in Flickr's order,
and Flickr's tags as "Flickr/<tag>". Faves downloaded with --faves go as favourites.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from ..layout.faves import FOLDER as FAVES, fave_file
from ..layout.tree import raw_tags
from ..layout.xmp import keywords
from ..catalog import Catalog
from ..catalog.items import WITH_FILE
from ..net.errors import Permanent
from ..targets import TargetProblem, opened
from ..targets.immich import ImmichTarget
from .common import Mismatch, Push, digests, each, why

BATCH = 200
TAG_ROOT = "Flickr"


@dataclass
class Asset:
    key: str                # DEST-relative path, the pushes key
    path: Path
    item_id: str | None     # None for faves (other people's photos)
    sha256: str | None      # as the catalog knows it
    meta: dict              # what updateAsset gets
    taken: str              # fileCreatedAt
    sha1: str = ""
    size: int = 0
    meta_hash: str = field(init=False)

    def __post_init__(self) -> None:
        self.meta_hash = _hash(self.meta)


def _hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _iso(flickr_date: str | None) -> str | None:
    """Flickr's "2019-07-04 12:00:00" (local time, no zone) as ISO 8601, zone left out."""
    return flickr_date.replace(" ", "T") if flickr_date else None


def item_meta(row: dict) -> dict:
    meta = {"description": "\n\n".join(p for p in (row["title"], row["description"]) if p and p.strip()),
            "isFavorite": False}
    if row["date_taken"]:
        meta["dateTimeOriginal"] = _iso(row["date_taken"])
    if row["latitude"] is not None and row["longitude"] is not None and (row["latitude"], row["longitude"]) != (0, 0):
        meta["latitude"], meta["longitude"] = row["latitude"], row["longitude"]
    return meta


def assets(cat: Catalog, dest: Path) -> Iterator[Asset]:
    """The items with a file, then the faves, in a stable order."""
    for item in cat.items(WITH_FILE):
        taken = _iso(item.date_taken) or datetime.fromtimestamp(item.date_upload or 0, timezone.utc).isoformat()
        yield Asset(item.path, dest / item.path, item.id, item.sha256, item_meta(item), taken)
    for fave in cat.favorites():
        key = f"{FAVES}/{fave_file(fave)}"
        if (dest / key).is_file():
            page = f"https://www.flickr.com/photos/{fave['owner']}/{fave['id']}/"
            meta = {"description": "\n\n".join(p for p in (fave["title"], f"A Flickr favourite: {page}") if p),
                    "isFavorite": True}
            faved = datetime.fromtimestamp(fave["date_faved"] or 0, timezone.utc).isoformat()
            yield Asset(key, dest / key, None, None, meta, faved)


def chunks(items: Iterator[Asset], size: int) -> Iterator[list[Asset]]:
    batch: list[Asset] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class LibraryPush(Push):
    target: ImmichTarget

    async def run(self) -> None:
        await opened(self.target)
        files_bar = self.progress.bar("assets", unit="item")
        bytes_bar = self.progress.bar("bytes", bytes=True)
        try:
            for batch in chunks(assets(self.cat, self.options.dest), BATCH):
                await self.push_batch(batch, files_bar, bytes_bar)
            self.recorder.flush()  # albums and tags are made of what is recorded
            if not self.options.dry_run:
                await self.push_albums()
                await self.push_tags()
        finally:
            self.recorder.flush()
            files_bar.close()
            bytes_bar.close()
            await self.target.close()

    async def push_batch(self, batch: list[Asset], files_bar, bytes_bar) -> None:
        todo = []
        for asset in batch:
            done = self.cat.pushed(self.target.name, asset.key)
            if (done and done["etag"] and done["meta_sha256"] == asset.meta_hash
                    and (asset.sha256 is None or done["sha256"] == asset.sha256)):
                self.counts["unchanged"] += 1
                files_bar.update(1)
            else:
                todo.append(asset)
        await each(todo, self.hash, self.options.concurrency)
        todo = [a for a in todo if a.sha1]
        if not todo:
            return
        found = await self.policy.run(lambda: self.target.check({a.key: a.sha1 for a in todo}))
        if self.options.dry_run:
            for asset in todo:
                if found[asset.key].asset_id is None:
                    self.counts["would_send"] += 1
                    self.counts["would_send_bytes"] += asset.size
            return
        await each(todo, lambda a: self.send(a, found[a.key], files_bar, bytes_bar), self.options.concurrency)

    async def hash(self, asset: Asset) -> None:
        sha256, sha1 = await asyncio.to_thread(digests, asset.path, "sha1")
        if asset.sha256 and sha256 != asset.sha256:
            self.counts["changed_on_disk"] += 1
            self.failed.append({"key": asset.key, "reason": "the file differs from the catalog: run 'exodus verify'"})
            return
        asset.sha256, asset.sha1, asset.size = sha256, sha1, asset.path.stat().st_size

    async def send(self, asset: Asset, found, files_bar, bytes_bar) -> None:
        if found.rejected:
            return self._fail(asset.key, f"Immich refused it: {found.rejected}")
        if found.trashed:
            self.counts["trashed"] += 1
            return
        sidecar = asset.path.with_name(asset.path.name + ".xmp")
        asset_id, uploaded = found.asset_id, False

        async def upload_check_describe() -> None:
            nonlocal asset_id, uploaded
            if asset_id is None:
                modified = datetime.fromtimestamp(asset.path.stat().st_mtime, timezone.utc).isoformat()
                asset_id = await self.target.upload(asset.path, asset.sha1, asset.taken, modified,
                                                    asset.meta["isFavorite"], sidecar if sidecar.is_file() else None)
                uploaded = True
            if await self.target.checksum(asset_id) != asset.sha1:
                raise Mismatch("Immich holds other bytes under this asset")
            await self.target.describe(asset_id, asset.meta)

        try:
            await self.policy.run(upload_check_describe)
        except TargetProblem:
            raise
        except Exception as error:  # noqa: BLE001 - counted and reported; the others go on
            return self._fail(asset.key, why(error))
        # Immich's SHA-1 of the asset's bytes equals the file's (compared just above).
        self.recorder.add(asset.key, asset.item_id, asset.size, asset.sha256, asset_id, asset.meta_hash,
                          checked="sha1:immich")
        self.counts["described"] += 1
        if uploaded:
            self.counts["sent"] += 1
            self.counts["bytes"] += asset.size
            bytes_bar.update(asset.size)
        else:
            self.counts["unchanged"] += 1
        files_bar.update(1)

    async def push_albums(self) -> None:
        """Each album with its pushed photos in Flickr's order; matched to the library's by
        the id recorded, else by name, else created. Adding is idempotent ('duplicate')."""
        theirs: dict[str, str] | None = None
        claimed = self.cat.pushed_albums(self.target.name)
        for album in self.cat.albums():
            ids = self.cat.album_assets(self.target.name, album["id"])
            key, state = f"album:{album['id']}", _hash([album["title"], album["description"], ids])
            done = self.cat.pushed(self.target.name, key)
            if not ids or (done and done["meta_sha256"] == state):
                continue
            name, description = album["title"] or album["id"], album["description"] or ""
            try:
                album_id = done["etag"] if done else None
                if album_id is not None and not await self.target.add_to_album(album_id, ids):
                    album_id = None  # deleted in the library since: made again below
                if album_id is None:
                    if theirs is None:
                        theirs = await self.target.albums()
                    album_id = theirs.get(name)
                    if album_id is None or album_id in claimed:  # two Flickr albums may share a name
                        album_id = await self.target.create_album(name, description)
                    claimed.add(album_id)
                    if not await self.target.add_to_album(album_id, ids):
                        raise Permanent(f"the album {album_id} made just now is not there")
            except TargetProblem:
                raise
            except Exception as error:  # noqa: BLE001
                self._fail(key, why(error))
                continue
            self.recorder.add(key, None, None, None, album_id, state)
            self.counts["albums"] += 1

    async def push_tags(self) -> None:
        """Flickr's tags, as the owner typed them, under one 'Flickr' parent tag."""
        members: dict[str, list[str]] = defaultdict(list)
        rows = self.cat.pushed_with_info(self.target.name)
        clean: dict[str, list[str]] = defaultdict(list)
        for tag in self.cat.plain_tags():
            clean[tag["photo_id"]].append(tag["tag"])
        for row in rows:
            for word in dict.fromkeys(keywords({"tags_raw": raw_tags(row), "tags": clean.get(row["id"], [])})):
                members[f"{TAG_ROOT}/{word.replace('/', chr(0x2215))}"].append(row["etag"])
        changed = {}
        for name, ids in sorted(members.items()):
            done = self.cat.pushed(self.target.name, f"tag:{name}")
            if not (done and done["meta_sha256"] == _hash(ids)):
                changed[name] = ids
        if not changed:
            return
        try:
            made = await self.target.tag(list(changed))
        except TargetProblem:
            raise
        except Exception as error:  # noqa: BLE001
            return self._fail("tags", why(error))
        for name, ids in changed.items():
            try:
                await self.target.tag_assets(made[name], ids)
            except TargetProblem:
                raise
            except Exception as error:  # noqa: BLE001
                self._fail(f"tag:{name}", why(error))
                continue
            self.recorder.add(f"tag:{name}", None, None, None, made[name], _hash(ids))
            self.counts["tags"] += 1
