"""Is a file whole? A check of each kept format's own structure, so that a file cut short
never verifies, whatever its header, its hash in the catalog or Flickr's facts say (the
head of a JPEG carries the full pixel size; a hash only proves what we wrote).

Two ways of checking, chosen per format so that verify still reads each file once:

- streamed (JPEG, PNG, GIF): a walker is fed the very blocks the hash reads. It skips
  length-delimited parts without looking at them and scans JPEG entropy-coded data with
  one C-level regex search per block, so it costs little next to sha256.
- seeked (ISO BMFF: MP4, MOV, 3GP, M4V, HEIC; RIFF: WEBP, AVI; BMP; TIFF): the format
  states its own extents, so a few small reads at the offsets it names suffice, whatever
  the file's size. These are cheap enough for `verify --fast` too.

MKV and MPEG are not checked (their structure is not length-prefixed at the top level, a
walk would mean parsing the whole stream): `NOT_CHECKED`, never a failure.

What "whole" means, per format:
- JPEG: a walk of the segments from SOI, through the entropy-coded data of every scan,
  reaches EOI. After it: zero padding; further JPEGs (MPF images), walked alike; a motion
  photo's MP4 (found by its ftyp box), whose boxes must run to the end of the file (or to
  Samsung's SEF trailer, ending in SEFT). An MPF index's images must all be there. Any
  other trailer: UNCHECKED.
- PNG: a chunk walk reaches the end of IEND (its CRC). Bytes after IEND are allowed,
  like a JPEG's trailer: they cannot hide a missing part of the image.
- GIF: a block walk reaches the trailer (0x3B); bytes after it are allowed.
- ISO BMFF: the top-level boxes add up exactly to the file size, and the boxes that
  carry the content are there (a cut exactly between two boxes leaves whole boxes):
  moov and mdat for a video, and the file reaches the end of the media its sample tables
  (stco/co64, stsc, stsz) name; for HEIC, meta, and every extent its iloc names lies
  inside the file. Where the tables cannot tell, a fragmented movie or one whose mdat
  runs "to the end of the file" is UNCHECKED.
- RIFF: the RIFF chunks (one for WEBP; AVI may chain AVIX chunks) add up exactly to the
  file size.
- BMP: the header's file size (if non-zero) equals the file size, and the pixel array
  lies inside the file.
- TIFF: every IFD of the first chain, every value it points to, and every strip or tile
  lies inside the file.
"""

from __future__ import annotations

import operator
import os
import re
import stat
import struct
import sys
from array import array
from typing import BinaryIO, Iterator, NamedTuple

from . import magic

TRUNCATED = "truncated"   # the structure says more bytes follow than the file has
MALFORMED = "malformed"   # the structure is broken in another way (e.g. bytes after the last box)
# Not a fault: this one file's structure could not be checked (a fragmented MP4, an MP4
# whose mdat runs to the end of the file with unreadable sample tables, a JPEG followed by
# bytes exodus does not know). Neither whole nor damaged: a caller counts it like MKV.
UNCHECKED = "unchecked"

NOT_CHECKED = frozenset({"mkv", "mpeg"})
BLOCK = 1 << 20
MAX_BOXES = 1_000_000     # top-level boxes or RIFF chunks; real files have a handful
MAX_IFDS = 10_000
MAX_ARRAY = 1 << 22       # strips or tiles read per IFD (4M entries, at most 32 MB)
MAX_ILOC = 16 << 20       # a real HEIC's item locations take a few KB
# Steps of a streamed walk (segments, chunks, GIF sub-blocks): real files take one per
# 255 bytes at most (GIF); a file made of 2-byte markers would keep Python busy for hours.
STEPS_FREE, BYTES_PER_STEP = 1_000_000, 64


class Flaw(NamedTuple):
    kind: str     # TRUNCATED | MALFORMED
    detail: str   # one line, naming the format and what is missing

    def __str__(self) -> str:
        return self.detail


# --- streamed: JPEG, PNG, GIF ------------------------------------------------------

class Walk:
    """A walk over a file fed in blocks of any size. Subclasses implement `_step(data, i)`:
    look at data[i:] in the current state and return the index of the next unread byte,
    an index past the end of data (those bytes are skipped without being looked at), or
    None when it needs a few more bytes than data holds (they are carried over; no step
    ever needs more than a few dozen). The walk ends when a step sets `over`."""

    fmt = ""

    def __init__(self) -> None:
        self.over = False
        self.flaw: Flaw | None = None
        self._carry = b""
        self._skip = 0
        self._fed = 0        # bytes fed so far
        self._base = 0       # absolute offset of data[0] during a feed
        self.steps = 0
        self.state = "start"

    def feed(self, block: bytes) -> None:
        if self.over:
            self._fed += len(block)
            return
        if self._skip >= len(block):
            self._skip -= len(block)
            self._fed += len(block)
            return
        data = self._carry + block if self._carry else block
        self._base = self._fed - len(self._carry)
        self._fed += len(block)
        i, self._skip, self._carry = self._skip, 0, b""
        while i < len(data) and not self.over:
            self.steps += 1
            if self.steps > STEPS_FREE + self._fed // BYTES_PER_STEP:
                self._fail(i, MALFORMED, f"more than {self.steps - 1} segments in {self._fed} bytes")
                return
            after = self._step(data, i)
            if after is None:
                self._carry = data[i:]
                return
            i = after
        if i > len(data) and not self.over:
            self._skip = i - len(data)

    def finish(self) -> Flaw | None:
        """After the last block: None if the walk reached the format's end."""
        if self.over:
            return self.flaw
        return Flaw(TRUNCATED, f"{self.fmt}: the file ends at byte {self._fed} {self._where()}")

    def _fail(self, i: int, kind: str, what: str) -> int:
        self.over = True
        self.flaw = Flaw(kind, f"{self.fmt}: {what} at byte {self._base + i}")
        return i

    def _done(self, i: int) -> int:
        self.over = True
        return i

    def _where(self) -> str:
        raise NotImplementedError

    def _step(self, data: bytes, i: int) -> int | None:
        raise NotImplementedError


