"""Which of an account's photos the published face-dataset lists hold (issue 20, item 3).

Each list is read in its own format (formats.py), told by its content, plain or compressed,
streaming (streams.py): a 15 GB YFCC100M file costs the same memory as a small one. A
photo is found by its id; a row of a list that names one of the account's NSIDs (or path
aliases) but a photo id the caller did not pass is still the account's: that photo is
reported "by owner", and the account as being in the dataset. The caller passes the ids
(no SQL here) and turns each DatasetProblem into one line; the other files are still read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Callable, Iterable

from ..flickr import ids
from . import formats
from .streams import DatasetProblem, LineBlocks, Opened, looks_binary, overlapping_blocks

BY_PHOTO = "photo id"
BY_OWNER = "owner NSID"  # the row's owner is the account; its photo id was not one passed

__all__ = ["BY_OWNER", "BY_PHOTO", "DatasetProblem", "Listing", "ListRead", "Matches", "match"]


@dataclass(frozen=True)
class Listing:
    """One dataset list that names a photo or an account, and how it was recognised."""
    dataset: str   # FFHQ, YFCC100M, MegaFace, PIPA, Flickr links
    file: str      # the list's path, as given
    how: str       # BY_PHOTO or BY_OWNER


@dataclass
class ListRead:
    """What reading one list gave: its format, the text read, and what was skipped."""
    file: str
    dataset: str | None = None
    compression: str = "plain"
    text_bytes: int = 0
    rows: int = 0           # references read: rows of a list, for YFCC100M every line
    long_lines: int = 0     # longer than streams.MAX_LINE: skipped, unread
    same_as: str | None = None  # the same file on disk given before: not read twice


@dataclass
class Matches:
    """What match() found: per photo id and per account, the lists that name them."""
    photos: dict[str, set[Listing]] = field(default_factory=dict)    # photo id -> the lists naming it
    accounts: dict[str, set[Listing]] = field(default_factory=dict)  # NSID or alias -> the lists naming it
    files: list[ListRead] = field(default_factory=list)
    problems: list[DatasetProblem] = field(default_factory=list)


@dataclass(frozen=True)
class _Wanted:
    photos: frozenset[bytes]
    owners: frozenset[bytes]


_PHOTO, _OWNER = itemgetter(0), itemgetter(1)
Progress = Callable[[Path, int, int], None]  # (file, bytes of it read, its size on disk)


def match(paths: Iterable[Path], photo_ids: set[str], nsids: set[str], progress: Progress | None = None,
          aliases: Iterable[str] = ()) -> Matches:
    """Read every list once and say which of `photo_ids` it names, and where `nsids` (or the
    account's path `aliases`, which photo page links may carry instead) own a row."""
    wanted = _Wanted(frozenset(ids.checked(p, ids.is_photo_id, "photo id").encode() for p in photo_ids),
                     frozenset(ids.checked(n, ids.is_nsid, "NSID").encode() for n in nsids)
                     | frozenset(ids.checked(a, ids.is_path_alias, "path alias").encode() for a in aliases))
    found, seen = Matches(), {}
    for path in paths:
        path = Path(path)
        read = ListRead(str(path))
        found.files.append(read)
        try:
            _read_list(path, read, wanted, found, seen, progress)
        except DatasetProblem as problem:
            found.problems.append(problem)
    return found


def _read_list(path: Path, read: ListRead, wanted: _Wanted, found: Matches, seen: dict, progress) -> None:
    opened = Opened(path)
    try:
        if opened.key in seen:
            read.same_as = seen[opened.key]
            return
        seen[opened.key] = str(path)
        read.compression = opened.compression
        kind = _detect(opened)
        read.dataset = kind.name
        _scan(opened, kind, read, wanted, found, progress)
    finally:
        read.text_bytes = opened.text_bytes
        opened.close()


def _detect(opened: Opened) -> formats.Format:
    sample = opened.sample()
    if not sample:
        raise DatasetProblem(opened.path, "is empty")
    if looks_binary(sample):
        raise DatasetProblem(opened.path, "holds binary data, not a list: expected " + formats.NAMES)
    kind = formats.detect(sample)
    if kind is None:
        raise DatasetProblem(opened.path, "is in a format exodus does not know: expected " + formats.NAMES)
    return kind


def _scan(opened: Opened, kind: formats.Format, read: ListRead, wanted: _Wanted, found: Matches,
          progress) -> None:
    """Every block's references recorded; what was read so far counts even if the file
    turns out cut short (the matches found are real)."""
    lines = LineBlocks(opened) if kind.whole_lines else None
    try:
        if lines is not None:
            for block in lines:
                _record(kind.refs(block), read, wanted, found)
                _tell(progress, opened)
        else:
            for block, limit in overlapping_blocks(opened, formats.FFHQ_MATCH_MAX):
                _record(kind.refs(block, limit), read, wanted, found)
                _tell(progress, opened)
    finally:
        if lines is not None:
            read.long_lines = lines.long_lines


def _record(refs: list[formats.Ref], read: ListRead, wanted: _Wanted, found: Matches) -> None:
    read.rows += len(refs)
    # Nearly every block names none of the account's ids: said by two set checks run in C,
    # before any row is looked at in Python.
    if wanted.photos.isdisjoint(map(_PHOTO, refs)) and wanted.owners.isdisjoint(map(_OWNER, refs)):
        return
    for photo, owner in refs:
        if photo in wanted.photos:
            _add(found.photos, photo, Listing(read.dataset, read.file, BY_PHOTO))
        elif owner in wanted.owners and photo and photo.isdigit() and len(photo) <= 20:
            # A column split rather than matched may hold anything: only an id is reported.
            _add(found.photos, photo, Listing(read.dataset, read.file, BY_OWNER))
        if owner in wanted.owners:
            _add(found.accounts, owner, Listing(read.dataset, read.file, BY_OWNER))


def _add(where: dict[str, set[Listing]], key: bytes, listing: Listing) -> None:
    where.setdefault(key.decode("ascii"), set()).add(listing)


def _tell(progress: Progress | None, opened: Opened) -> None:
    if progress is not None:
        progress(opened.path, opened.done, opened.size)
