"""The local check: every file the catalog promises is there, whole (size, sha256), of the
right kind (magic bytes), with a readable sidecar, and agrees with at least one fact
Flickr stated independently of our download (pixel size, duration, Content-Length).
Then the tree itself: files nobody knows, partial downloads, broken album links.

Files are read in worker threads (hashlib releases the GIL on large blocks); the catalog
is only touched by the calling thread. --fast hashes nothing and takes a folder at a time
(listed once, each file opened by its name in it): a million items in a few minutes; it
finds a sidecar there, but does not read it.
"""

from __future__ import annotations

import concurrent.futures as futures
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from ..findings import Finding, Kind
from ..layout import proof
from ..layout.companions import COMPANIONS
from ..layout.writer import LEFTOVERS, PART
from ..media import magic
from ..catalog import Catalog, Item
from ..catalog.items import TO_FETCH, WITH_FILE
from ..media import complete, facts
from .preads import Preads

DURATION_TOLERANCE_S = 1.5  # Flickr rounds durations to whole seconds
VIEW_ROOTS = ("albums", "collections")
MANIFEST = "manifest.txt"


class Checked(NamedTuple):
    """What --fast and the tally read of an item (no more of the catalog): a tuple, not an
    Item, as a million of them pass through the walk."""
    id: str
    media: str | None
    path: str
    size: int | None
    state: str
    expected_size: int | None
    o_width: int | None
    o_height: int | None
    kept_size: str | None
    duration: int | None
    source: str | None
    raw: str | None
    rowid: int  # where its record is written (Verification.flush)


@dataclass
class ItemResult:
    id: str
    problems: list[Finding] = field(default_factory=list)
    confirmed_by: list[str] = field(default_factory=list)
    hashed: bool = False
    sha256: str | None = None   # the hex digest of the bytes read here (None with --fast)
    size: int | None = None     # the size of the file read here (fstat of the same handle)
    structure: str | None = None  # whole | not_checked | not_checked_fast (see media/complete.py)

    @property
    def whole(self) -> bool:
        return not self.problems

    def problem(self, kind: Kind, detail: str) -> None:
        self.problems.append(Finding(self.id, kind, detail))


def check_item(dest: Path, row: Item, fast: bool, progress: Callable[[int], None]) -> ItemResult:
    """All checks of one item's file; runs in a worker thread and only reads."""
    result = ItemResult(row.id)
    handle = _open_regular(dest, row, result)
    if handle is not None and _check_open(handle, row, fast, progress, result):
        _check_sidecar(dest, row, result, fast)
    return result


def _check_open(handle, row: Item, fast: bool, progress: Callable[[int], None], result: ItemResult,
                size: int | None = None) -> bool:
    """The checks of a file opened link-free (closed here); `size` from its fstat, if the
    opener made one. False when reading it failed (the problem is recorded and nothing
    more is checked)."""
    try:
        with handle:
            result.size = os.fstat(handle.fileno()).st_size if size is None else size
            if result.size != row.size:
                result.problem(Kind.SIZE_MISMATCH, f"{result.size} bytes on disk, {row.size} in the catalog")
            kind = _check_content(handle, row, result)
            flaw = complete.seek_check(handle, kind, result.size) if kind else None
            walk = complete.walker(kind) if kind and not fast and not flaw else None
            handle.seek(0)
            if not fast:
                _hash(handle, walk, result, progress)
                if result.sha256 != row.sha256:
                    result.problem(Kind.HASH_MISMATCH, "the bytes differ from those downloaded")
                flaw = flaw or (walk.finish() if walk else None)
            else:
                progress(result.size)
    except OSError as error:
        result.problem(Kind.UNREADABLE, f"{row.path}: {error.strerror or error}")
        return False
    if kind:
        _judge_structure(kind, fast, flaw, result)
    return True


def check_folder(dest: Path, folder: str, rows: list[Item], progress: Callable[[int], None]
                 ) -> list[ItemResult]:
    """--fast over the items of one folder: the folder opened link-free and listed once
    (os.scandir), each file opened by its name in it, the sidecars found in the listing.
    What the listing cannot settle (a name missing or not a regular file, a folder that
    cannot be opened) goes through check_item, so that each finding reads as it does there."""
    done = 0

    def count(n: int) -> None:
        nonlocal done
        done += n

    listed = _listing(dest, folder)
    if listed is None:
        results = [check_item(dest, row, True, count) for row in rows]
    else:
        fd, regular = listed
        try:
            results = [_check_listed(dest, fd, regular, row, count) for row in rows]
        finally:
            os.close(fd)
    progress(done)
    return results


def _listing(dest: Path, folder: str) -> tuple[int, dict[str, bool]] | None:
    """The folder opened link-free, and its names (True: a regular file); None when it
    cannot be opened or listed."""
    try:
        fd = proof.open_folder(dest, folder)
    except (OSError, ValueError):
        return None
    try:
        with os.scandir(fd) as listing:
            return fd, {entry.name: entry.is_file(follow_symlinks=False) for entry in listing}
    except OSError:
        os.close(fd)
        return None


