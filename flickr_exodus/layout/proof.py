"""Reading a backed-up file as proof: the bytes of a regular file inside DEST, reached
without following any link, hashed through the same handle that was checked.

Verify and delete-remote read files through here. A name is a promise, not a proof: a file
swapped for a link to a copy elsewhere, or a folder of the path swapped for a link, would
otherwise be hashed in place of the file the catalog describes, and Flickr's copy deleted
on the strength of bytes that are not in the backup.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

CHUNK = 1 << 20
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
# O_NONBLOCK: a FIFO put where a file was must not hang the open (no effect on files).
_FILE_FLAGS = (os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_NOCTTY", 0))


class NotProvable(OSError):
    """The path does not lead, link-free, to a regular file inside DEST."""


@dataclass(frozen=True)
class Bytes:
    sha256: str
    size: int


def open_folder(dest: Path, relative: str) -> int:
    """A descriptor of the folder DEST/relative, opened one component at a time without
    following links. Raises NotProvable (a component is a link or not a folder),
    FileNotFoundError or another OSError; the caller closes it."""
    return _descend(dest, _plain_parts(relative), relative)


def _plain_parts(relative: str) -> tuple[str, ...]:
    parts = Path(relative).parts
    if not parts or Path(relative).is_absolute() or any(p in ("..", ".", "") for p in parts):
        raise NotProvable(f"{relative!r} is not a plain path inside the backup")
    return parts


def _descend(dest: Path, names: tuple[str, ...], relative: str) -> int:
    folder = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    try:
        for name in names:
            try:
                inner = os.open(name, _DIR_FLAGS, dir_fd=folder)
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise NotProvable(f"{relative}: {name} is a link or not a folder") from None
                raise
            os.close(folder)
            folder = inner
    except BaseException:
        os.close(folder)
        raise
    return folder


def open_in(folder: int, name: str, relative: str) -> BinaryIO:
    """The file `name` in an open folder (open_folder), not followed if a link, proved a
    regular file by fstat on the handle that will be read; `relative` names it in errors."""
    return os.fdopen(open_fd_in(folder, name, relative)[0], "rb")


def open_fd_in(folder: int, name: str, relative: str) -> tuple[int, os.stat_result]:
    """open_in as a bare descriptor and its fstat: for reads by offset (os.pread) of many
    small files, where a file object costs more than the reads. The caller closes it."""
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=folder)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotProvable(f"{relative} is a link") from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotProvable(f"{relative} is {'a folder' if stat.S_ISDIR(info.st_mode) else 'not a regular file'}")
    return fd, info


def open_regular(dest: Path, relative: str) -> BinaryIO:
    """The file at DEST/relative, opened one component at a time without following links
    (O_NOFOLLOW on every folder and on the file), and proved a regular file by fstat on
    the handle that will be read. Raises NotProvable (or FileNotFoundError, or another
    OSError) otherwise; the caller closes the handle."""
    parts = _plain_parts(relative)
    folder = _descend(dest, parts[:-1], relative)
    try:
        return open_in(folder, parts[-1], relative)
    finally:
        os.close(folder)


def hash_through(handle: BinaryIO, feed: Callable[[bytes], None] | None = None,
                 progress: Callable[[int], None] | None = None) -> Bytes:
    """sha256 and length of what `handle` holds from where it stands, in one read: each
    block also goes to `feed` (a structure walk) and its length, in batches, to
    `progress`. Verify, adopt and delete-remote's last look all read files through here."""
    digest = hashlib.sha256()
    size = pending = 0
    while block := handle.read(CHUNK):
        digest.update(block)
        if feed is not None:
            feed(block)
        pending += len(block)
        if pending >= 8 * CHUNK:
            if progress is not None:
                progress(pending)
            size += pending
            pending = 0
    if progress is not None:
        progress(pending)
    return Bytes(digest.hexdigest(), size + pending)


def read_proof(dest: Path, relative: str) -> Bytes:
    """sha256 and size of the regular file at DEST/relative, read link-free, now."""
    with open_regular(dest, relative) as handle:
        return hash_through(handle)
