"""The one way a file lands in DEST: downloads, import-export and faves all write here.

A `Part` is one file on its way: its bytes go to NAME.part beside NAME (both proven inside
DEST by `paths.inside`), hashed while they come, under an optional size cap. `land` then
checks nothing more: the caller has asked `check` (the format, from the file's first
bytes); it sets the mtime, fsyncs the file, runs the caller's commit (the catalog's
record of what the file is), renames the .part into place and fsyncs the folder. So a
kill at any instant leaves a .part to resume or drop, or a committed .part that `recover`
renames on the next run, or the finished file: never a file the catalog does not vouch
for under its final name.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, AsyncIterator, Callable, Iterator, TextIO

from ..catalog.items import WITH_FILE, State
from ..catalog.store import Catalog
from ..knobs import crash_point
from ..media import magic
from ..net.limits import TooLarge
from . import paths
from .proof import hash_through

log = logging.getLogger("exodus.backup")

PART = ".part"
TMP = ".tmp"  # beside a derived file being rewritten whole (`replacing`)
LEFTOVERS = (PART, TMP)  # what an interrupted write may leave
CHUNK = 1 << 20
DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class WrongFormat(Exception):
    """The bytes are not the kind of file expected; the .part is gone."""

    def __init__(self, kind: str | None):
        super().__init__(kind or "unrecognised bytes")
        self.kind = kind


def part_of(path: Path) -> Path:
    return path.with_name(path.name + PART)


def is_part(name: str) -> bool:
    return name.endswith(PART)


def is_disk_full(error: BaseException) -> bool:
    if isinstance(error, OSError) and error.errno in DISK_FULL:
        return True
    return isinstance(error, sqlite3.OperationalError) and "full" in str(error)


def taken_epoch(date_taken: str | None) -> float | None:
    """The mtime a file gets: when it was taken ("YYYY-MM-DD hh:mm:ss", local time)."""
    try:
        return time.mktime(time.strptime((date_taken or "")[:19], "%Y-%m-%d %H:%M:%S"))
    except (ValueError, OverflowError):
        return None


def prove(dest: Path, relative: str, mkdir: bool = True) -> Path:
    """DEST/relative, proven inside DEST with its .part (OutsideDest otherwise)."""
    paths.sibling(dest, relative, PART, mkdir=mkdir)
    return paths.inside(dest, relative, mkdir=mkdir)


class Part:
    """One file on its way into DEST: what its .part holds and the hash of those bytes."""

    def __init__(self, dest: Path, relative: str, cap: int | None = None):
        self.target = prove(dest, relative)
        self.part = part_of(self.target)
        self.cap = cap
        self.have = 0
        self.digest = hashlib.sha256()
        self.resumed = False

    def resume(self) -> int:
        """Pick up a .part left by an earlier run (hashing what it holds), once; the bytes
        it holds."""
        if not self.resumed:
            self.resumed = True
            if self.part.exists():
                self.digest = hashlib.sha256()
                with open(self.part, "rb") as handle:
                    while block := handle.read(CHUNK):
                        self.digest.update(block)
                self.have = self.part.stat().st_size
        return self.have

    def restart(self) -> None:
        """From byte 0: the .part is dropped."""
        self.part.unlink(missing_ok=True)
        self.have = 0
        self.digest = hashlib.sha256()

    def _take(self, out: IO[bytes], block: bytes) -> None:
        if self.cap is not None and self.have + len(block) > self.cap:
            raise TooLarge(f"{self.target.name} went past the cap of {self.cap} bytes")
        out.write(block)
        self.digest.update(block)
        self.have += len(block)

    async def stream(self, blocks: AsyncIterator[bytes]) -> AsyncIterator[int]:
        """Append each block to the .part; yields the size of each, once it is written."""
        self.part.parent.mkdir(parents=True, exist_ok=True)
        with open(self.part, "ab") as out:
            async for block in blocks:
                self._take(out, block)
                yield len(block)

    def pour(self, source: IO[bytes]) -> None:
        """Append all of a readable file to the .part."""
        with open(self.part, "ab") as out:
            while block := source.read(CHUNK):
                self._take(out, block)

    def check(self, media: str, original_format: str | None) -> str | None:
        """The kind of file the .part holds (from its first bytes) if it is a `media` in
        `original_format`; else the .part is dropped and WrongFormat names what it is."""
        with open(self.part, "rb") as handle:
            kind = magic.sniff(handle.read(magic.HEAD))
        if not magic.matches(kind, media, original_format):
            self.restart()
            raise WrongFormat(kind)
        return kind

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()

    def seal(self, mtime: float | None = None) -> None:
        """The .part's bytes (and mtime, when the file has a date) on the disk."""
        if mtime is not None:
            os.utime(self.part, (mtime, mtime))
        fsync_file(self.part)

    def land(self, commit: Callable[[], None] | None = None, after_commit: str | None = None,
             after_rename: str | None = None) -> None:
        """Commit (the catalog's record), rename into place, fsync the folder. The two
        names are crash points the tests kill at."""
        if commit is not None:
            commit()
        if after_commit:
            crash_point(after_commit)
        self.place()
        if after_rename:
            crash_point(after_rename)

    def place(self) -> None:
        """The .part renamed into place, and the rename on the disk (the folder fsynced)."""
        os.replace(self.part, self.target)
        fsync_dir(self.target.parent)

    def finish(self, commit: Callable[[], None] | None = None, mtime: float | None = None,
               **points: str | None) -> None:
        self.seal(mtime)
        self.land(commit, **points)

    async def finish_async(self, commit: Callable[[], None] | None = None, mtime: float | None = None,
                           after_commit: str | None = None, after_rename: str | None = None) -> None:
        """`finish` with the disk's work (fsync, rename, the folder's fsync) off the event
        loop, which goes on feeding the other transfers meanwhile. The commit and the crash
        points stay on the loop's thread: the catalog's connection belongs to it, and a
        crash point counts its passes in one thread. Same order as `land`."""
        await asyncio.to_thread(self.seal, mtime)
        if commit is not None:
            commit()
        if after_commit:
            crash_point(after_commit)
        await asyncio.to_thread(self.place)
        if after_rename:
            crash_point(after_rename)