def _check_listed(dest: Path, fd: int, regular: dict[str, bool], row: Item,
                  count: Callable[[int], None]) -> ItemResult:
    name = row.path.rpartition("/")[2]
    opened = None
    if regular.get(name):
        try:
            opened = proof.open_fd_in(fd, name, row.path)
        except OSError:  # gone or changed since the listing: check_item names what it is now
            pass
    if opened is None:
        return check_item(dest, row, True, count)
    result = ItemResult(row.id)
    if _check_open(Preads(opened[0]), row, True, count, result, opened[1].st_size):
        sidecar = regular.get(name + ".json")
        if sidecar is None:
            result.problem(Kind.SIDECAR_MISSING, f"{row.path}.json is not there")
        elif not sidecar:  # a link, a folder, a FIFO: judged as the full check judges it
            _check_sidecar(dest, row, result, True)
    return result


def _open_regular(dest: Path, row: Item, result: ItemResult):
    """The item's file opened for reading, link-free on every folder and the file itself
    (proof.open_regular): the file checked is the file read. None (and a problem) when it
    is missing, reached through a link, or not a regular file."""
    try:
        return proof.open_regular(dest, row.path)
    except FileNotFoundError:
        result.problem(Kind.MISSING, f"{row.path} is not there")
    except proof.NotProvable as error:
        result.problem(Kind.NOT_A_FILE, str(error))
    except OSError as error:
        result.problem(Kind.UNREADABLE, f"{row.path}: {error.strerror or error}")
    return None


def _hash(handle, walk: complete.Walk | None, result: ItemResult, progress: Callable[[int], None]) -> None:
    """sha256 of the whole file, the structure walk fed the same blocks (one read)."""
    read = proof.hash_through(handle, walk.feed if walk is not None else None, progress)
    result.hashed = True
    result.sha256 = read.sha256
    if read.size != result.size:
        result.problem(Kind.CHANGED_WHILE_READ, f"{read.size} bytes read, {result.size} when opened")


def _judge_structure(kind: str, fast: bool, flaw: complete.Flaw | None, result: ItemResult) -> None:
    if flaw is not None and flaw.kind == complete.UNCHECKED:  # e.g. a fragmented movie, an odd trailer
        result.structure = "not_checked"
        return
    if flaw is not None:
        result.problem(Kind(flaw.kind), flaw.detail)
        result.structure = flaw.kind
    elif not complete.checked(kind):
        result.structure = "not_checked"
    elif fast and kind not in complete.SEEKS:
        result.structure = "not_checked_fast"
    else:
        result.structure = "whole"


def _check_content(handle, row: Item, result: ItemResult) -> str | None:
    """Magic bytes, then the independent facts. The sniffed kind, or None if it is wrong."""
    head = handle.read(magic.HEAD)
    kind = magic.sniff(head)
    ext = row.path.rsplit(".", 1)[-1].lower() if "." in row.path.rsplit("/", 1)[-1] else ""
    if not magic.matches(kind, row.media, ext):
        result.problem(Kind.WRONG_FORMAT, f"{kind or 'unrecognised bytes'} in a .{ext} "
                                          f"{'video' if row.media == 'video' else 'photo'}")
        return None
    size = result.size
    if row.expected_size is not None:
        if size == row.expected_size:
            result.confirmed_by.append("content_length")
        else:
            result.problem(Kind.LENGTH_MISMATCH, f"{size} bytes, Flickr sent Content-Length "
                                                 f"{row.expected_size}")
    if row.media == "photo":
        want = _expected_dims(row)
        got = facts.pixel_size(handle)
        if want and got:
            if got in (want, want[::-1]):  # an EXIF rotation may swap them
                result.confirmed_by.append("pixel_size")
            else:
                result.problem(Kind.PIXEL_SIZE_MISMATCH, f"{got[0]}x{got[1]} px, Flickr says "
                                                         f"{want[0]}x{want[1]}")
        elif got and row.o_width is None and (rendition := facts.largest_rendition(row.raw)):
            # No original size from Flickr (a free account's, filled from the export): the
            # shape of the largest size Flickr listed is still Flickr's word, not the file's.
            if facts.same_shape(got, rendition):
                result.confirmed_by.append("aspect_ratio")
            else:
                result.problem(Kind.ASPECT_RATIO_MISMATCH, f"{got[0]}x{got[1]} px is not the shape of "
                                                           f"Flickr's {rendition[0]}x{rendition[1]}")
    elif row.duration:
        seconds = facts.video_duration(handle)
        if seconds is not None:
            if abs(seconds - row.duration) <= DURATION_TOLERANCE_S:
                result.confirmed_by.append("duration")
            else:
                result.problem(Kind.DURATION_MISMATCH, f"{seconds:.1f} s, Flickr says {row.duration} s")
    return kind


def _expected_dims(row: Item) -> tuple[int, int] | None:
    if row.state == "original_unavailable":  # a kept size: "l (1024x768)"
        match = re.search(r"\((\d+)x(\d+)\)", row.kept_size or "")
        return (int(match.group(1)), int(match.group(2))) if match else None
    if row.o_width and row.o_height:
        return row.o_width, row.o_height
    return None


