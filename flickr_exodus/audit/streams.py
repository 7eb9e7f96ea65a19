"""A published list read without holding it: its compression told by its first bytes, never
by its name; then whole lines in blocks of about a MiB (a line longer than MAX_LINE is
skipped and counted, never gathered), or overlapping blocks for a file that may be a
single line (FFHQ's JSON). Memory stays near two blocks whatever the file's size."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import stat
import zlib
from pathlib import Path
from typing import Iterator

from ..progress import clean

BLOCK = 1 << 20
MAX_LINE = 1 << 20
# Only the first line of a block can reach past MAX_LINE (it may have begun in the block
# before); every other line lies inside one read of BLOCK bytes.
assert BLOCK <= MAX_LINE
SAMPLE = 64 << 10  # what format detection looks at
# Compressions Python reads without extra packages, by their magic numbers.
COMPRESSED = ((b"BZh", "bz2", bz2.BZ2File), (b"\x1f\x8b", "gzip", lambda raw: gzip.GzipFile(fileobj=raw)),
              (b"\xfd7zXZ\x00", "xz", lzma.LZMAFile))
ARCHIVES = ((b"PK\x03\x04", "a zip archive"), (b"\x28\xb5\x2f\xfd", "zstd-compressed"),
            (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"), (b"Rar!", "a RAR archive"))


class DatasetProblem(Exception):
    """One dataset file that cannot be read (or not to its end): one line, naming the file."""

    def __init__(self, path: Path, what: str):
        super().__init__(f"{clean(path)}: {what}")
        self.path = path


class Opened:
    """One list file, open: its text through `read` (decompressed), how far into the file on
    disk it is (`done`), and its identity on disk (`key`: the same file given twice)."""

    def __init__(self, path: Path):
        self.path = path
        try:  # stat first: opening a FIFO would wait for a writer
            info = os.stat(path)
        except OSError as error:
            raise DatasetProblem(path, f"cannot be read ({error.strerror})") from None
        if not stat.S_ISREG(info.st_mode):
            raise DatasetProblem(path, "is not a file")
        self.key, self.size = (info.st_dev, info.st_ino), info.st_size
        try:
            self.raw = open(path, "rb")
            head = self.raw.read(8)
            self.raw.seek(0)
        except OSError as error:
            raise DatasetProblem(path, f"cannot be read ({error.strerror})") from None
        self.compression, self.stream = "plain", self.raw
        for magic, name, opener in COMPRESSED:
            if head.startswith(magic):
                self.compression, self.stream = name, opener(self.raw)
        for magic, name in ARCHIVES:
            if head.startswith(magic):
                self.close()
                raise DatasetProblem(path, f"is {name}: unpack it first, then give the list inside")
        self.text_bytes = 0
        self._pending = b""

    def sample(self) -> bytes:
        """The first SAMPLE bytes of text, read again by the next `read`."""
        self._pending = self.read(SAMPLE)
        self.text_bytes = 0
        return self._pending

    def read(self, size: int) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
        else:
            data = self._read(size)
        self.text_bytes += len(data)
        return data

    def _read(self, size: int) -> bytes:
        try:
            return self.stream.read(size)
        except EOFError:
            raise DatasetProblem(self.path, f"the {self.compression} data ends early, after "
                                            f"{self.text_bytes / 1e6:.1f} MB of text: the download is incomplete"
                                 ) from None
        except (OSError, lzma.LZMAError, zlib.error) as error:
            what = f"the {self.compression} data is damaged" if self.compression != "plain" else "cannot be read"
            raise DatasetProblem(self.path, f"{what} after {self.text_bytes / 1e6:.1f} MB of text ({error})"
                                 ) from None

    @property
    def done(self) -> int:
        """Bytes of the file on disk consumed so far (compressed, if it is)."""
        return self.raw.tell()

    def close(self) -> None:
        self.stream.close()
        self.raw.close()


def looks_binary(sample: bytes) -> bool:
    """A NUL, or more control bytes than any text list has (1 in 20): an image, an archive, a
    database. Text in any 8-bit encoding passes; only the ASCII parts of a line are matched."""
    if b"\x00" in sample:
        return True
    controls = sum(sample.count(bytes([c])) for c in range(1, 32) if c not in (9, 10, 12, 13))
    return controls * 20 > len(sample)


class LineBlocks:
    """Blocks of whole lines of an open list, each ending with a newline, counting the long
    lines skipped."""

    def __init__(self, opened: Opened):
        self.opened = opened
        self.long_lines = 0

    def __iter__(self) -> Iterator[bytes]:
        carry, skipping = b"", False
        while chunk := self.opened.read(BLOCK):
            if skipping:  # the rest of a long line: dropped as it comes
                end = chunk.find(b"\n")
                if end < 0:
                    continue
                chunk, skipping = chunk[end + 1:], False
            cut = chunk.rfind(b"\n") + 1
            if not cut:
                carry += chunk
                if len(carry) > MAX_LINE:
                    self.long_lines += 1
                    carry, skipping = b"", True
                continue
            start = 0
            if len(carry) + chunk.find(b"\n") > MAX_LINE:
                self.long_lines += 1
                carry, start = b"", chunk.find(b"\n") + 1
            # One copy at most: the carried part of a line joined to the lines that end it.
            block = b"".join((carry, memoryview(chunk)[start:cut])) if carry or start or cut < len(chunk) else chunk
            carry = chunk[cut:]
            if block:
                yield block
        if carry and not skipping:  # a last line without its newline gets one: every block ends a line
            yield carry + b"\n"


def overlapping_blocks(opened: Opened, overlap: int) -> Iterator[tuple[bytes, int]]:
    """(block, limit): a match of at most `overlap` bytes that starts before `limit` lies whole
    in this block, and one that starts at or after it is found again in the next block."""
    tail = b""
    while chunk := opened.read(BLOCK):
        data = tail + chunk
        limit = max(len(data) - overlap, 0)
        yield data, limit
        tail = data[limit:]
    if tail:
        yield tail, len(tail)