@contextmanager
def replacing(dest: Path, relative: str) -> Iterator[TextIO]:
    """DEST/relative rewritten whole or not at all: written to a .tmp beside it (both
    proven inside DEST), renamed over it when the block ends, removed if it fails. Not
    fsynced, unlike a Part: what is written this way (sidecars, links.csv) is derived from
    the catalog and rewritten by the next run, so a crash costs a rewrite, never data."""
    target = paths.inside(dest, relative)
    tmp = paths.sibling(dest, relative, TMP)
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_text(dest: Path, relative: str, text: str) -> None:
    with replacing(dest, relative) as handle:
        handle.write(text)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def recover(cat: Catalog, dest: Path) -> dict:
    """Before writing: finish renames a kill interrupted, and send back to pending any
    item whose file has vanished (while Flickr still has it)."""
    renamed, missing = 0, 0
    for row in cat.items(WITH_FILE, batch=1000):
        if not row["path"]:
            continue
        try:
            final = prove(dest, row["path"], mkdir=False)
        except paths.OutsideDest as error:
            log.warning("%s: %s", row["id"], error)
            continue
        if final.exists():
            continue
        part = part_of(final)
        if part.exists() and part.stat().st_size == row["size"] and _sha256_of(part) == row["sha256"]:
            os.replace(part, final)
            fsync_dir(final.parent)
            renamed += 1
            continue
        if row.state in (State.DOWNLOADED, State.ORIGINAL_UNAVAILABLE):
            cat.mark_missing(row.id)
            missing += 1
    return {"renamed": renamed, "missing": missing}


def _sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hash_through(handle).sha256