# In entropy-coded data a 0xFF is followed by 0x00 (a stuffed byte) or by a restart
# marker (D0-D7); anything else is a marker that ends the scan (FF FF: fill before one).
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_FILL = re.compile(rb"\xff+")
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


class JpegWalk(Walk):
    """A JPEG's segments and scans up to its end-of-image marker, then what follows it:
    nothing or zero padding; another JPEG (MPF images, a gain map), walked the same way;
    a video (a motion photo's MP4, found by its ftyp box), walked box by box to the end of
    the file. Any other trailer leaves the file UNCHECKED. An MPF index (APP2) names the
    end of every image it lists; the file must reach it."""

    fmt = "JPEG"

    def __init__(self) -> None:
        super().__init__()
        self.scans = 0
        self.images = 1         # the image being walked: 2 and on follow the first
        self.video: BmffWalk | None = None
        self.needs = 0          # the end of the last image an MPF index lists
        self._trail = 0         # where the last image ended
        self._lead = 0          # where trailer bytes exodus does not know yet begin

    def feed(self, block: bytes) -> None:
        if self.video is None:
            super().feed(block)
        else:
            self._fed += len(block)
            self.video.feed(block)

    def finish(self) -> Flaw | None:
        if self.needs > self._fed:
            return Flaw(TRUNCATED, f"JPEG: its MPF index lists an image up to byte {self.needs}, "
                                   f"the file ends {self.needs - self._fed} bytes short")
        if self.video is not None:
            return self.video.finish()
        if self.over or self.state == "trailer":
            return self.flaw
        if self.state == "lead" and b"\xff\xd8\xff".startswith(self._carry[:3]):
            self.state = "start"        # the start of another image, cut short
        if self.state in ("lead", "search"):
            return self._unknown()
        return super().finish()

    def _where(self) -> str:
        where = {"start": "before its start-of-image marker",
                 "marker": "before its end-of-image marker (FFD9)",
                 "scan": f"inside the entropy-coded data of scan {self.scans}, "
                         "before its end-of-image marker (FFD9)"}[self.state]
        return where if self.images == 1 else f"{where}, in image {self.images} (after the first's end)"

    def _step(self, data: bytes, i: int) -> int | None:
        state = self.state
        if state == "scan":
            found = _SCAN_END.search(data, i)
            if found:
                self.state = "marker"
                return found.start()
            # Keep a last 0xFF: the byte after it decides what it is.
            last = len(data) - 1 if data[-1] == 0xFF else len(data)
            return None if last == i else last
        if state == "marker":
            return self._marker(data, i)
        if state == "start":
            if len(data) - i < 2:
                return None
            if data[i:i + 2] != b"\xff\xd8":
                return self._fail(i, MALFORMED, "no start-of-image marker")
            self.state = "marker"
            return i + 2
        return {"trailer": self._trailer, "lead": self._lead_in, "search": self._search}[state](data, i)

    def _marker(self, data: bytes, i: int) -> int | None:
        if data[i] != 0xFF:
            # Stray bytes between segments: decoders skip to the next marker, so do we.
            at = data.find(b"\xff", i)
            return len(data) if at < 0 else at
        fills = _FILL.match(data, i).end()
        if fills - i > 1:
            return fills - 1            # keep one 0xFF: the marker's own
        if len(data) - i < 2:
            return None
        code = data[i + 1]
        if code == 0xD9:
            if not self.scans:
                return self._fail(i, MALFORMED, "end-of-image before any image data")
            self.state, self._trail = "trailer", self._base + i + 2
            return i + 2
        if code in _STANDALONE:
            return i + 2
        if code == 0xD8:
            return self._fail(i, MALFORMED, "a second start-of-image marker")
        if len(data) - i < 4:
            return None
        (length,) = struct.unpack_from(">H", data, i + 2)
        if length < 2:
            return self._fail(i, MALFORMED, f"a segment FF{code:02X} of length {length}")
        if code == 0xDA:
            self.state = "scan"
            self.scans += 1
        elif code == 0xE2:              # APP2: an MPF index needs the whole segment
            if len(data) - i < 8 or (data[i + 4:i + 8] == b"MPF\0" and len(data) - i < 2 + length):
                return None
            if data[i + 4:i + 8] == b"MPF\0":
                self.needs = max(self.needs, _mpf_needs(data[i + 8:i + 2 + length], self._base + i + 8))
        return i + 2 + length

    def _trailer(self, data: bytes, i: int) -> int:
        """After an image's end: zero padding is skipped; anything else is looked at."""
        found = _NONZERO.search(data, i)
        if found is None:
            return len(data)
        self.state, self._lead = "lead", self._base + found.start()
        return found.start()

    def _lead_in(self, data: bytes, i: int) -> int | None:
        if len(data) - i < 3:
            return None
        if data[i:i + 3] == b"\xff\xd8\xff":
            self.state, self.scans = "start", 0
            self.images += 1
        else:
            self.state = "search"
        return i

    def _search(self, data: bytes, i: int) -> int | None:
        """A video's ftyp box within TRAILER_SEARCH bytes of the trailer's start (a
        Samsung motion photo puts a marker before it); a box of its own if found."""
        at = data.find(b"ftyp", i)
        while at >= 0 and self._base + at - 4 - self._lead <= TRAILER_SEARCH:
            if at + 8 > len(data):      # its brand is in the next block
                return None
            box = at - 4
            # The high bytes of its size may be zeros the padding skip went past.
            zeros = max(0, i - box)
            if not zeros or (self._base + i == self._lead and self._base + box >= self._trail):
                start = bytes(zeros) + data[box + zeros:at + 8]
                if _plausible_ftyp(start, 0):
                    self.video = BmffWalk(self._base + box, data[max(0, box - 16):box] == _SAMSUNG)
                    self.video.feed(bytes(zeros) + data[box + zeros:])
                    return len(data)
            at = data.find(b"ftyp", at + 1)
        if self._base + len(data) - self._lead > TRAILER_SEARCH:
            self.over, self.flaw = True, self._unknown()
            return i
        # Keep enough for a box header and the Samsung marker before it.
        return None if len(data) - i <= 32 else len(data) - 32

    def _unknown(self) -> Flaw:
        return Flaw(UNCHECKED, f"JPEG: structure not checked: {self._fed - self._lead} bytes after its "
                               f"end-of-image marker (from byte {self._lead}) that are no image or video "
                               f"exodus knows")


