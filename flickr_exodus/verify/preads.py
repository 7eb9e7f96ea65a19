"""A file read by offsets (os.pread) through a bare descriptor, for `verify --fast`: it
reads a few small parts of each of a million files, where making a file object costs
more than the reads themselves. The first block is read once and the early reads (magic
bytes, a header's pixel size, an MP4's first boxes) come from it."""

from __future__ import annotations

import errno
import os

FIRST_BLOCK = 4096  # one page: the magic bytes and most headers lie in it


class Preads:
    """What the format checks call of a file (read, seek, tell, fileno), by offsets; it
    owns the descriptor and closes it."""

    __slots__ = ("fd", "position", "first")

    def __init__(self, fd: int):
        self.fd = fd
        self.position = 0
        self.first: bytes | None = None  # the first FIRST_BLOCK bytes, once read

    def read(self, n: int = -1) -> bytes:
        start = self.position
        if n < 0:
            n = max(0, os.fstat(self.fd).st_size - start)
        if self.first is None:
            self.first = os.pread(self.fd, FIRST_BLOCK, 0)
        if start + n <= len(self.first):
            data = self.first[start:start + n]
        else:
            data = os.pread(self.fd, n, start)
        self.position = start + len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self.position
        elif whence == os.SEEK_END:
            offset += os.fstat(self.fd).st_size
        elif whence != os.SEEK_SET:
            raise ValueError(f"whence {whence}")
        if offset < 0:  # as a file object refuses it
            raise OSError(errno.EINVAL, "Invalid argument")
        self.position = offset
        return offset

    def tell(self) -> int:
        return self.position

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> "Preads":
        return self

    def __exit__(self, *_) -> None:
        self.close()
