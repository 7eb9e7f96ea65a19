"""Real media bytes, made on demand: decodable JPEGs and PNGs, ISO-BMFF videos.

A `Blob` is a file described as a list of parts, so any byte range of a multi-GB file can
be produced without building the file: the bulk is filler cut from one shared pool of
random bytes (incompressible, like real media), at an offset chosen per file.

- JPEG: a real baseline JPEG of the stated width x height (every 8x8 block is "DC 0, end
  of block", so the scan is tiny), with EXIF (Make, Model, DateTimeOriginal, pixel size),
  padded to the wanted size with APP15 segments that decoders skip.
- PNG: a real grayscale PNG, padded with a private ancillary chunk.
- MP4/MOV: ftyp + moov/mvhd (the duration Flickr reports) + mdat filler.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator

POOL_SIZE = 1 << 20
CHUNK = 256 * 1024


@lru_cache(maxsize=4)
def _pool(seed: int) -> bytes:
    data = random.Random(f"pool-{seed}").randbytes(POOL_SIZE)
    return data + data  # doubled, so any window of <= POOL_SIZE is one slice


def filler(seed: int, base: int) -> Callable[[int, int], bytes]:
    """Random bytes at [offset, offset+n) of an endless stream starting at `base` in the pool."""
    pool = _pool(seed)

    def read(offset: int, n: int) -> bytes:
        out = []
        while n > 0:
            start = (base + offset) % POOL_SIZE
            take = min(n, POOL_SIZE)
            out.append(pool[start:start + take])
            offset += take
            n -= take
        return b"".join(out)

    return read


class Blob:
    """A file as parts: each part is fixed bytes or a (length, reader) pair."""

    def __init__(self, parts: list[bytes | tuple[int, Callable[[int, int], bytes]]]):
        self._parts = []
        self._starts = []
        pos = 0
        for part in parts:
            if isinstance(part, (bytes, bytearray)):
                length, reader = len(part), (lambda o, n, b=bytes(part): b[o:o + n])
            else:
                length, reader = part
            if length:
                self._starts.append(pos)
                self._parts.append((length, reader))
                pos += length
        self.size = pos

    def read(self, start: int = 0, end: int | None = None, chunk: int = CHUNK) -> Iterator[bytes]:
        """Yield the bytes of [start, end) in chunks of at most `chunk` bytes."""
        end = self.size if end is None else min(end, self.size)
        pos = start
        i = max(bisect.bisect_right(self._starts, pos) - 1, 0)
        while pos < end and i < len(self._parts):
            part_start = self._starts[i]
            length, reader = self._parts[i]
            offset = pos - part_start
            take = min(chunk, length - offset, end - pos)
            yield reader(offset, take)
            pos += take
            if pos >= part_start + length:
                i += 1

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for block in self.read(chunk=1 << 20):
            digest.update(block)
        return digest.hexdigest()

    def bytes(self) -> bytes:
        return b"".join(self.read())


# --- JPEG -------------------------------------------------------------------------

@dataclass(frozen=True)
class Exif:
    make: str
    model: str
    date_time_original: str  # "YYYY:MM:DD HH:MM:SS"
    width: int
    height: int


def _tiff_ifd(entries: list[tuple[int, int, int, bytes]], offset: int, next_ifd: int = 0) -> bytes:
    """One little-endian IFD starting at `offset`; values over 4 bytes go after it."""
    table = struct.pack("<H", len(entries))
    data_start = offset + 2 + 12 * len(entries) + 4
    data = b""
    for tag, typ, count, value in sorted(entries):
        if len(value) <= 4:
            table += struct.pack("<HHI", tag, typ, count) + value.ljust(4, b"\0")
        else:
            table += struct.pack("<HHII", tag, typ, count, data_start + len(data))
            data += value + (b"\0" if len(value) % 2 else b"")
    return table + struct.pack("<I", next_ifd) + data


def _exif_segment(exif: Exif) -> bytes:
    def ascii_(text: str) -> tuple[int, int, bytes]:
        raw = text.encode("ascii", "replace") + b"\0"
        return 2, len(raw), raw

    ifd0_count = 4  # Make, Model, DateTime, ExifIFD pointer
    ifd0_offset = 8
    # Lay out IFD0 first to learn where the Exif IFD can start.
    probe = _tiff_ifd(
        [(0x010F, *ascii_(exif.make)), (0x0110, *ascii_(exif.model)),
         (0x0132, *ascii_(exif.date_time_original)), (0x8769, 4, 1, struct.pack("<I", 0))],
        ifd0_offset,
    )
    assert probe[:2] == struct.pack("<H", ifd0_count)
    exif_offset = ifd0_offset + len(probe)
    ifd0 = _tiff_ifd(
        [(0x010F, *ascii_(exif.make)), (0x0110, *ascii_(exif.model)),
         (0x0132, *ascii_(exif.date_time_original)),
         (0x8769, 4, 1, struct.pack("<I", exif_offset))],
        ifd0_offset,
    )
    exif_ifd = _tiff_ifd(
        [(0x9003, *ascii_(exif.date_time_original)), (0x9004, *ascii_(exif.date_time_original)),
         (0xA002, 4, 1, struct.pack("<I", exif.width)), (0xA003, 4, 1, struct.pack("<I", exif.height))],
        exif_offset,
    )
    tiff = b"II*\0" + struct.pack("<I", ifd0_offset) + ifd0 + exif_ifd
    body = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def _jpeg_frame(width: int, height: int) -> bytes:
    """DQT, SOF0, DHT and a scan in which every block is DC-diff 0 then end-of-block."""
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + b"\x01" * 64
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    # One code of length 1 ("0") in each table: DC symbol 0 (no diff), AC symbol 0 (EOB).
    one_code = bytes([1] + [0] * 15) + b"\x00"
    dht = b"\xff\xc4" + struct.pack(">H", 2 + 2 * 17 + 2) + b"\x00" + one_code + b"\x10" + one_code
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00" + b"\x00\x3f\x00"
    blocks = -(-width // 8) * -(-height // 8)
    bits = 2 * blocks
    scan = bytes(bits // 8)
    if bits % 8:
        scan += bytes([(1 << (8 - bits % 8)) - 1])  # pad the last byte with 1-bits
    return dqt + sof + dht + sos + scan + b"\xff\xd9"


def jpeg_overhead(width: int, height: int, exif: Exif | None) -> int:
    """Bytes of an unpadded JPEG: the smallest size `jpeg()` can make for these pixels."""
    return 2 + (len(_exif_segment(exif)) if exif else 0) + len(_jpeg_frame(width, height))


APP15_MAX = 65535 - 2  # payload bytes in one APP15 segment


def _padding_segments(total: int, seed: int, base: int) -> list[tuple[int, Callable]]:
    """APP15 segments (4-byte header + payload) that add up to exactly `total` bytes."""
    if total == 0:
        return []
    if total < 4:
        raise ValueError("cannot pad by fewer than 4 bytes")
    lengths = []
    remaining = total
    while remaining:
        seg = min(remaining, APP15_MAX + 2)
        rest = remaining - seg
        if 0 < rest < 4:  # leave at least one whole header for the last segment
            seg -= 4
        lengths.append(seg)
        remaining -= seg
    fill = filler(seed, base)
    parts = []
    consumed = 0
    for seg in lengths:
        header = b"\xff\xef" + struct.pack(">H", seg - 2)
        start = consumed

        def read(o: int, n: int, header=header, start=start) -> bytes:
            head = header[o:o + n] if o < 4 else b""
            rest_from = max(o, 4)
            rest_n = n - len(head)
            return head + (fill(start + rest_from - 4, rest_n) if rest_n > 0 else b"")

        parts.append((seg, read))
        consumed += seg - 4
    return parts


def jpeg(width: int, height: int, size: int | None, exif: Exif | None, seed: int, base: int) -> Blob:
    """A decodable JPEG of width x height; padded to exactly `size` bytes when given."""
    return wrap_jpeg(_jpeg_frame(width, height), size, exif, seed, base)


def wrap_jpeg(frame: bytes, size: int | None, exif: Exif | None, seed: int, base: int) -> Blob:
    """SOI, EXIF, APP15 padding up to exactly `size` bytes when given, then `frame`: a JPEG's
    segments from its first table to EOI (ours, or a real encoder's)."""
    head = b"\xff\xd8" + (_exif_segment(exif) if exif else b"")
    pad = 0 if size is None else size - len(head) - len(frame)
    if size is not None and (pad < 0 or 0 < pad < 4):
        raise ValueError(f"a JPEG with {len(head) + len(frame)} bytes of image cannot be {size} bytes")
    return Blob([head, *_padding_segments(pad, seed, base), frame])


def jpeg_frame_of(encoded: bytes) -> bytes:
    """A real encoder's JPEG without its SOI and APPn segments (JFIF, EXIF...): what
    `wrap_jpeg` puts after its own head."""
    pos = 2
    while encoded[pos] == 0xFF and 0xE0 <= encoded[pos + 1] <= 0xEF:
        pos += 2 + struct.unpack(">H", encoded[pos + 2:pos + 4])[0]
    return encoded[pos:]


# --- PNG --------------------------------------------------------------------------

def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@lru_cache(maxsize=32)
def _png_idat(width: int, height: int) -> bytes:
    compressor = zlib.compressobj(9)
    row = bytes(1 + width)  # filter byte 0, then gray 0
    out = [compressor.compress(row) for _ in range(height)]
    out.append(compressor.flush())
    return b"".join(out)


def png(width: int, height: int, size: int | None, seed: int, base: int) -> Blob:
    head = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    tail = _png_chunk(b"IDAT", _png_idat(width, height)) + _png_chunk(b"IEND", b"")
    pad = 0 if size is None else size - len(head) - len(tail)
    if size is not None and (pad < 0 or 0 < pad < 12):
        raise ValueError(f"a {width}x{height} PNG cannot be {size} bytes")
    if not pad:
        return Blob([head, tail])
    # A private ancillary chunk ("exOd": ancillary, private, reserved, safe-to-copy).
    data_len = pad - 12
    fill = filler(seed, base)
    crc = zlib.crc32(b"exOd")
    for block in Blob([(data_len, fill)]).read(chunk=1 << 20):
        crc = zlib.crc32(block, crc)
    return Blob([head, struct.pack(">I", data_len) + b"exOd", (data_len, fill),
                 struct.pack(">I", crc), tail])


# --- MP4 / MOV --------------------------------------------------------------------

def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def video(fmt: str, size: int, duration_s: int, width: int, height: int, seed: int, base: int) -> Blob:
    """An ISO-BMFF file (MP4, or QuickTime for 'mov') of exactly `size` bytes."""
    brand = b"qt  " if fmt == "mov" else b"isom"
    ftyp = _box(b"ftyp", brand + struct.pack(">I", 0x200) + brand + b"mp41")
    timescale = 1000
    mvhd = _box(b"mvhd", struct.pack(
        ">B3xIIII", 0, 0, 0, timescale, duration_s * timescale)
        + struct.pack(">IH10x", 0x00010000, 0x0100)
        + struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
        + bytes(24) + struct.pack(">I", 2))
    # A free box records the frame size, so a human poking at the file sees it.
    note = _box(b"free", f"exodus-sandbox {width}x{height}".encode())
    moov = _box(b"moov", mvhd)
    head = ftyp + moov + note
    mdat_payload = size - len(head) - 8
    if mdat_payload < 0:
        raise ValueError(f"a video cannot be {size} bytes")
    if mdat_payload + 8 <= 0xFFFFFFFF:
        mdat_header = struct.pack(">I", mdat_payload + 8) + b"mdat"
    else:  # 64-bit box size for files over 4 GiB
        mdat_payload -= 8
        mdat_header = struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", mdat_payload + 16)
    return Blob([head, mdat_header, (mdat_payload, filler(seed, base))])
