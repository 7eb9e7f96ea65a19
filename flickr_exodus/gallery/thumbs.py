"""The gallery's images: each original drawn at a few widths, JPEG, under OUT/site/img/.

A rendition's name carries the first characters of its original's sha256, so a new original
(a replaced photo, a repaired file) gets new renditions and the old ones are pruned. What
was made, and at which sizes, is kept in one small manifest (OUT/site/img/renditions.txt):
a rerun with nothing changed reads it, looks at each item's folder (its status alone when
nothing in it changed since the manifest was written: see _unchanged), and opens no image
and writes no file. The orientation shown is the one Flickr showed: the file's EXIF orientation
first, then the rotation the owner set on Flickr.

The drawing (draw.py) runs in worker processes, handed paths, never pixels; results come
back in the sources' order with a bounded number in flight, so memory stays flat however
many items there are.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Container, Iterable, Iterator, Mapping

from .. import processes
from ..flickr import ids
from ..layout import paths
from . import draw
from .pages import write_if_changed

# Longest edge of each rendition, small to large: the grid, a phone, a screen.
WIDTHS = (320, 800, 1600)
QUALITY = draw.QUALITY
IMG = "site/img"
MANIFEST = f"{IMG}/renditions.txt"
# Its first line: a manifest written for other widths or quality is not trusted.
MANIFEST_HEAD = f"exodus renditions 1 widths={','.join(map(str, WIDTHS))} quality={QUALITY}"
IN_FLIGHT_PER_JOB = 4  # enough queued that no worker waits, few enough that memory stays flat
TASKS_PER_WORKER = 500  # a worker is replaced now and then, so a leak in a decoder cannot grow
_SHA = re.compile(r"[0-9a-f]{12,64}")
# A manifest entry: the renditions' key, then a width and height per rendition, or the key
# alone for an original Pillow could not read.
_ENTRY = re.compile(r"(?:[0-9a-f]{12}|nosum)(?: [1-9][0-9]{0,5}){%d}|(?:[0-9a-f]{12}|nosum)" % (2 * len(WIDTHS)))


@dataclass(frozen=True)
class Source:
    id: str
    path: str            # the original, relative to DEST
    sha256: str | None   # the catalog's; it names the renditions (a video's: its poster's)
    media: str           # photo | video (a video has renditions only from a poster)
    rotation: int = 0    # degrees clockwise, set by the owner on Flickr
    poster: str | None = None  # a video's still, relative to DEST, when the backup holds one


@dataclass(frozen=True, slots=True)
class Rendition:
    width: int
    height: int
    path: str            # relative to OUT, where index.html is



def _key(source: Source) -> str:
    """The sha256's first characters, or "nosum" for a missing or malformed one (it names a file)."""
    sha = (source.sha256 or "").lower()
    return sha[:12] if _SHA.fullmatch(sha) else "nosum"


def build(dest: Path, out: Path, sources: Iterable[Source], progress: Callable[[int], None] | None = None,
          jobs: int | None = None) -> Renditions:
    """The renditions of every source, made where missing or stale: read like a dict, id ->
    renditions smallest first, in the sources' order. Renditions of items not among `sources`
    are removed. A source Pillow cannot read, or a video without a poster, gets none: the
    page shows a placeholder. `jobs` worker processes draw (1: drawn in this process)."""
    out.mkdir(parents=True, exist_ok=True)  # paths.inside proves names against OUT as it exists
    manifest_path = paths.inside(out, MANIFEST)
    img = str(manifest_path.parent)
    before, since = _load(manifest_path)
    after: dict[str, str] = {}
    made: dict[str, str] = {}
    with _Workers(jobs or processes.cores()) as workers:
        for source, entry in workers.in_order(_plans(dest, out, img, sources, before, since)):
            if entry is not None:
                after[source.id] = entry
                if " " in entry:
                    made[source.id] = entry
            if progress:
                progress(1)
    prune(img, made)
    if after != before:
        _save(out, after)
    return Renditions(made)


