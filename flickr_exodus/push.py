"""`exodus push DEST TARGET`: the backup to its new home, idempotently.

What goes: every file the catalog knows (originals, earlier versions, kept sizes), their
.json and .xmp sidecars, links.csv, the faves, and a consistent snapshot of the catalog
(SQLite's backup API; never logs, locks, -wal or -shm). Each upload is checked (size, and
the MD5 where the target's ETag is one) before the `pushes` table records it, so a rerun
sends only what is new or changed, and a kill at any instant costs at most the uploads
in flight, sent again under the same keys (no duplicates).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sqlite3
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from .backup.download import crash_point
from .catalog import Catalog
from .catalog.store import has_file, now_iso
from .flickr.client import backoff_base
from .jobs import EXIT_OK, EXIT_PROBLEMS, UsageProblem, open_backup
from .progress import Progress
from .targets import Target, TargetProblem, open_target

SNAPSHOT_KEY = "catalog.db"
SIDECARS = (".json", ".xmp")
ATTEMPTS = 6
_MD5 = re.compile(r"^[0-9a-f]{32}$")
# Tables whose rows change on every run without changing what the backup holds.
_BOOKKEEPING = ("runs", "pushes")


@dataclass
class PushOptions:
    dest: Path
    target: str
    concurrency: int = 4
    dry_run: bool = False
    quiet: bool = False


@dataclass
class Upload:
    key: str
    path: Path
    item_id: str | None
    sha256: str | None  # known from the catalog; else computed


def candidates(cat: Catalog, dest: Path) -> Iterator[Upload]:
    """Every file of the backup that belongs on the target, in a stable order."""
    last = ""
    while True:
        rows = cat.rows(f"SELECT id, path, sha256 FROM photos WHERE {has_file()} AND id > ? ORDER BY id LIMIT 500",
                        [last])
        if not rows:
            break
        last = rows[-1]["id"]
        for row in rows:
            yield Upload(row["path"], dest / row["path"], row["id"], row["sha256"])
            for suffix in SIDECARS:
                if (dest / (row["path"] + suffix)).is_file():
                    yield Upload(row["path"] + suffix, dest / (row["path"] + suffix), row["id"], None)
    for version in cat.rows("SELECT photo_id, path, sha256 FROM versions ORDER BY photo_id, path"):
        if (dest / version["path"]).is_file():
            yield Upload(version["path"], dest / version["path"], version["photo_id"], version["sha256"])
            for suffix in SIDECARS:
                if (dest / (version["path"] + suffix)).is_file():
                    yield Upload(version["path"] + suffix, dest / (version["path"] + suffix), version["photo_id"],
                                 None)
    for extra in ["links.csv", *sorted(p.relative_to(dest).as_posix() for p in (dest / "faves").glob("*")
                                       if p.is_file() and not p.name.endswith(".part"))]:
        if (dest / extra).is_file():
            yield Upload(extra, dest / extra, None, None)


def digests(path: Path) -> tuple[str, str]:
    sha, md5 = hashlib.sha256(), hashlib.md5()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            sha.update(block)
            md5.update(block)
    return sha.hexdigest(), md5.hexdigest()


def snapshot(cat: Catalog, folder: Path) -> tuple[Path, str]:
    """A consistent copy of the catalog (SQLite's backup API) and a hash of what it holds,
    bookkeeping tables aside, so that an unchanged backup is not sent again."""
    path = folder / SNAPSHOT_KEY
    copy = sqlite3.connect(path)
    try:
        cat.db.conn.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        digest = hashlib.sha256()
        for line in copy.iterdump():
            if not any(line.startswith(f'INSERT INTO "{t}"') for t in _BOOKKEEPING):
                digest.update(line.encode())
    finally:
        copy.close()
    return path, digest.hexdigest()


class Push:
    def __init__(self, cat: Catalog, target: Target, options: PushOptions, progress: Progress):
        self.cat, self.target, self.options, self.progress = cat, target, options, progress
        self.counts: Counter = Counter()
        self.failed: list[dict] = []

    def already(self, key: str) -> dict | None:
        rows = self.cat.rows("SELECT size, sha256 FROM pushes WHERE target = ? AND key = ?", [self.target.name, key])
        return rows[0] if rows else None

    async def send(self, upload: Upload, files_bar, bytes_bar) -> bool:
        """Upload one file unless the target has it already; True once it is there."""
        size = upload.path.stat().st_size
        sha, md5 = await asyncio.to_thread(digests, upload.path)
        if upload.sha256 and sha != upload.sha256:
            self.counts["changed_on_disk"] += 1
            self.failed.append({"key": upload.key, "reason": "the file differs from the catalog: run 'exodus verify'"})
            return False
        done = self.already(upload.key)
        if done and done["size"] == size and done["sha256"] == sha:
            self.counts["unchanged"] += 1
            files_bar.update(1)
            return True
        if self.options.dry_run:
            self.counts["would_send"] += 1
            self.counts["would_send_bytes"] += size
            return False
        try:
            async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(ATTEMPTS), reraise=True,
                    wait=wait_random_exponential(multiplier=backoff_base(), max=30),
                    retry=retry_if_exception_type((aiohttp.ClientError, asyncio.TimeoutError, ConnectionError,
                                                   BotoCoreError, ClientError, _Mismatch))):
                with attempt:
                    there = await self.target.put(upload.key, upload.path, md5, upload.path.stat().st_mtime)
                    if there.etag and _MD5.match(there.etag):
                        # The target's own MD5 of the bytes it received.
                        if there.etag != md5:
                            raise _Mismatch("the target's MD5 differs from the file's")
                    else:  # no checksum in the answer: ask what it holds
                        there = await self.target.stat(upload.key)
                        if there is None or there.size != size:
                            raise _Mismatch(f"the target holds {there.size if there else 'nothing'} bytes, "
                                            f"not {size}")
                        if there.etag and _MD5.match(there.etag) and there.etag != md5:
                            raise _Mismatch("the target's MD5 differs from the file's")
        except TargetProblem:
            raise
        except Exception as error:  # noqa: BLE001 - counted and reported; the others go on
            self.counts["failed"] += 1
            self.failed.append({"key": upload.key, "reason": f"{type(error).__name__}: {error}"})
            return False
        with self.cat.tx() as conn:
            conn.execute("INSERT INTO pushes (target, key, item_id, size, sha256, etag, pushed_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(target, key) DO UPDATE SET item_id = excluded.item_id, "
                         "size = excluded.size, sha256 = excluded.sha256, etag = excluded.etag, "
                         "pushed_at = excluded.pushed_at",
                         (self.target.name, upload.key, upload.item_id, size, sha, there.etag, now_iso()))
        crash_point("push-item")
        self.counts["sent"] += 1
        self.counts["bytes"] += size
        files_bar.update(1)
        bytes_bar.update(size)
        return True

    async def run(self) -> None:
        await self.target.open()
        try:
            files_bar = self.progress.bar("files", unit="file")
            bytes_bar = self.progress.bar("bytes", bytes=True)
            gate = asyncio.Semaphore(max(1, self.options.concurrency))
            flying: set[asyncio.Task] = set()

            async def guarded(upload: Upload) -> None:
                async with gate:
                    await self.send(upload, files_bar, bytes_bar)

            try:
                for upload in candidates(self.cat, self.options.dest):
                    while len(flying) >= self.options.concurrency * 4:  # bounded: memory stays flat
                        done, _ = await asyncio.wait(flying, return_when=asyncio.FIRST_COMPLETED)
                        for task in done:
                            flying.discard(task)
                            task.result()
                    flying.add(asyncio.create_task(guarded(upload)))
                for task in asyncio.as_completed(list(flying)):
                    await task
                with tempfile.TemporaryDirectory(prefix="exodus-snapshot-") as folder:
                    path, content = snapshot(self.cat, Path(folder))
                    # The snapshot is sent when what the catalog holds changed, whatever its bytes.
                    done = self.already(SNAPSHOT_KEY)
                    if done and done["sha256"] == content:
                        self.counts["unchanged"] += 1
                    elif self.options.dry_run:
                        self.counts["would_send"] += 1
                    elif await self.send(Upload(SNAPSHOT_KEY, path, None, None), files_bar, bytes_bar):
                        with self.cat.tx() as conn:
                            conn.execute("UPDATE pushes SET sha256 = ? WHERE target = ? AND key = ?",
                                         (content, self.target.name, SNAPSHOT_KEY))
            finally:
                for task in flying:
                    task.cancel()
                files_bar.close()
                bytes_bar.close()
        finally:
            await self.target.close()


class _Mismatch(Exception):
    pass


def run_push(options: PushOptions) -> tuple[int, dict]:
    try:
        target = open_target(options.target)
    except TargetProblem as error:
        raise UsageProblem(str(error)) from None
    with open_backup(options.dest, options.quiet, "push") as (cat, progress):
        job = Push(cat, target, options, progress)
        started = time.monotonic()
        try:
            asyncio.run(job.run())
        except TargetProblem as error:
            raise UsageProblem(f"{error}; nothing more was recorded as pushed") from None
        counts = job.counts
        report = {"ok": not job.failed, "target": target.name, "dry_run": options.dry_run,
                  "counts": {k: counts[k] for k in ("sent", "bytes", "unchanged", "failed", "changed_on_disk",
                                                     "would_send", "would_send_bytes")},
                  "pushed_in_all": cat.one("SELECT count(*) FROM pushes WHERE target = ?", [target.name]),
                  "seconds": round(time.monotonic() - started, 2), "failed": job.failed[:1000]}
        return (EXIT_OK if report["ok"] else EXIT_PROBLEMS), report


def render(report: dict) -> str:
    c = report["counts"]
    if report["dry_run"]:
        return (f"{report['target']}: would send {c['would_send']} files ({c['would_send_bytes'] / 1e6:.1f} MB); "
                f"{c['unchanged']} already there. Dry run: nothing was sent.")
    lines = [f"{report['target']}: sent {c['sent']} files ({c['bytes'] / 1e6:.1f} MB), {c['unchanged']} already "
             f"there and unchanged, {c['failed']} failed; {report['pushed_in_all']} files recorded there in all."]
    lines += [f"  {f['key']}: {f['reason']}" for f in report["failed"][:20]]
    return "\n".join(lines)
