"""Facts a file states about itself that Flickr also states independently: a picture's
pixel size (JPEG, PNG, GIF headers) and a video's duration (the MP4/QuickTime `mvhd`
box). Only headers are read, with seeks: a 4 GB video costs a few small reads."""

from __future__ import annotations

import json
import struct
from typing import BinaryIO

# JPEG start-of-frame markers: C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_MAX_BOXES = 10_000


def pixel_size(handle: BinaryIO) -> tuple[int, int] | None:
    """(width, height) from a JPEG, PNG or GIF header; None for other or broken files."""
    handle.seek(0)
    head = handle.read(32)
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return struct.unpack("<HH", head[6:10])
    if head.startswith(b"\xff\xd8"):
        return _jpeg_size(handle)
    return None


def _jpeg_size(handle: BinaryIO) -> tuple[int, int] | None:
    position = 2
    while True:
        handle.seek(position)
        marker = handle.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        kind = marker[1]
        if kind == 0xFF:  # fill byte
            position += 1
            continue
        if kind in (0xD8, 0x01) or 0xD0 <= kind <= 0xD7:  # no length field
            position += 2
            continue
        if kind in (0xD9, 0xDA):  # end of image, start of scan: no frame header found
            return None
        length_bytes = handle.read(2)
        if len(length_bytes) < 2:
            return None
        (length,) = struct.unpack(">H", length_bytes)
        if kind in _SOF:
            frame = handle.read(5)
            if len(frame) < 5:
                return None
            height, width = struct.unpack(">HH", frame[1:5])
            return width, height
        position += 2 + length


def video_duration(handle: BinaryIO) -> float | None:
    """Seconds from the movie header (moov/mvhd) of an MP4 or QuickTime file."""
    handle.seek(0, 2)
    end = handle.tell()
    moov = _find_box(handle, 0, end, b"moov")
    if moov is None:
        return None
    mvhd = _find_box(handle, moov[0], moov[1], b"mvhd")
    if mvhd is None:
        return None
    handle.seek(mvhd[0])
    body = handle.read(32)
    if not body:
        return None
    if body[0] == 1:  # version 1: 64-bit times
        if len(body) < 32:
            return None
        timescale, duration = struct.unpack(">IQ", body[20:32])
    else:
        if len(body) < 20:
            return None
        timescale, duration = struct.unpack(">II", body[12:20])
    return duration / timescale if timescale else None


def _find_box(handle: BinaryIO, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """The payload (start, end) of the first box of `kind` among the boxes in [start, end)."""
    position = start
    for _ in range(_MAX_BOXES):
        if position + 8 > end:
            return None
        handle.seek(position)
        header = handle.read(8)
        if len(header) < 8:
            return None
        size, name = struct.unpack(">I4s", header)
        payload = position + 8
        if size == 1:  # 64-bit size follows
            wide = handle.read(8)
            if len(wide) < 8:
                return None
            (size,) = struct.unpack(">Q", wide)
            payload += 8
        elif size == 0:  # to the end of the enclosing space
            size = end - position
        if size < payload - position:
            return None
        if name == kind:
            return payload, min(position + size, end)
        position += size
    return None


# Listing extras that carry a rendition's size, largest first (never the original's: that is
# o_width/o_height, checked exactly where Flickr gives it).
_RENDITIONS = ("6k", "5k", "4k", "3k", "k", "h", "l", "c", "z", "m")


def largest_rendition(listed: str | None) -> tuple[int, int] | None:
    """(width, height) of the largest size a listing row (Flickr's raw JSON) names."""
    try:
        raw = json.loads(listed) if listed else None
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    for suffix in _RENDITIONS:
        try:
            width, height = int(raw.get(f"width_{suffix}")), int(raw.get(f"height_{suffix}"))
        except (TypeError, ValueError):
            continue
        if 0 < width < 1 << 20 and 0 < height < 1 << 20:
            return width, height
    return None


def same_shape(got: tuple[int, int], rendition: tuple[int, int]) -> bool:
    """Is `rendition` `got` scaled down, as Flickr scales (long side fixed, short side
    rounded)? Either orientation, since an EXIF rotation may swap them."""
    for width, height in (got, got[::-1]):
        long_side, short_side = max(width, height), min(width, height)
        r_long, r_short = max(rendition), min(rendition)
        if (width >= height) != (rendition[0] >= rendition[1]) or r_long > long_side:
            continue
        if abs(short_side * r_long / long_side - r_short) <= 1:
            return True
    return False