class Renditions(Mapping[str, list[Rendition]]):
    """Each drawn item's renditions, smallest first, in the sources' order: read as a dict.
    They are made from the manifest's line when asked for, so that 100,000 items cost a
    string each, not three objects and their paths."""

    def __init__(self, entries: dict[str, str]):
        self._entries = entries

    def __getitem__(self, pid: str) -> list[Rendition]:
        key, *sizes = self._entries[pid].split(" ")
        return [Rendition(int(sizes[2 * n]), int(sizes[2 * n + 1]), f"{IMG}/{pid}/{key}-{width}.jpg")
                for n, width in enumerate(WIDTHS)]

    def shown(self) -> dict[str, list[dict]]:
        """Every item's renditions as the pages show them ({"w", "h", "path"}, smallest first),
        from the manifest's lines in one pass: no Rendition made on the way."""
        out = {}
        for pid, entry in self._entries.items():
            key, *sizes = entry.split(" ")
            out[pid] = [{"w": int(sizes[2 * n]), "h": int(sizes[2 * n + 1]), "path": f"{IMG}/{pid}/{key}-{width}.jpg"}
                        for n, width in enumerate(WIDTHS)]
        return out

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Renditions({len(self)} items)"


# --- what each source needs ---------------------------------------------------------

@dataclass
class _Plan:
    source: Source
    entry: str | None = None            # known already: the manifest's entry ("key w h w h w h" or "key")
    job: tuple | None = None            # else the worker's arguments
    folder: str = ""                    # OUT/site/img/{id}
    listed: frozenset[str] = frozenset()  # what that folder held before, for pruning


def _plans(dest: Path, out: Path, img: str, sources: Iterable[Source], before: dict,
           since: int | None = None) -> Iterator[_Plan]:
    seen: set[str] = set()
    for source in sources:
        if not ids.is_photo_id(source.id) or source.id in seen:  # the id names a folder
            yield _Plan(source)
            continue
        seen.add(source.id)
        yield _plan(dest, out, img, source, before.get(source.id), since)


def _plan(dest: Path, out: Path, img: str, source: Source, known: str | None, since: int | None = None) -> _Plan:
    still = source.path if source.media == "photo" else source.poster
    if not still:
        return _Plan(source)
    # A rerun with nothing changed passes here for every item: one lstat, no listing, no path proofs.
    folder = os.path.join(img, source.id)
    key = _key(source)
    if known and since and _entry_key(known) == key and _unchanged(folder, since):
        return _Plan(source, entry=known)
    listed = _listing(folder)
    names = [f"{key}-{width}.jpg" for width in WIDTHS]
    if known and _entry_key(known) == key and (" " not in known or all(n in listed for n in names)):
        _remove(folder, listed.difference(names))
        return _Plan(source, entry=known)  # made before, or known unreadable: nothing to open
    try:
        original = paths.inside(dest, still, mkdir=False)
        targets = [(width, str(paths.inside(out, f"{IMG}/{source.id}/{name}"))) for width, name in zip(WIDTHS, names)]
    except (paths.OutsideDest, OSError):  # a path that leaves DEST or OUT, a folder that cannot be made
        return _Plan(source)
    return _Plan(source, job=(str(original), targets, _rotation(source.rotation)), folder=folder, listed=listed)


def _rotation(degrees) -> int:
    """Flickr's rotation, a multiple of 90 or none at all."""
    return degrees % 360 if isinstance(degrees, int) and degrees % 90 == 0 else 0


def _unchanged(folder: str, since: int) -> bool:
    """Whether an item's folder is a folder nothing happened to since the manifest was written
    (`since`, its ctime): its entry there then says what it holds. Any change to the folder
    (a file deleted, added or renamed, the folder itself renamed or its mode changed) sets its
    ctime to the time of the change, which no one can set back (touch sets the mtime), so a
    folder older than the manifest is as the build that wrote the manifest left it."""
    try:
        found = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(found.st_mode) and found.st_ctime_ns < since


def _listing(folder: str) -> frozenset[str]:
    """What an item's folder holds; a link or a file planted in its place is removed (what
    a link points to is not ours to list or prune)."""
    try:
        mode = os.lstat(folder).st_mode
        if stat.S_ISDIR(mode):
            return frozenset(os.listdir(folder))
        os.unlink(folder)
    except (FileNotFoundError, NotADirectoryError):
        pass
    return frozenset()


def _finished(plan: _Plan, answer) -> str | None:
    """The manifest entry of a drawn item: its key and sizes, or its key alone for a file Pillow cannot
    read (it is not opened again until its sha256 changes); None when it may be there next time."""
    key = _key(plan.source)
    if isinstance(answer, list):
        _remove(plan.folder, plan.listed.difference(f"{key}-{width}.jpg" for width in WIDTHS))
        return " ".join([key, *(str(n) for size in answer for n in size)])
    return key if answer == draw.UNREADABLE else None


# --- the workers ----------------------------------------------------------------------