def _check_sidecar(dest: Path, row: Item, result: ItemResult, fast: bool) -> None:
    """The item's sidecar is there; read whole and about this item too, unless fast."""
    sidecar = dest / (row.path + ".json")
    if fast:  # there, and a file, as the full check's read would find it (links followed)
        if not os.path.exists(sidecar):
            result.problem(Kind.SIDECAR_MISSING, f"{row.path}.json is not there")
        elif not os.path.isfile(sidecar):
            result.problem(Kind.SIDECAR_INVALID, f"{row.path}.json is not a file")
        return
    try:
        document = json.loads(sidecar.read_text(encoding="utf-8"))
    except FileNotFoundError:
        result.problem(Kind.SIDECAR_MISSING, f"{row.path}.json is not there")
        return
    except (OSError, ValueError) as error:
        result.problem(Kind.SIDECAR_INVALID, f"{row.path}.json: {error}")
        return
    if not isinstance(document, dict) or document.get("id") != row.id:
        result.problem(Kind.SIDECAR_INVALID, f"{row.path}.json describes another item")


def check_files(cat: Catalog, dest: Path, jobs: int, fast: bool, bar,
                on_result: Callable[[Item, ItemResult], None]) -> None:
    """check_item over every file item, `jobs` at a time (--fast: a folder at a time in this
    thread), results handed to on_result in the calling thread. At most a few items per
    worker are in flight (memory stays flat)."""
    if fast:
        _check_folders(cat, dest, bar, on_result)
        return
    lock = threading.Lock()

    def progress(n: int) -> None:
        with lock:
            bar.update(n)

    window = max(2, jobs * 4)
    with futures.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="verify") as pool:
        flying: dict[futures.Future, Item] = {}

        def settle(future: futures.Future) -> None:
            on_result(flying.pop(future), future.result())

        for row in cat.items(WITH_FILE):
            flying[pool.submit(check_item, dest, row, False, progress)] = row
            if len(flying) >= window:
                done, _ = futures.wait(flying, return_when=futures.FIRST_COMPLETED)
                for future in done:
                    settle(future)
        for future in futures.as_completed(list(flying)):
            settle(future)


def _check_folders(cat: Catalog, dest: Path, bar, on_result: Callable[[Checked, ItemResult], None]) -> None:
    """--fast, a folder at a time, in the calling thread: its work per file is a few
    small reads and much Python, which threads cannot share (the GIL) and only pass back
    and forth at every system call, at a cost higher than the check's own."""
    for folder, rows in cat.by_folder(WITH_FILE, shape=Checked):
        for row, result in zip(rows, check_folder(dest, folder, rows, bar.update)):
            on_result(row, result)


# --- the tree around the files ---------------------------------------------------------

def scan_tree(cat: Catalog, dest: Path) -> Iterator[Finding]:
    """Files under photos/ that the catalog does not know, leftovers of interrupted writes,
    and album or collection links that lead nowhere; each finding's id is its path
    relative to DEST."""
    photos = dest / "photos"
    for folder, _, files in os.walk(photos):
        relative_folder = Path(folder).relative_to(dest).as_posix()
        # Set arithmetic in C: a million known names are not looked at one by one.
        for name in sorted(set(files).difference(_known_names(cat, relative_folder))):
            relative = f"{relative_folder}/{name}"
            leftover = next((s for s in LEFTOVERS if name.endswith(s)), None)
            if leftover:
                owner = cat.owner_of(relative[:-len(leftover)])
                if leftover == PART and owner and owner["state"] in TO_FETCH:
                    yield Finding(relative, Kind.RESUMABLE_PART, f"partial download of {owner['id']}; "
                                                                 "'exodus backup' resumes it")
                else:
                    yield Finding(relative, Kind.PART_LEFTOVER, "left over from an interrupted write")
                continue
            yield Finding(relative, Kind.STRAY, "a file the catalog does not know")
    for root in VIEW_ROOTS:
        for folder, dirs, files in os.walk(dest / root):
            for name in sorted(files + dirs):
                path = Path(folder) / name
                relative = path.relative_to(dest).as_posix()
                if path.is_symlink() and not path.exists():
                    yield Finding(relative, Kind.BROKEN_LINK, f"points to {os.readlink(path)}, which is not there")
                elif name == MANIFEST and not path.is_symlink():
                    yield from _check_manifest(dest, path, relative)


def _known_names(cat: Catalog, folder: str) -> set[str]:
    """Names the catalog accounts for in one folder: files of items and earlier versions,
    and their companions (sidecars, a video's poster)."""
    files = cat.names_in(folder)
    names = set(files)
    for suffix in COMPANIONS:
        names.update([name + suffix for name in files])
    return names


def _check_manifest(dest: Path, manifest: Path, relative: str) -> Iterator[Finding]:
    for line in manifest.read_text(encoding="utf-8", errors="replace").splitlines():
        name, _, target = line.partition("\t")
        if target and not (dest / target).exists():
            yield Finding(f"{relative}:{name}", Kind.BROKEN_LINK, f"lists {target}, which is not there")
