"""Catalog -> files: originals streamed by aiohttp workers, resumable to the byte.

Each file goes through layout/writer.py's `Part`, resumed with a Range request, hashed
while it streams, checked (length, magic bytes), fsynced, committed to the catalog, then
renamed into place; a kill at any instant is finished by the next run (`writer.recover`).
A worker only transfers: once a file's bytes are in, landers (as many as workers, with at
most that many files waiting for them) check, seal, commit and rename it, while the
worker's connection already carries the next file.

Every body is read within net/limits.py's bounds: a stall is retried like a reset, and a
file larger than its cap (its declared length, else a ceiling from its pixel count or for
videos) fails the item and loses its partial file, so a body without end cannot fill the disk.
Only a /play/ URL on a host `Endpoints.trusts` gets the OAuth header and the browser
session, on a request that follows no redirect; the media URLs themselves are fetched
without credentials, whatever their host.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from yarl import URL

from ..catalog import Catalog
from ..catalog.items import FETCHABLE, State
from ..flickr import Api, FlickrError, Transient, ids
from ..net import limits
from ..net.errors import Throttled, on_the_wire, parse_retry_after
from ..net.policy import Policy
from ..knobs import crash_point, photo_max_bytes, video_max_bytes
from ..layout import names, paths, writer
from ..layout.companions import COMPANIONS
from ..layout.writer import Part, is_disk_full
from .crawl import video_sources
from ..progress import Progress

log = logging.getLogger("exodus.backup")

ATTEMPTS = 8  # per file, 429s not counted
# A photo with no declared length may hold at most this much per pixel of its original
# (16-bit RGBA uncompressed is 8; layered TIFFs more), plus room for metadata.
BYTES_PER_PIXEL_CAP = 32
CAP_HEADROOM = 64 << 20
REDIRECTS = (301, 302, 303, 307, 308)


def cdn_policy() -> Policy:
    """The downloads' policy: ATTEMPTS failures per file, backoff up to a minute, and a
    429 (the whole client over the CDN's limit) a pause for all, never a failure."""
    return Policy(ATTEMPTS, cap=60.0, patient=True)


class DiskFull(Exception):
    pass


class Refused(Exception):
    """Flickr will not hand this file to us (404/403 on an original, a video's session)."""

    def __init__(self, state: State, reason: str):
        super().__init__(reason)
        self.state = state
        self.reason = reason


def replaced_name(relative: str, day: str) -> str:
    """photos/.../123_title.jpg -> photos/.../123_title.replaced-20261122.jpg"""
    folder, _, name = relative.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    kept = f"{stem}.replaced-{day}.{ext}" if dot else f"{name}.replaced-{day}"
    return f"{folder}/{kept}" if folder else kept


def keep_replaced(cat: Catalog, dest: Path) -> int:
    """Photos Flickr replaced since the last run: move the file on disk aside under a dated
    name, recorded as an earlier version, before the new original is fetched. Ordered so
    that a kill at any point is finished by the next run: record, rename, release."""
    kept = 0
    for row in cat.replaced():
        try:
            current = paths.inside(dest, row["path"], mkdir=False) if row["path"] else None
        except paths.OutsideDest as error:
            log.warning("%s: %s; its earlier file is left where it is", row["id"], error)
            cat.release_replaced(row["id"])
            continue
        recorded = cat.version_recorded(row["id"], row["sha256"]) if row["sha256"] else None
        if current is not None and current.exists() and row["sha256"]:
            if recorded is None:
                day = time.strftime("%Y%m%d", time.gmtime())
                target = replaced_name(row["path"], day)
                n = 2
                while paths.inside(dest, target, mkdir=False).exists():
                    target = replaced_name(row["path"], f"{day}-{n}")
                    n += 1
                cat.record_version(row.id, target, size=row.size, sha256=row.sha256, secret=row.prior_secret)
                crash_point("after-version")
                recorded = target
            kept_as = paths.inside(dest, recorded)
            if not kept_as.exists():
                # Its sidecars (and a video's poster) describe it as it was: they go with it, the file last.
                for suffix in COMPANIONS:
                    sidecar = paths.sibling(dest, row["path"], suffix, mkdir=False)
                    if sidecar.exists():
                        os.replace(sidecar, paths.sibling(dest, recorded, suffix))
                os.replace(current, kept_as)
                writer.fsync_dir(current.parent)
                kept += 1
        cat.release_replaced(row["id"])
    return kept


@dataclass
class Stats:
    downloaded: int = 0
    bytes: int = 0          # body bytes received this run
    failed: int = 0
    needs_manual: int = 0
    unavailable: int = 0
    gone: int = 0
    retries: int = 0
    throttled: int = 0


class Downloader:
    def __init__(self, dest: Path, cat: Catalog, api: Api, session: aiohttp.ClientSession,
                 progress: Progress, concurrency: int = 8, cookies: str | None = None):
        self.cookies = cookies  # a Cookie header: the owner's browser session, for /play/orig/
        self.dest = dest
        self.cat = cat
        self.api = api
        self.session = session
        self.progress = progress
        self.concurrency = max(1, concurrency)
        # One policy for every worker (and the faves after them): a CDN 429 means the
        # whole client is over the limit, and a 429 never counts as a failure.
        self.policy = cdn_policy()
        self.stats = Stats()
        self.files = None
        self.bytes_bar = None

    async def run(self) -> Stats:
        totals = self.cat.fetch_totals()
        if not totals["items"]:
            return self.stats
        self.files = self.progress.bar("files", total=totals["items"], unit="file")
        self.bytes_bar = self.progress.bar("bytes", bytes=True)
        queue: asyncio.Queue = asyncio.Queue(maxsize=self.concurrency * 2)
        # Files whose bytes are in, waiting to land: bounded, so that a disk slower than
        # the link holds the transfers back instead of piling up finished .parts.
        landings: asyncio.Queue = asyncio.Queue(maxsize=self.concurrency)

        async def feed() -> None:
            for row in self.cat.items(FETCHABLE):
                await queue.put(row)
            for _ in range(self.concurrency):
                await queue.put(None)

        tasks = [asyncio.create_task(feed())]
        tasks += [asyncio.create_task(self._worker(queue, landings)) for _ in range(self.concurrency)]
        # As many landers as workers: each worker's last word is one None, each lander's one.
        tasks += [asyncio.create_task(self._lander(landings)) for _ in range(self.concurrency)]
        try:
            # A worker or lander that dies (a full disk) ends the whole run at once.
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if task.exception():
                    raise task.exception()
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.files.close()
            self.bytes_bar.close()
        return self.stats

    async def _worker(self, queue: asyncio.Queue, landings: asyncio.Queue) -> None:
        """Transfers, one after another: a file whose bytes are in is handed to the landers
        and the next transfer starts at once, so the connection does not idle while the
        disk seals, commits and renames."""
        while (row := await queue.get()) is not None:
            landing = await self._settled(row, self.fetch(row))
            if landing is None:
                self._counted()
            else:
                await landings.put(landing)
        await landings.put(None)

    async def _lander(self, landings: asyncio.Queue) -> None:
        while (landing := await landings.get()) is not None:
            await self._settled(landing.row, self._finish(landing))
            self._counted()

    async def _settled(self, row: dict, step):
        """What `step` gives, or None when it failed the item: recorded here, by its cause.
        A full disk ends the run."""
        try:
            return await step
        except Refused as refusal:
            self._settle(row, refusal.state, refusal.reason)
        except DiskFull:
            raise
        except (OSError, sqlite3.OperationalError) as error:
            if is_disk_full(error):
                raise DiskFull(str(error)) from None
            self._settle(row, State.FAILED, f"local error: {error}")
        except Transient as error:
            self._settle(row, State.FAILED, f"gave up after {ATTEMPTS} tries: {error.reason}")
        except FlickrError as error:
            self._settle(row, State.FAILED, str(error))
        return None

    def _counted(self) -> None:
        """One item settled: landed, or recorded as not fetched."""
        self.files.update(1)
        crash_point("between-items")

    def _settle(self, row: dict, state: State, reason: str) -> None:
        log.info("%s %s: %s", row["id"], state, reason)
        counter = {State.FAILED: "failed", State.NEEDS_MANUAL: "needs_manual",
                   State.ORIGINAL_UNAVAILABLE: "unavailable", State.REMOTE_GONE: "gone"}[state]
        setattr(self.stats, counter, getattr(self.stats, counter) + 1)
        self.cat.mark_failed(row.id, reason, state)

    # --- one item ------------------------------------------------------------------
    async def fetch(self, row: dict) -> "_Landing":
        """The item's bytes, in its .part: what is left to do to land it."""
        if row["media"] == "video":
            return await self._fetch_video(row)
        if row["source_url"]:
            ext = ids.photo_format(row["original_format"] or "jpg")
            if ext is None:
                raise Refused(State.FAILED, ids.format_refused(row["original_format"]))
            url, final = row["source_url"], State.DOWNLOADED
        elif row["fallback_url"]:
            # Flickr withholds the original (a free account): keep the largest size it allows.
            url, final = row["fallback_url"], State.ORIGINAL_UNAVAILABLE
            ext = names.kept_ext(row["kept_size"], "jpg")
        else:
            raise Refused(State.ORIGINAL_UNAVAILABLE, "Flickr lists no size of this photo that it will hand out")
        relative = names.item_path(row["id"], row["title"], ext, row["date_taken"], bool(row["taken_unknown"]))
        file = None  # proven once: each proof walks the folders on the event loop
        if not row["path"]:
            file = self._part(row, relative)
            self.cat.set_path(row, relative)
        elif final == State.DOWNLOADED and row["path"] != relative and names.is_kept_name(row["path"]):
            # The account turned Pro: the original is named as one, and the smaller size
            # kept before stays where it is, as an earlier version.
            file = self._part(row, relative)
            self.cat.supersede_kept(row, relative)
        return await self._transfer(row, url, video=False, final=final, file=file)

    def _part(self, row: dict, relative: str) -> Part:
        """The writer of DEST/relative, proven inside DEST; else the item fails with the reason."""
        if not ids.is_photo_id(row["id"]):
            raise Refused(State.FAILED, f"the item id {ids.shown(row['id'])} is not one of Flickr's")
        try:
            return Part(self.dest, relative)
        except paths.OutsideDest as error:
            raise Refused(State.FAILED, str(error)) from None

    async def _fetch_video(self, row: dict) -> "_Landing":
        """The Video Original through /play/orig/ (which needs the owner's session on real
        Flickr); when Flickr offers no original at all (a free account), the largest
        rendition, kept as original_unavailable."""
        if not row["video_source"] and not row["fallback_url"]:
            try:
                found = await video_sources(self.api, row["id"])
            except FlickrError as error:
                raise await self._gone_or(row, f"getSizes: {error}") from None
            kept = f"{found.rendition_label} (video rendition)" if found.rendition else None
            self.cat.set_video_sources(row, found.original, found.rendition, kept)
        if row["video_source"]:
            return await self._transfer(row, row["video_source"], video=True)
        if row["fallback_url"]:
            return await self._transfer(row, row["fallback_url"], video=True, final=State.ORIGINAL_UNAVAILABLE)
        raise Refused(State.NEEDS_MANUAL, "Flickr offers no download of this video")

    async def _gone_or(self, row: dict, reason: str) -> Refused:
        """A 404 may mean the item was deleted on Flickr meanwhile: ask (one call)."""
        try:
            await self.api.call("flickr.photos.getInfo", photo_id=row["id"])
        except FlickrError as error:
            if error.code == 1:
                return Refused(State.REMOTE_GONE, "deleted on Flickr before it could be saved")
        return Refused(State.FAILED, reason)

    async def _resolve_video(self, source: str) -> str:
        """/play/... answers with a redirect to a short-lived signed URL; asked afresh for
        every attempt, OAuth-signed as the owner and with the browser session if given (and
        if its host is Flickr's: `Api.credentials` decides). The redirect is read here, not
        followed, so the credentials never travel on to where it points."""
        headers = self.api.credentials("GET", source, cookies=self.cookies)
        async with limits.answer(self.session.get(source, headers=headers, allow_redirects=False)) as response:
            if response.status in REDIRECTS and response.headers.get("Location"):
                try:
                    target = response.url.join(URL(response.headers["Location"]))
                except ValueError:
                    raise Transient("the video's page redirected to an unusable address") from None
                return self.api.endpoints.rebase(str(target))
            self._raise_for(response.status, response.headers, video=True, source=source)
            if response.status == 200:
                return source  # the body is fetched afresh, without credentials, by _attempt
        raise Transient(f"HTTP {response.status} from the video's page")

    def _raise_for(self, status: int, headers, video: bool, source: str = "") -> None:
        if status == 429:
            raise Throttled("CDN 429", parse_retry_after(headers.get("Retry-After")))
        if status >= 500:
            raise Transient(f"HTTP {status}")
        if video and status in (401, 403, 404, 410):
            how = ("the cookies file did not open it (signed out, or the session expired?)" if self.cookies
                   else "it needs the owner's browser session (--cookies FILE)")
            if source and not self.api.endpoints.trusts(source):
                how = (f"Flickr named it on {URL(source).host}, a host that is not Flickr's and gets no "
                       "credentials from exodus")
            raise Refused(State.NEEDS_MANUAL, f"Flickr refused the video original (HTTP {status}): {how}, "
                                          "or use Flickr's account export")
        if status in (404, 410):
            raise _NotFound(status)
        if status == 403:
            raise Refused(State.ORIGINAL_UNAVAILABLE, "Flickr refused the original (HTTP 403)")

    async def _transfer(self, row: dict, source: str, video: bool, final: State = State.DOWNLOADED,
                        file: Part | None = None) -> "_Landing":
        state = _Slot(file or (self._part(row, row["path"]) if row["path"] else None))

        async def attempt() -> None:
            with on_the_wire("the download"):
                url = await self._resolve_video(source) if video else source
                await self._attempt(row, url, video, state)

        try:
            await self.policy.run(attempt, on_wait=lambda tries, delay, error: self._waits(row, tries, delay, error))
        except _NotFound as missing:
            raise await self._gone_or(row, f"HTTP {missing.status} for the original") from None
        return _Landing(row, state.file, video, final)

    def _waits(self, row: dict, tries: int, delay: float, error: BaseException) -> None:
        if isinstance(error, Throttled):
            self.stats.throttled += 1
            log.info("CDN 429: every download pauses %.1f s", delay)
        else:
            self.stats.retries += 1
            log.info("%s: %s; retry %d in %.1f s", row["id"], error, tries, delay)

    async def _attempt(self, row: dict, url: str, video: bool, state: "_Slot") -> None:
        file = state.file
        if file is not None:
            file.resume()
        headers = {}
        if file is not None and file.have:
            headers["Range"] = f"bytes={file.have}-"
            if row["etag"]:
                headers["If-Range"] = row["etag"]
        async with limits.answer(self.session.get(url, headers=headers)) as response:
            if video and response.status == 403:
                raise Transient("the signed video URL was refused (expired?)")
            self._raise_for(response.status, response.headers, video=False)
            if response.status == 416:
                if file is not None and "If-Range" in headers and _whole(response) == file.have:
                    # The .part already holds all of this very version (If-Range matched):
                    # a run stopped after its last byte and before it landed. Land it.
                    return
                if file is not None:
                    file.restart()
                raise Transient("HTTP 416: the partial file is longer than the original")
            if response.status not in (200, 206):
                raise Transient(f"HTTP {response.status}")
            if file is None:  # a video: its real extension comes with the answer
                state.file = file = self._video_path(row, response.headers.get("Content-Disposition", ""))
                if file.resume():  # a partial file from an earlier run under the same name
                    raise Transient("resuming an earlier partial download")
            start, total = _extent(response)
            if response.status == 200 or start != file.have:
                file.restart()  # the server ignored or refused our Range: from byte 0
                if start != 0:
                    raise Transient("unexpected Content-Range")
            cap = size_cap(row, video)
            if total is not None and total > cap:
                file.restart()
                raise Refused(State.FAILED, f"Flickr declares {total} bytes, more than this file may hold "
                                        f"({cap} bytes; {cap_knob(video)})")
            etag = response.headers.get("ETag")
            if etag != row["etag"] or total != row["expected_size"]:
                self.cat.note_transfer(row, etag, total)
            try:
                room = (total if total is not None else cap) - file.have
                async for size in file.stream(limits.chunks(response, max(0, room), "the file")):
                    self.stats.bytes += size
                    self.bytes_bar.update(size)
            except limits.TooLarge:
                file.restart()
                limit = (f"{total} bytes, its declared length" if total is not None
                         else f"{cap} bytes with no length declared ({cap_knob(video)})")
                raise Refused(State.FAILED, f"the body went past {limit}; the partial file was removed") from None
        if row["expected_size"] is not None and file.have < row["expected_size"]:
            raise Transient(f"short body ({file.have} of {row['expected_size']} bytes)")
        if row["expected_size"] is not None and file.have > row["expected_size"]:
            file.restart()
            raise Transient("longer than Content-Length")

    def _video_path(self, row: dict, disposition: str) -> Part:
        match = re.search(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', disposition)
        ext = match.group(1).rsplit(".", 1)[-1].lower() if match and "." in match.group(1) else ""
        ext = ids.video_format(ext or "mp4")
        if ext is None:
            raise Refused(State.FAILED, ids.format_refused(match.group(1) if match else disposition, video=True))
        name_ext = ext if row["video_source"] else names.kept_ext(row["kept_size"], ext)
        relative = names.item_path(row["id"], row["title"], name_ext, row["date_taken"], bool(row["taken_unknown"]))
        file = self._part(row, relative)
        self.cat.set_video_path(row, relative, ext)
        return file

    async def _finish(self, landing: "_Landing") -> None:
        """Format check, seal, commit, rename: the file lands (or fails by name)."""
        row, file, final = landing.row, landing.file, landing.final
        try:
            file.check(row["media"], row["original_format"])
        except writer.WrongFormat as wrong:
            what = "a video" if landing.video else f"a {row['original_format']} image"
            raise Refused(State.FAILED, f"Flickr sent {wrong} where {what} was expected") from None
        reason = None if final == State.DOWNLOADED else f"Flickr withholds the original; kept {row['kept_size']}"

        def commit() -> None:
            self.cat.mark_downloaded(row, file.have, file.sha256, final, reason)

        await file.finish_async(commit, writer.taken_epoch(None if row["taken_unknown"] else row["date_taken"]),
                                after_commit="after-commit", after_rename="after-rename")
        self.stats.downloaded += 1


def size_cap(row: dict, video: bool) -> int:
    """The most bytes this file may hold when its answer declares no length: a ceiling for
    videos; for photos a generous multiple of the original's pixels, under a ceiling."""
    if video:
        return video_max_bytes()
    ceiling = photo_max_bytes()
    try:
        pixels = int(row.get("o_width") or 0) * int(row.get("o_height") or 0)
    except (TypeError, ValueError, OverflowError):
        pixels = 0
    return min(ceiling, pixels * BYTES_PER_PIXEL_CAP + CAP_HEADROOM) if pixels > 0 else ceiling


def cap_knob(video: bool) -> str:
    return "EXODUS_VIDEO_MAX_BYTES" if video else "EXODUS_PHOTO_MAX_BYTES or the pixel count"


def _extent(response: aiohttp.ClientResponse) -> tuple[int, int | None]:
    """(first byte, whole file's size) of an answer."""
    if response.status == 206:
        match = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", response.headers.get("Content-Range", ""))
        if match:
            total = int(match.group(3)) if match.group(3) != "*" else None
            return int(match.group(1)), total
        raise Transient("206 without a usable Content-Range")
    return 0, response.content_length


def _whole(response: aiohttp.ClientResponse) -> int | None:
    """The whole file's size that a 416 answer names ("bytes */SIZE"), if it names one."""
    match = re.fullmatch(r"bytes \*/(\d+)", response.headers.get("Content-Range", "").strip())
    return int(match.group(1)) if match else None


class _NotFound(Exception):
    def __init__(self, status: int):
        self.status = status


@dataclass
class _Slot:
    """The file an item's attempts write: known from the start for a photo, from the
    first answer for a video (its real extension comes with it)."""

    file: Part | None = None


@dataclass
class _Landing:
    """A file whose bytes are all in its .part, on its way to a lander."""

    row: dict
    file: Part
    video: bool
    final: State