class _Workers:
    """Draws plans' jobs in worker processes, answering in the plans' order with at most
    IN_FLIGHT_PER_JOB x jobs drawn or waiting at once. The pool starts only when a job
    comes, so a rerun with nothing to draw starts no process."""

    def __init__(self, jobs: int):
        self.jobs = max(1, jobs)
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc) -> None:
        if self.pool:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def in_order(self, plans: Iterable[_Plan]) -> Iterator[tuple[Source, str | None]]:
        waiting: deque[tuple[_Plan, Future | None]] = deque()
        for plan in plans:
            if plan.job is None and not waiting:  # nothing drawn ahead of it (a rerun: every item)
                yield plan.source, plan.entry
                continue
            waiting.append((plan, self._submit(plan.job) if plan.job else None))
            while waiting and (len(waiting) > self.jobs * IN_FLIGHT_PER_JOB or _ready(waiting[0][1])):
                yield self._answer(*waiting.popleft())
        while waiting:
            yield self._answer(*waiting.popleft())

    def _submit(self, job: tuple) -> Future:
        if self.jobs == 1:
            done: Future = Future()
            try:
                done.set_result(draw.renditions(*job))
            except Exception as e:  # one item's failure never stops the build
                done.set_exception(e)
            return done
        if self.pool is not None:
            try:
                return self.pool.submit(draw.renditions, *job)
            except BrokenProcessPool:  # a worker died (a decoder's crash, the OOM killer): a new pool
                self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = ProcessPoolExecutor(self.jobs, mp_context=_context(), max_tasks_per_child=TASKS_PER_WORKER)
        return self.pool.submit(draw.renditions, *job)

    def _answer(self, plan: _Plan, future: Future | None) -> tuple[Source, str | None]:
        if future is None:
            return plan.source, plan.entry
        try:
            answer = future.result()
        except Exception:  # its worker died: no rendition now, drawn again next time
            answer = None
        return plan.source, _finished(plan, answer)


def _ready(future: Future | None) -> bool:
    return future is None or future.done()


def _context():
    """Workers forked with Pillow loaded where the platform allows (processes.context)."""
    return processes.context([draw.__name__])


# --- the manifest and pruning -----------------------------------------------------------

def made_before(out: Path) -> Renditions:
    """The renditions the last build in OUT recorded (its manifest), for a reader other than
    the build (the audit's sheet); none when there is no manifest, or one that leads out of OUT."""
    try:
        manifest = paths.inside(out, MANIFEST, mkdir=False)
    except paths.OutsideDest:
        return Renditions({})
    entries, _ = _load(manifest)
    return Renditions({pid: entry for pid, entry in entries.items() if " " in entry})  # sized: drawn


def _load(path: Path) -> tuple[dict[str, str], int | None]:
    """The manifest's entries by id, or none (so everything is drawn) when it is missing, or
    written for other widths or quality; a line that is not well formed is left out. And when
    it was written (its ctime), unless that is later than now: a clock set back since then
    could date a later change of a folder before it, so every folder is listed instead."""
    try:
        with open(path, "rb") as f:
            written = os.fstat(f.fileno()).st_ctime_ns
            lines = f.read().decode("utf-8").split("\n")
    except (OSError, UnicodeError):
        return {}, None
    if lines[0] != MANIFEST_HEAD:
        return {}, None
    entries = {}
    for line in lines[1:]:
        pid, _, entry = line.partition(" ")
        if ids.is_photo_id(pid) and _ENTRY.fullmatch(entry):
            entries[pid] = entry
    return entries, written if written <= time.time_ns() else None


def _entry_key(entry: str) -> str:
    return entry.partition(" ")[0]


def _save(out: Path, entries: dict[str, str]) -> None:
    text = "\n".join([MANIFEST_HEAD, *(f"{pid} {entry}" for pid, entry in entries.items())]) + "\n"
    write_if_changed(out, MANIFEST, text.encode("utf-8"))


def prune(img: str | Path, keep: Container[str]) -> int:
    """Remove the folders of OUT/site/img/ named for an item not in `keep` (no longer in the
    gallery, or with no rendition now); nothing else there, and nothing outside it. The count removed."""
    removed = 0
    with os.scandir(img) as entries:
        for entry in entries:
            if not ids.is_photo_id(entry.name) or entry.name in keep:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)  # a file or a link where a folder belongs: the link itself
            removed += 1
    return removed


def _remove(folder: str, names: Iterable[str]) -> None:
    """Stale files of one item's folder (an earlier original's renditions, a partial write)."""
    for name in names:
        try:
            os.unlink(os.path.join(folder, name))
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            pass
