"""One original drawn at a few widths: the pixel work of the gallery's thumbnails.

It runs in a worker process (thumbs.py hands it paths, never pixels) and answers with the
sizes it wrote, so nothing here may raise for a bad file: a file Pillow cannot read, a
truncated one, a decompression bomb, all answer UNREADABLE and write nothing.

Speed comes from decoding less: a JPEG is decoded at 1/2, 1/4 or 1/8 scale (draft mode)
when the largest rendition still fits in that, and the image is oriented only once it is
small (a transpose is lossless, so resizing first then turning gives the same picture).
"""

from __future__ import annotations

import io
import os
import warnings

from PIL import Image

QUALITY = 82
# Pillow refuses past twice this and warns past it; the warning is taken as a refusal. Flickr
# takes originals of up to 200 MB: a JPEG that large is decoded at 1/8 scale here.
Image.MAX_IMAGE_PIXELS = 400_000_000
# Pixels a worker may hold once decoded (after draft mode): a PNG or TIFF past this is
# refused rather than take a gigabyte of memory.
DECODED_PIXELS = 60_000_000
FORMATS = ("JPEG", "MPO", "PNG", "GIF", "TIFF", "WEBP", "BMP", "HEIF", "AVIF")
# EXIF Orientation (tag 0x0112) -> the transpose that shows the picture upright.
ORIENT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
          5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
          8: Image.Transpose.ROTATE_90}
# Flickr's rotation, degrees clockwise -> its transpose (Pillow's ROTATE_n turns anticlockwise).
ROTATE = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}

UNREADABLE = "unreadable"
MISSING = "missing"


def renditions(original: str, targets: list[tuple[int, str]], rotation: int = 0
               ) -> list[tuple[int, int]] | str:
    """Draw `original` into each (longest edge, target path), largest first as given or not;
    the (width, height) written for each target in the order given, or UNREADABLE / MISSING."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _draw(original, targets, rotation)
    except FileNotFoundError:
        return MISSING
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, TypeError, KeyError, IndexError, ZeroDivisionError):
        # Pillow's parsers answer a hostile file with any of these.
        return UNREADABLE


def _draw(original: str, targets: list[tuple[int, str]], rotation: int) -> list[tuple[int, int]]:
    largest = max(width for width, _ in targets)
    with Image.open(original, formats=_formats()) as image:
        turn = [t for t in (ORIENT.get(_orientation(image)), ROTATE.get(rotation % 360)) if t is not None]
        image.draft("RGB", _fit(image.size, largest))  # a no-op for anything but JPEG
        if image.width * image.height > DECODED_PIXELS:
            raise Image.DecompressionBombError(f"{image.size} is more than a worker may decode")
        image.load()
        icc = image.info.get("icc_profile")
        shown = _shrunk(_flat(image), sorted({w for w, _ in targets}, reverse=True), turn)
    for width, target in targets:
        _write(shown[width], target, icc)
    return [shown[width].size for width, _ in targets]


def _shrunk(picture: Image.Image, widths: list[int], turn: list) -> dict[int, Image.Image]:
    """Each width from the one before (less to resize), then turned upright."""
    out = {}
    for width in widths:
        picture = picture.resize(_fit(picture.size, width), Image.Resampling.LANCZOS, reducing_gap=2.0)
        shown = picture
        for method in turn:
            shown = shown.transpose(method)
        out[width] = shown
    return out


def _formats() -> tuple[str, ...]:
    Image.init()
    return tuple(f for f in FORMATS if f in Image.OPEN)


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except (ValueError, TypeError, OSError, SyntaxError, KeyError):  # a broken EXIF block: show it as stored
        return 1


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """`size` scaled so that its longest edge is `longest`, never enlarged."""
    w, h = size
    scale = min(1.0, longest / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _flat(image: Image.Image) -> Image.Image:
    """Gray stays gray; anything with transparency is laid on white; the rest becomes RGB
    (a GIF or an animated image gives its first frame, as opened)."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def _write(image: Image.Image, target: str, icc: bytes | None) -> None:
    """Written whole under a temporary name, then renamed: a reader never sees half a file,
    and a link planted at either name is replaced, never written through."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=QUALITY, optimize=True, **({"icc_profile": icc} if icc else {}))
    part = target + ".tmp"
    try:
        os.unlink(part)
    except FileNotFoundError:
        pass
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(buffer.getbuffer())
    os.replace(part, target)