_NONZERO = re.compile(rb"[^\x00]")
# The name of the Samsung trailer block that holds a motion photo's MP4: a SEF trailer
# (more blocks, then a directory SEFH ... its size, SEFT) follows the video.
_SAMSUNG = b"MotionPhoto_Data"
TRAILER_SEARCH = 64 << 10       # how far into a JPEG's trailer a video's ftyp box is looked for
MAX_MOOV_HELD = 4 << 20         # a motion photo's movie header takes a few KB
MAX_MPF_IMAGES = 1000


def _box_name(name: bytes) -> bool:
    """Four printable characters (QuickTime's may start with ©)."""
    return all(32 <= c < 127 or c == 0xA9 for c in name)


def _plausible_ftyp(data: bytes, box: int) -> bool:
    """An ftyp box starts here: a sane size, and a brand of printable characters."""
    (size,) = struct.unpack_from(">I", data, box)
    return 16 <= size <= 4096 and all(48 <= c < 123 or c == 32 for c in data[box + 8:box + 12])


def _mpf_needs(body: bytes, base: int) -> int:
    """The end of the last image an MPF index lists (its offsets count from `base`, the
    MPF header; the first image, at offset 0, from the start of the file); 0 when the
    index cannot be read, then the walk alone decides."""
    order = {b"II": "<", b"MM": ">"}.get(body[:2])
    if order is None:
        return 0
    needs = 0
    try:
        (ifd,) = struct.unpack_from(order + "I", body, 4)
        (count,) = struct.unpack_from(order + "H", body, ifd)
        for n in range(count):
            tag, _, number, value = struct.unpack_from(order + "HHII", body, ifd + 2 + 12 * n)
            if tag != 0xB002:           # MPEntry: 16 bytes per image
                continue
            for k in range(min(number // 16, MAX_MPF_IMAGES)):
                _, size, offset = struct.unpack_from(order + "III", body, value + 16 * k)
                needs = max(needs, size if offset == 0 else base + offset + size)
    except struct.error:
        pass
    return needs


class BmffWalk(Walk):
    """The top-level boxes of an MP4 fed in blocks: the video of a motion photo, after its
    JPEG, to the end of the file (or to a Samsung trailer, SEFH ... SEFT). Its offsets
    count from the MP4's first byte, at `start` in the file. Whole when the boxes add up,
    moov and mdat are there, and the file reaches the end of the media data the sample
    tables name (moov is held for that, if small)."""

    fmt = "JPEG: the video after the image (MP4)"

    def __init__(self, start: int, samsung: bool = False) -> None:
        super().__init__()
        self.start = start
        self.samsung = samsung          # a SEF trailer must follow
        self.state = "box"
        self.names: set[bytes] = set()
        self.box = (b"", 0)             # the last box begun: (type, offset)
        self.mdat: tuple[int, int | None] | None = None   # the first mdat's payload; None: to the end
        self.moov: bytes | None = None
        self.sef: int | None = None
        self._held: list[bytes] = []
        self._left = 0

    def _fail(self, i: int, kind: str, what: str) -> int:
        self.over = True
        self.flaw = Flaw(kind, f"{self.fmt}: {what} at byte {self.start + self._base + i}")
        return i

    def _step(self, data: bytes, i: int) -> int | None:
        state = self.state
        if state == "rest":
            return len(data)
        if state == "hold":
            take = min(self._left, len(data) - i)
            self._held.append(data[i:i + take])
            self._left -= take
            if not self._left:
                self.moov, self._held, self.state = b"".join(self._held), [], "box"
            return i + take
        if state == "sef":              # keep the last 8 bytes: its size and SEFT
            return None if len(data) - i <= 8 else len(data) - 8
        if len(data) - i < 8:
            return None
        at = self._base + i
        size, name = struct.unpack_from(">I4s", data, i)
        if self.samsung and (data[i:i + 4] == b"SEFH" or not _box_name(name)):
            self.state, self.sef = "sef", at     # the Samsung blocks after the video
            return i
        head = 8
        if size == 1:
            if len(data) - i < 16:
                return None
            (size,) = struct.unpack_from(">Q", data, i + 8)
            head = 16
        self.names.add(name)
        self.box = (name, at)
        if size == 0:                   # "to the end of the file"
            if name != b"mdat":
                return self._fail(i, MALFORMED, f"the box '{_label(name)}' claims the rest of the file")
            self.mdat = self.mdat or (at + head, None)
            self.state = "rest"
            return len(data)
        if size < head:
            return self._fail(i, MALFORMED, f"the box '{_label(name)}' has a size of {size}")
        if name == b"mdat" and self.mdat is None:
            self.mdat = (at + head, at + size)
        if name == b"moov" and self.moov is None and 0 < size - head <= MAX_MOOV_HELD:
            self.state, self._left = "hold", size - head
            return i + head
        return i + size

    def finish(self) -> Flaw | None:
        if self.over:
            return self.flaw
        end = self._fed
        if self.state == "sef":
            tail = self._carry
            if tail[-4:] != b"SEFT" or int.from_bytes(tail[-8:-4], "little") + 8 > end - self.sef:
                return Flaw(TRUNCATED, f"{self.fmt}: its Samsung trailer (from byte {self.start + self.sef}) "
                                       f"does not end with its directory's size and SEFT")
            end = self.sef
        elif self.samsung and not self._skip and not self._carry and self.state == "box":
            return Flaw(TRUNCATED, f"{self.fmt}: the file ends at byte {self.start + end}, before the "
                                   f"Samsung trailer (SEFH ... SEFT) its marker promises")
        elif self.state == "hold" or self._skip or self._carry:
            name, at = self.box
            return Flaw(TRUNCATED, f"{self.fmt}: the file ends inside the box '{_label(name)}' "
                                   f"at byte {self.start + at}")
        for name in (b"moov", b"mdat"):
            if name not in self.names:
                return Flaw(TRUNCATED, f"{self.fmt}: no '{name.decode()}' box")
        return self._extent(end)

    def _extent(self, end: int) -> Flaw | None:
        open_ended = self.mdat[1] is None
        try:
            if b"moof" in self.names:
                raise Unreadable("a fragmented movie (its media lies in movie fragments)")
            if self.moov is None:
                raise Unreadable(f"a movie header over {MAX_MOOV_HELD} bytes")
            extent = media_extent(self.moov)
        except Unreadable as why:
            if open_ended or b"moof" in self.names:
                return Flaw(UNCHECKED, f"{self.fmt}: structure not checked: {why}")
            return None
        # Offsets count from the MP4's start (phones append a file of its own); a writer
        # that counted from the JPEG's is told by where its first chunk falls.
        shift = next((s for s in (0, self.start) if self._in_mdat(extent.first - s)), None)
        if shift is None:
            return Flaw(UNCHECKED, f"{self.fmt}: structure not checked: its sample tables point "
                                   f"outside its media data")
        if extent.end - shift > end:
            return Flaw(TRUNCATED, f"{self.fmt}: its sample tables put media data up to byte "
                                   f"{self.start + extent.end - shift}, the file ends "
                                   f"{extent.end - shift - end} bytes short")
        return None

    def _in_mdat(self, offset: int) -> bool:
        start, stop = self.mdat
        return offset >= start and (stop is None or offset < stop)

    def _where(self) -> str:
        return ""


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PngWalk(Walk):
    fmt = "PNG"

    def __init__(self) -> None:
        super().__init__()
        self.chunk = b""
        self.idat = False

    def _where(self) -> str:
        if self.state == "start":
            return "inside its signature"
        return f"before the end of its IEND chunk (last chunk seen: '{_label(self.chunk)}')"

    def _step(self, data: bytes, i: int) -> int | None:
        if self.state == "last":        # the final byte of IEND's CRC is there
            return self._done(i + 1)
        if self.state == "start":
            if len(data) - i < 8:
                return None
            if data[i:i + 8] != _PNG_SIGNATURE:
                return self._fail(i, MALFORMED, "no PNG signature")
            self.state = "chunk"
            return i + 8
        if len(data) - i < 8:
            return None
        length, self.chunk = struct.unpack_from(">I4s", data, i)
        if length > 0x7FFFFFFF:
            return self._fail(i, MALFORMED, f"a chunk length of {length}")
        self.idat = self.idat or self.chunk == b"IDAT"
        if self.chunk == b"IEND":
            if not self.idat:
                return self._fail(i, MALFORMED, "IEND before any image data (IDAT)")
            self.state = "last"
            return i + 8 + length + 3
        return i + 12 + length


def _label(name: bytes) -> str:
    """A four-character code as printable text: these come from the file, never trust them."""
    return "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in name)


class GifWalk(Walk):
    fmt = "GIF"

    def _where(self) -> str:
        return "before its trailer (0x3B)"

    def _step(self, data: bytes, i: int) -> int | None:
        state = self.state
        if state == "sub":
            return self._sub_blocks(data, i)
        need = {"start": 13, "block": 1, "image": 10, "label": 1}[state]
        if len(data) - i < need:
            return None
        if state == "start":
            if data[i:i + 6] not in (b"GIF87a", b"GIF89a"):
                return self._fail(i, MALFORMED, "no GIF signature")
            self.state = "block"
            return i + 13 + _colour_table(data[i + 10])
        if state == "block":
            introducer = data[i]
            if introducer == 0x3B:
                return self._done(i + 1)
            if introducer not in (0x2C, 0x21):
                return self._fail(i, MALFORMED, f"an unknown block 0x{introducer:02X}")
            self.state = "image" if introducer == 0x2C else "label"
            return i + 1
        self.state = "sub"
        if state == "image":            # descriptor (9 bytes), local colour table, LZW code size
            return i + 9 + _colour_table(data[i + 8]) + 1
        return i + 1                    # an extension's label

    def _sub_blocks(self, data: bytes, i: int) -> int:
        end = len(data)
        while i < end:
            self.steps += 1
            size = data[i]
            if not size:
                self.state = "block"
                return i + 1
            i += 1 + size
        return i


def _colour_table(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


WALKS = {"jpg": JpegWalk, "png": PngWalk, "gif": GifWalk}


def walker(kind: str | None) -> Walk | None:
    """A fresh streaming check for this kind, or None when the kind is not streamed."""
    walk = WALKS.get(kind or "")
    return walk() if walk else None


# --- seeked: ISO BMFF, RIFF, BMP, TIFF ----------------------------------------------

class _Reader:
    """Exact reads at offsets of one open file; a short read means the file ends there."""

    def __init__(self, handle: BinaryIO, size: int):
        self.handle = handle
        self.size = size

    def at(self, offset: int, n: int) -> bytes | None:
        if offset < 0 or offset + n > self.size:
            return None
        self.handle.seek(offset)
        data = self.handle.read(n)
        return data if len(data) == n else None


_BMFF_NAMES = {"mp4": "MP4", "mov": "MOV", "3gp": "3GP", "m4v": "M4V", "heic": "HEIC"}


def _bmff(read: _Reader, kind: str) -> Flaw | None:
    fmt = _BMFF_NAMES[kind]
    boxes: dict[bytes, tuple[int, int]] = {}    # first box of each type: (payload start, end)
    position, open_ended = 0, False
    for _ in range(MAX_BOXES):
        if position == read.size:
            break
        header = read.at(position, 8)
        if header is None:
            return Flaw(TRUNCATED, f"{fmt}: {read.size - position} bytes after the last whole box "
                                   f"(at byte {position}): too few for a box header")
        size, name = struct.unpack(">I4s", header)
        payload = position + 8
        if size == 1:
            wide = read.at(position + 8, 8)
            if wide is None:
                return Flaw(TRUNCATED, f"{fmt}: the file ends inside the header of the box at byte {position}")
            (size,) = struct.unpack(">Q", wide)
            payload += 8
        label = _label(name)
        if size == 0:               # "to the end of the file": what recorders write for mdat
            if name != b"mdat":
                return Flaw(MALFORMED, f"{fmt}: the box '{label}' at byte {position} claims the rest of the file")
            size = read.size - position
            open_ended = True
        if size < payload - position:
            return Flaw(MALFORMED, f"{fmt}: the box '{label}' at byte {position} has a size of {size}")
        boxes.setdefault(name, (payload, position + size))
        if position + size > read.size:
            return Flaw(TRUNCATED, f"{fmt}: the box '{label}' at byte {position} needs {size} bytes, "
                                   f"the file ends {position + size - read.size} bytes short")
        position += size
    else:
        return Flaw(MALFORMED, f"{fmt}: more than {MAX_BOXES} top-level boxes")
    if kind == "heic":
        if b"meta" not in boxes:
            return Flaw(TRUNCATED, f"{fmt}: no 'meta' box (the image's description)")
        return _iloc_extents(read, fmt, *boxes[b"meta"])
    for name in (b"moov", b"mdat"):
        if name not in boxes:
            return Flaw(TRUNCATED, f"{fmt}: no '{name.decode()}' box after {read.size} bytes "
                                   f"({'the movie header' if name == b'moov' else 'the media data'})")
    return _movie_extent(read, fmt, boxes, open_ended)


def _movie_extent(read: _Reader, fmt: str, boxes: dict, open_ended: bool) -> Flaw | None:
    """The file reaches the end of the media data its sample tables name. Where they
    cannot tell: a fragmented movie, or one whose mdat runs "to the end of the file"
    (nothing else bounds it), is UNCHECKED; any other stands on its box sum."""
    start, stop = boxes[b"moov"]
    try:
        if b"moof" in boxes:
            raise Unreadable("a fragmented movie (its media lies in movie fragments)")
        if stop - start > MAX_MOOV:
            raise Unreadable(f"a movie header of {stop - start} bytes")
        extent = media_extent(read.at(start, stop - start))
    except Unreadable as why:
        if open_ended or b"moof" in boxes:
            return Flaw(UNCHECKED, f"{fmt}: structure not checked: {why}")
        return None     # the boxes add up and moov and mdat are there: as far as can be told
    if extent.end > read.size:
        return Flaw(TRUNCATED, f"{fmt}: the sample tables put media data up to byte {extent.end}, "
                               f"the file ends {extent.end - read.size} bytes short")
    return None


def _iloc_extents(read: _Reader, fmt: str, start: int, end: int) -> Flaw | None:
    """Every extent the HEIC item locations (meta/iloc) put in this file lies inside it."""
    position = start + 4                        # meta is a full box: version and flags
    while position + 8 <= end:
        header = read.at(position, 8)
        size, name = struct.unpack(">I4s", header)
        if size < 8 or position + size > end:
            return Flaw(MALFORMED, f"{fmt}: a box of size {size} inside 'meta' at byte {position}")
        if name == b"iloc":
            if size > MAX_ILOC:
                return Flaw(MALFORMED, f"{fmt}: an item location box (iloc) of {size} bytes")
            body = read.at(position + 8, size - 8)
            return _check_iloc(body, read.size, fmt) if body is not None else None
        position += size
    return None


def _check_iloc(body: bytes, file_size: int, fmt: str) -> Flaw | None:
    bad = Flaw(MALFORMED, f"{fmt}: the item locations (iloc) are cut short")
    if len(body) < 8:
        return bad
    version = body[0]
    offset_size, length_size = body[4] >> 4, body[4] & 15
    base_size, index_size = body[5] >> 4, (body[5] & 15 if version in (1, 2) else 0)
    at = 6
    wide = version == 2
    try:
        (count,) = struct.unpack_from(">I" if wide else ">H", body, at)
        at += 4 if wide else 2
        for _ in range(count):
            at += 4 if wide else 2                  # item id
            method = 0
            if version in (1, 2):
                method = struct.unpack_from(">H", body, at)[0] & 15
                at += 2
            (reference,) = struct.unpack_from(">H", body, at)
            base = _uint(body, at + 2, base_size)
            at += 2 + base_size
            (extents,) = struct.unpack_from(">H", body, at)
            at += 2
            for _ in range(extents):
                at += index_size
                offset, length = _uint(body, at, offset_size), _uint(body, at + offset_size, length_size)
                at += offset_size + length_size
                if method == 0 and reference == 0 and base + offset + length > file_size:
                    return Flaw(TRUNCATED, f"{fmt}: an image item's data at byte {base + offset} needs "
                                           f"{length} bytes, the file ends {base + offset + length - file_size}"
                                           f" bytes short")
    except (struct.error, IndexError):
        return bad
    return None


def _uint(body: bytes, at: int, size: int) -> int:
    if size == 0:
        return 0
    if at + size > len(body):
        raise IndexError
    return int.from_bytes(body[at:at + size], "big")


# --- ISO BMFF sample tables: where a movie's media data must end -------------------------

MAX_MOOV = 32 << 20         # a two-hour film's movie header takes a few MB
MAX_INNER_BOXES = 100_000   # boxes looked at inside one moov; real ones have a few hundred
MAX_SAMPLES = 1 << 22       # chunk offsets and sample sizes read over all tracks
_CONTAINERS = (b"mdia", b"minf", b"stbl")
_TABLES = (b"stco", b"co64", b"stsc", b"stsz", b"stz2", b"dinf")


class Unreadable(Exception):
    """The sample tables cannot say where the media ends (fragmented, damaged, absurd)."""


class Extent(NamedTuple):
    first: int   # the lowest chunk offset
    end: int     # one past the last byte of the last sample, over every track


def media_extent(moov: bytes) -> Extent:
    """Where the samples of every track lie, by the tables in a moov box's payload:
    chunk offsets (stco/co64), samples per chunk (stsc), sample sizes (stsz/stz2).
    Offsets are those the file states (from the start of the file the moov was written
    for). Raises Unreadable when they cannot tell."""
    try:
        return _extent(moov)
    except (struct.error, IndexError, OverflowError) as error:
        raise Unreadable(f"sample tables cut short ({error})") from None


def _extent(moov: bytes) -> Extent:
    budget = [MAX_INNER_BOXES, MAX_SAMPLES]
    first, end = None, 0
    for name, start, stop in _children(moov, 0, len(moov), budget):
        if name == b"mvex":
            raise Unreadable("a fragmented movie (its media lies in movie fragments)")
        if name != b"trak":
            continue
        track = _track_extent(moov, start, stop, budget)
        if track is not None:
            first = track.first if first is None else min(first, track.first)
            end = max(end, track.end)
    if first is None:
        raise Unreadable("no track with samples in the movie header")
    return Extent(first, end)


def _children(data: bytes, start: int, stop: int, budget: list[int]) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, end) of each box in data[start:stop]."""
    at = start
    while at + 8 <= stop:
        budget[0] -= 1
        if budget[0] < 0:
            raise Unreadable(f"more than {MAX_INNER_BOXES} boxes in the movie header")
        size, name = struct.unpack_from(">I4s", data, at)
        head = 8
        if size == 1:
            if at + 16 > stop:
                raise Unreadable(f"a box '{_label(name)}' cut short in the movie header")
            (size,) = struct.unpack_from(">Q", data, at + 8)
            head = 16
        elif size == 0:
            size = stop - at
        if size < head or at + size > stop:
            raise Unreadable(f"a box '{_label(name)}' of {size} bytes in the movie header")
        yield name, at + head, at + size
        at += size


def _find(data: bytes, start: int, stop: int, budget: list[int], path: tuple[bytes, ...]) -> tuple[int, int] | None:
    for name in path:
        found = next(((s, e) for n, s, e in _children(data, start, stop, budget) if n == name), None)
        if found is None:
            return None
        start, stop = found
    return start, stop


def _track_extent(data: bytes, start: int, stop: int, budget: list[int]) -> Extent | None:
    """The extent of one track's samples; None for a track without any."""
    stbl = _find(data, start, stop, budget, _CONTAINERS)
    if stbl is None:
        raise Unreadable("a track without sample tables")
    _self_contained(data, start, stop, budget)
    tables = {n: (s, e) for n, s, e in _children(data, *stbl, budget) if n in _TABLES}
    sizes, fixed, count = _sample_sizes(data, tables, budget)
    offsets = _chunk_offsets(data, tables, budget)
    if not offsets or not count:
        return None
    if b"stsc" not in tables:
        raise Unreadable("a track without its samples-per-chunk table (stsc)")
    runs = _full_table(data, *tables[b"stsc"], 12, budget)
    if not runs:
        return None
    firsts, per_chunk = runs[0::3], runs[1::3]
    return Extent(min(offsets), _chunks_end(offsets, firsts, per_chunk, sizes, fixed, count))


def _self_contained(data: bytes, start: int, stop: int, budget: list[int]) -> None:
    """A track whose data lies in another file (a QuickTime reference movie) has no
    extent in this one."""
    dref = _find(data, start, stop, budget, (b"mdia", b"minf", b"dinf", b"dref"))
    if dref is None:
        return
    for name, entry, end in _children(data, dref[0] + 8, dref[1], budget):
        if entry + 4 > end or not data[entry + 3] & 1:   # flag 1: "the data is in this file"
            raise Unreadable(f"a track whose media lies in another file (data reference '{_label(name)}')")


def _full_table(data: bytes, start: int, stop: int, width: int, budget: list[int], count_at: int = 4) -> "array":
    """The entries of a full box holding a 32-bit count (after version and flags) and
    then `width`-byte entries of big-endian unsigned 32-bit (or 64-bit: width 8) words."""
    if start + count_at + 4 > stop:
        raise Unreadable("a sample table cut short")
    (count,) = struct.unpack_from(">I", data, start + count_at)
    first = start + count_at + 4
    if count * width > stop - first:
        raise Unreadable(f"a sample table claims {count} entries in {stop - first} bytes")
    words = count * width // (8 if width == 8 else 4)
    budget[1] -= words
    if budget[1] < 0:
        raise Unreadable(f"more than {MAX_SAMPLES} entries in the sample tables")
    table = array("Q" if width == 8 else "I")
    table.frombytes(data[first:first + count * width])
    if sys.byteorder == "little":
        table.byteswap()
    return table


def _chunk_offsets(data: bytes, tables: dict, budget: list[int]) -> "array":
    if b"stco" in tables:
        return _full_table(data, *tables[b"stco"], 4, budget)
    if b"co64" in tables:
        return _full_table(data, *tables[b"co64"], 8, budget)
    raise Unreadable("a track without chunk offsets (stco/co64)")


def _sample_sizes(data: bytes, tables: dict, budget: list[int]) -> tuple["array", int, int]:
    """(per-sample sizes, 0, count), or (an empty array, the one size every sample has,
    count)."""
    if b"stsz" in tables:
        start, stop = tables[b"stsz"]
        if start + 12 > stop:
            raise Unreadable("a sample size table cut short")
        fixed, count = struct.unpack_from(">II", data, start + 4)
        if fixed:
            return array("I"), fixed, count
        sizes = _full_table(data, start, stop, 4, budget, count_at=8)
        return sizes, 0, len(sizes)
    if b"stz2" in tables:
        start, stop = tables[b"stz2"]
        if start + 12 > stop:
            raise Unreadable("a compact sample size table cut short")
        bits, count = data[start + 7], struct.unpack_from(">I", data, start + 8)[0]
        if bits not in (4, 8, 16) or count * bits > (stop - start - 12) * 8:
            raise Unreadable(f"a compact sample size table of {count} {bits}-bit entries")
        budget[1] -= count
        if budget[1] < 0:
            raise Unreadable(f"more than {MAX_SAMPLES} entries in the sample tables")
        raw = data[start + 12:start + 12 + (count * bits + 7) // 8]
        if bits == 4:
            return array("I", [n for b in raw for n in (b >> 4, b & 15)][:count]), 0, count
        return array("I", array("B", raw)) if bits == 8 else _be16(raw), 0, count
    raise Unreadable("a track without sample sizes (stsz/stz2)")


def _be16(raw: bytes) -> "array":
    table = array("H", raw)
    if sys.byteorder == "little":
        table.byteswap()
    return array("I", table)


def _chunks_end(offsets, firsts, per_chunk, sizes, fixed: int, count: int) -> int:
    """One past the last byte of the last chunk: each chunk holds the next samples, as
    many as its stsc run says. Chunks the samples run short of count for nothing (a
    lenient reading: it can only make the end earlier, never call a whole file cut)."""
    chunks, end, sample = len(offsets), 0, 0
    for run, first in enumerate(firsts):
        last = firsts[run + 1] - 1 if run + 1 < len(firsts) else chunks
        if first < 1 or last < first - 1:
            raise Unreadable(f"samples-per-chunk runs out of order (chunk {first})")
        last, each = min(last, chunks), per_chunk[run]
        if first > last or not each:
            continue
        n = last - first + 1
        if fixed and sample + n * each <= count:        # the common case, in C
            end = max(end, max(offsets[first - 1:last]) + each * fixed)
        elif not fixed and each == 1:
            end = max(end, max(map(operator.add, offsets[first - 1:last], sizes[sample:sample + n]), default=0))
        else:
            for chunk in range(first - 1, last):
                take = min(each, count - sample - (chunk - first + 1) * each)
                if take <= 0:
                    break
                start = sample + (chunk - first + 1) * each
                size = take * fixed if fixed else sum(sizes[start:start + take])
                end = max(end, offsets[chunk] + size)
        sample += n * each
        if sample >= count:
            break
    return end


def _riff(read: _Reader, kind: str) -> Flaw | None:
    fmt = kind.upper()
    position, chunks = 0, 0
    while position < read.size:
        header = read.at(position, 12)
        if header is None:
            return Flaw(TRUNCATED, f"{fmt}: {read.size - position} bytes after the last RIFF chunk "
                                   f"(at byte {position}): too few for a chunk header")
        name, size, form = struct.unpack("<4sI4s", header)
        expected = (b"WEBP",) if kind == "webp" else (b"AVI ",) if not chunks else (b"AVIX",)
        if name != b"RIFF" or form not in expected:
            return Flaw(MALFORMED, f"{fmt}: {read.size - position} bytes after the RIFF data at byte {position}")
        end = position + 8 + size
        if end > read.size:
            return Flaw(TRUNCATED, f"{fmt}: the RIFF header says {end} bytes, the file has {read.size}")
        position = end + (size & 1 if end < read.size else 0)   # a pad byte after an odd size
        chunks += 1
        if kind == "webp" or chunks >= MAX_BOXES:
            break
    if position != read.size:
        return Flaw(MALFORMED, f"{fmt}: {read.size - position} bytes after the RIFF data at byte {position}")
    return None


def _bmp(read: _Reader, kind: str) -> Flaw | None:
    header = read.at(0, 18)
    if header is None:
        return Flaw(TRUNCATED, "BMP: the file ends inside its header")
    declared, data_offset, info_size = struct.unpack_from("<I4xII", header, 2)
    if declared and declared != read.size:
        return Flaw(TRUNCATED if declared > read.size else MALFORMED, f"BMP: the header says {declared} bytes, the file has {read.size}")
    pixels = _bmp_pixel_bytes(read, info_size)
    if data_offset + pixels > read.size:
        return Flaw(TRUNCATED, f"BMP: the pixels end at byte {data_offset + pixels}, the file at {read.size}")
    return None


def _bmp_pixel_bytes(read: _Reader, info_size: int) -> int:
    """The pixel array's size by the header (0 when it cannot be told: compressed, odd)."""
    if info_size == 12:
        info = read.at(14, 12)
        if info is None:
            return read.size
        width, height, _, bits = struct.unpack_from("<HHHH", info, 4)
        compression, image_size = 0, 0
    else:
        info = read.at(14, 24)
        if info is None:
            return read.size            # the info header itself is cut off
        width, height, _, bits, compression, image_size = struct.unpack_from("<iiHHII", info, 4)
    if image_size:
        return image_size
    if compression not in (0, 3, 6):    # RLE, JPEG, PNG inside: only image_size tells
        return 0
    return (abs(width) * bits + 31) // 32 * 4 * abs(height)


# TIFF field types and their sizes in bytes.
_TIFF_TYPES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4,
               16: 8, 17: 8, 18: 8}
_EXTENTS = ((273, 279), (324, 325))      # (StripOffsets, StripByteCounts), (TileOffsets, TileByteCounts)


def _tiff(read: _Reader, kind: str) -> Flaw | None:
    head = read.at(0, 16) or read.at(0, 8)
    if head is None:
        return Flaw(TRUNCATED, "TIFF: the file ends inside its header")
    order = "<" if head[:2] == b"II" else ">"
    big = struct.unpack_from(order + "H", head, 2)[0] == 43
    if big and len(head) < 16:
        return Flaw(TRUNCATED, "TIFF: the file ends inside its header")
    layout = (8, 20, "Q", 8) if big else (2, 12, "I", 4)   # count size, entry size, offset type, inline
    ifd = struct.unpack_from(order + ("Q" if big else "I"), head, 8 if big else 4)[0]
    seen: set[int] = set()
    budget = [MAX_ARRAY]    # strip or tile entries left to read over the whole chain
    while ifd:
        if ifd in seen:
            return Flaw(MALFORMED, f"TIFF: the IFD chain loops back to byte {ifd}")
        if len(seen) >= MAX_IFDS:
            return Flaw(MALFORMED, f"TIFF: more than {MAX_IFDS} IFDs")
        seen.add(ifd)
        flaw, ifd = _tiff_ifd(read, order, layout, ifd, budget)
        if flaw:
            return flaw
    return None


def _tiff_ifd(read: _Reader, order: str, layout: tuple, ifd: int, budget: list[int]) -> tuple[Flaw | None, int]:
    count_size, entry_size, offset_type, inline = layout
    raw_count = read.at(ifd, count_size)
    if raw_count is None:
        return Flaw(TRUNCATED, f"TIFF: the IFD at byte {ifd} lies past the end ({read.size} bytes)"), 0
    (entries,) = struct.unpack(order + ("Q" if count_size == 8 else "H"), raw_count)
    table = read.at(ifd + count_size, entries * entry_size + inline)
    if table is None:
        return Flaw(TRUNCATED, f"TIFF: the file ends inside the IFD at byte {ifd}"), 0
    values: dict[int, tuple[int, int, bytes]] = {}   # tag -> (type, count, value field)
    for n in range(entries):
        tag, typ, count = struct.unpack_from(order + "HH" + offset_type, table, n * entry_size)
        field = table[n * entry_size + 4 + inline:n * entry_size + 4 + 2 * inline]
        width = _TIFF_TYPES.get(typ)
        if width is None:
            continue
        values[tag] = (typ, count, field)
        if count * width > inline:
            (offset,) = struct.unpack(order + offset_type, field)
            if offset + count * width > read.size:
                return Flaw(TRUNCATED, f"TIFF: tag {tag}'s {count * width} bytes at byte {offset} "
                                       f"run past the end ({read.size} bytes)"), 0
    for offsets_tag, counts_tag in _EXTENTS:
        if offsets_tag in values and counts_tag in values:
            pieces = min(values[offsets_tag][1], values[counts_tag][1])
            if pieces > budget[0]:
                return Flaw(MALFORMED, f"TIFF: more than {MAX_ARRAY} strips or tiles"), 0
            budget[0] -= pieces
            starts = _tiff_array(read, order, inline, offset_type, values[offsets_tag])
            lengths = _tiff_array(read, order, inline, offset_type, values[counts_tag])
            end = max(map(operator.add, starts, lengths), default=0)
            if end > read.size:
                return Flaw(TRUNCATED, f"TIFF: image data runs to byte {end}, the file ends at {read.size}"), 0
    (next_ifd,) = struct.unpack_from(order + offset_type, table, entries * entry_size)
    return None, next_ifd


def _tiff_array(read: _Reader, order: str, inline: int, offset_type: str, value: tuple) -> tuple[int, ...]:
    typ, count, field = value
    code = {3: "H", 4: "I", 16: "Q"}.get(typ)
    if code is None:
        return ()
    size = count * struct.calcsize(code)
    if size <= inline:
        data = field[:size]
    else:
        data = read.at(struct.unpack(order + offset_type, field)[0], size) or b""
    return struct.unpack(f"{order}{len(data) // struct.calcsize(code)}{code}", data)


SEEKS = {"mp4": _bmff, "mov": _bmff, "3gp": _bmff, "m4v": _bmff, "heic": _bmff,
         "webp": _riff, "avi": _riff, "bmp": _bmp, "tiff": _tiff}


def seek_check(handle: BinaryIO, kind: str | None, size: int) -> Flaw | None:
    """The seek-only check of this kind (a few small reads); None when whole or not such a kind."""
    check = SEEKS.get(kind or "")
    if check is None:
        return None
    try:
        return check(_Reader(handle, size), kind)
    except struct.error:
        return Flaw(MALFORMED, f"{kind.upper()}: a header cut short")


def checked(kind: str | None) -> bool:
    """Does exodus check this kind's structure at all?"""
    return kind in WALKS or kind in SEEKS


# --- one call for a finished download --------------------------------------------------

def whole(path: str | os.PathLike, kind: str | None = None) -> str | None:
    """None if the regular file at `path` (not followed if a link) is whole by its format's
    structure, or its kind is not checked (MKV, MPEG); else a one-line reason. `kind` is a
    sniffed kind (media/magic.py); None sniffs it here (unrecognised bytes are a reason).
    One sequential read at most."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        return f"cannot be read: {error.strerror or error}"
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return "not a regular file"
    with os.fdopen(fd, "rb") as handle:
        if kind is None:
            kind = magic.sniff(handle.read(magic.HEAD))
            if kind is None:
                return "not a format exodus recognises"
        flaw = check_handle(handle, kind, info.st_size)
    return flaw.detail if flaw else None


def check_handle(handle: BinaryIO, kind: str | None, size: int) -> Flaw | None:
    """Every check of this kind over an open file, reading it from the start if it is streamed."""
    flaw = seek_check(handle, kind, size)
    walk = walker(kind)
    if flaw or walk is None:
        return flaw
    handle.seek(0)
    while block := handle.read(BLOCK):
        walk.feed(block)
        if walk.over:
            break
    return walk.finish()
