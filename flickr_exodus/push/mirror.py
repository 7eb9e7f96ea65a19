"""Pushing to a file store (S3, WebDAV, rclone): the backup's tree as it is.

What goes: every file the catalog knows (originals, earlier versions, kept sizes), their
companions (.json and .xmp sidecars, a video's poster: layout/companions.py), links.csv,
the faves, the gallery's files (`exodus gallery`: index.html, README.txt, metadata.yml,
site/; `exodus audit --html`: audit.html), and a consistent snapshot of the catalog
(SQLite's backup API; never logs, locks, -wal or -shm). Each upload is checked before
the `pushes` table records it, with how in `checked` (see `check`), so a rerun sends only
what is new or changed, and a kill at any instant costs at most the uploads of its last
half second (common.Recorder), sent again under the same keys: no duplicates.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..catalog import Catalog
from ..catalog.items import WITH_FILE
from ..layout.companions import COMPANIONS
from ..layout.faves import FOLDER as FAVES
from ..layout.writer import LEFTOVERS, is_part
from ..targets import RemoteObject, Target, TargetProblem, opened
from .common import Mismatch, Push, digests, each, why

SNAPSHOT_KEY = "catalog.db"
IN_MEMORY = 8 * 1024 * 1024  # at most --concurrency of these are held at once
INLINE = 1024 * 1024  # hashed on the event loop (~3 ms at most): cheaper than a thread hop
# Tables whose rows change on every run without changing what the backup holds.
_BOOKKEEPING = ("runs", "pushes")
# Written by `exodus gallery` (and `exodus audit --html`) beside the backup: pages that open
# from the target as they do from DEST, and Datasette's metadata beside the catalog.
GALLERY_FILES = ("index.html", "README.txt", "metadata.yml", "audit.html")
GALLERY_FOLDER = "site"


@dataclass
class Upload:
    key: str
    path: Path
    item_id: str | None
    sha256: str | None  # known from the catalog; else computed
    # Made again from the catalog by a command (the gallery's pages and images), which keeps
    # the mtime of what it did not change: the same size and an mtime before the push that
    # recorded it say "unchanged" without reading it (100,000 items have ~400,000 such files).
    derived: bool = False


def candidates(cat: Catalog, dest: Path) -> Iterator[Upload]:
    """Every file of the backup that belongs on the target, in a stable order."""
    for item in cat.items(WITH_FILE):
        yield Upload(item.path, dest / item.path, item.id, item.sha256)
        for suffix in COMPANIONS:
            if (dest / (item.path + suffix)).is_file():
                yield Upload(item.path + suffix, dest / (item.path + suffix), item.id, None)
    for version in cat.versions():
        if (dest / version["path"]).is_file():
            yield Upload(version["path"], dest / version["path"], version["photo_id"], version["sha256"])
            for suffix in COMPANIONS:
                if (dest / (version["path"] + suffix)).is_file():
                    yield Upload(version["path"] + suffix, dest / (version["path"] + suffix), version["photo_id"],
                                 None)
    for extra in ["links.csv", *sorted(p.relative_to(dest).as_posix() for p in (dest / FAVES).glob("*")
                                       if p.is_file() and not is_part(p.name))]:
        if (dest / extra).is_file():
            yield Upload(extra, dest / extra, None, None)
    for relative in gallery(dest):
        yield Upload(relative, dest / relative, None, None, derived=True)


def gallery(dest: Path) -> Iterator[str]:
    """The gallery's files, relative to DEST, in a stable order: regular files only (a link,
    which could lead out of DEST, is neither sent nor followed), leftovers of interrupted
    writes aside."""
    for name in GALLERY_FILES:
        if (dest / name).is_file() and not (dest / name).is_symlink():
            yield name
    root = dest / GALLERY_FOLDER
    if root.is_symlink():
        return
    for folder, dirs, files in os.walk(root):  # a linked folder is listed, not entered
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if not name.endswith(LEFTOVERS) and not path.is_symlink() and path.is_file():
                yield path.relative_to(dest).as_posix()


def _sent_since(done: dict, mtime: float) -> bool:
    """The file was last written a whole second before its push was recorded."""
    try:
        pushed = calendar.timegm(time.strptime(done["pushed_at"], "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return False
    return mtime < pushed - 1


def _read(path: Path, size: int) -> tuple[bytes | None, str, str]:
    """SHA-256 and MD5 of a file, and its bytes when small: read once, sent from memory."""
    if size > IN_MEMORY:
        return (None, *digests(path, "md5"))
    data = path.read_bytes()
    return data, hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()


async def check(target: Target, key: str, size: int, md5: str, sent: RemoteObject) -> tuple[RemoteObject, str]:
    """Whether the target holds the file's bytes, and how that is known (pushes.checked):
    "md5:<how>" where the target computed the MD5 of what it holds (an S3 ETag where S3
    guarantees that, a multipart ETag recomputed from the parts, Nextcloud's X-Hash-MD5,
    rclone's hash); otherwise "size", read back after the upload, with "+content-md5" when
    the store accepted our signed Content-MD5 and "+oc-checksum" when the file carries the
    MD5 we declared. Mismatch when anything known disagrees."""
    if sent.md5 is not None:
        if sent.md5 != md5:
            raise Mismatch(f"the target's MD5 ({sent.md5_by}) differs from the file's")
        return sent, f"md5:{sent.md5_by}"
    there = await target.stat(key)  # no MD5 in the answer: ask what it holds
    if there is None or there.size != size:
        raise Mismatch(f"the target holds {there.size if there else 'nothing'} bytes, not {size}")
    if there.md5 is not None:
        if there.md5 != md5:
            raise Mismatch(f"the target's MD5 ({there.md5_by}) differs from the file's")
        return there, f"md5:{there.md5_by}"
    if there.declared_md5 is not None and there.declared_md5 != md5:
        raise Mismatch("the file there was declared with another MD5: another upload's")
    there.etag = there.etag or sent.etag
    checked = "+".join(["size", *([sent.accepted] if sent.accepted else []),
                        *(["oc-checksum"] if there.declared_md5 else [])])
    return there, checked


def snapshot(cat: Catalog, folder: Path) -> tuple[Path, str]:
    """A consistent copy of the catalog and a hash of what it holds, bookkeeping tables
    aside, so that an unchanged backup is not sent again."""
    path = folder / SNAPSHOT_KEY
    return path, cat.snapshot(path, leave_out=_BOOKKEEPING)


class MirrorPush(Push):
    target: Target

    async def send(self, upload: Upload, files_bar, bytes_bar) -> bool:
        """Upload one file unless the target has it already; True once it is there."""
        stat = upload.path.stat()
        size = stat.st_size
        done = self.cat.pushed(self.target.name, upload.key)
        if done and upload.sha256 and done["size"] == size and done["sha256"] == upload.sha256:
            # Sent as the catalog knows it; whether the disk still agrees is verify's question.
            self.counts["unchanged"] += 1
            files_bar.update(1)
            return True
        if done and upload.derived and done["size"] == size and _sent_since(done, stat.st_mtime):
            self.counts["unchanged"] += 1
            files_bar.update(1)
            return True
        data, sha, md5 = _read(upload.path, size) if size <= INLINE else \
            await asyncio.to_thread(_read, upload.path, size)
        if upload.sha256 and sha != upload.sha256:
            self.counts["changed_on_disk"] += 1
            self.failed.append({"key": upload.key, "reason": "the file differs from the catalog: run 'exodus verify'"})
            return False
        if done and done["size"] == size and done["sha256"] == sha:
            self.counts["unchanged"] += 1
            files_bar.update(1)
            return True
        if self.options.dry_run:
            self.counts["would_send"] += 1
            self.counts["would_send_bytes"] += size
            return False

        async def put_and_check() -> tuple[RemoteObject, str]:
            sent = await self.target.put(upload.key, upload.path, md5, stat.st_mtime, data)
            return await check(self.target, upload.key, size, md5, sent)

        try:
            there, checked = await self.policy.run(put_and_check)
        except TargetProblem:
            raise
        except Exception as error:  # noqa: BLE001 - counted and reported; the others go on
            self._fail(upload.key, why(error))
            return False
        self.recorder.add(upload.key, upload.item_id, size, sha, there.etag, checked=checked)
        self.counts["sent"] += 1
        self.counts["bytes"] += size
        files_bar.update(1)
        bytes_bar.update(size)
        return True

    async def run(self) -> None:
        await opened(self.target)
        try:
            # The files are counted first (a stat each, a fraction of what sending costs) so
            # that the bar shows how far along it is and when it should end; +1: the snapshot.
            files = None if self.progress.quiet else sum(1 for _ in candidates(self.cat, self.options.dest)) + 1
            files_bar = self.progress.bar("files", total=files, unit="file")
            bytes_bar = self.progress.bar("bytes", bytes=True)
            try:
                try:
                    await each(candidates(self.cat, self.options.dest),
                               lambda upload: self.send(upload, files_bar, bytes_bar), self.options.concurrency)
                finally:
                    self.recorder.flush()
                with tempfile.TemporaryDirectory(prefix="exodus-snapshot-") as folder:
                    path, content = snapshot(self.cat, Path(folder))
                    # The snapshot is sent when what the catalog holds changed, whatever its bytes.
                    done = self.cat.pushed(self.target.name, SNAPSHOT_KEY)
                    if done and done["sha256"] == content:
                        self.counts["unchanged"] += 1
                    elif self.options.dry_run:
                        self.counts["would_send"] += 1
                    elif await self.send(Upload(SNAPSHOT_KEY, path, None, None), files_bar, bytes_bar):
                        self.recorder.flush()
                        self.cat.set_pushed_sha256(self.target.name, SNAPSHOT_KEY, content)
            finally:
                files_bar.close()
                bytes_bar.close()
        finally:
            await self.target.close()
