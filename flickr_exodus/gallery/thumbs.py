"""The gallery's images: each original drawn at a few widths, JPEG, under OUT/site/img/.

A rendition's name carries the first characters of its original's sha256, so a new original
(a replaced photo, a repaired file) gets new renditions and a rerun with nothing changed
finds every one already there and makes nothing. The orientation shown is the one Flickr
showed: the file's EXIF orientation first, then the rotation the owner set on Flickr.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from PIL import Image, ImageOps

from ..flickr import ids
from ..layout import paths

# Longest edge of each rendition, small to large: the grid, a phone, a screen.
WIDTHS = (320, 800, 1600)
QUALITY = 82
IMG = "site/img"
Image.MAX_IMAGE_PIXELS = 400_000_000  # Flickr takes originals up to 200 MB; a bomb beyond this is refused


@dataclass(frozen=True)
class Source:
    id: str
    path: str            # the original, relative to DEST
    sha256: str | None   # the catalog's; it names the renditions
    media: str           # photo | video (a video has no rendition of its own yet)
    rotation: int = 0    # degrees clockwise, set by the owner on Flickr


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    path: str            # relative to OUT, where index.html is


def rendition_path(source: Source, width: int) -> str:
    return f"{IMG}/{source.id}/{(source.sha256 or 'nosum')[:12]}-{width}.jpg"


def build(dest: Path, out: Path, sources: Iterable[Source], progress: Callable[[int], None] | None = None
          ) -> dict[str, list[Rendition]]:
    """The renditions of every source, made where missing (smallest first). A source Pillow
    cannot read, or a video, gets none: the page shows a placeholder."""
    made: dict[str, list[Rendition]] = {}
    for source in sources:
        found = _renditions(dest, out, source)
        if found:
            made[source.id] = found
        if progress:
            progress(1)
    return made


def _renditions(dest: Path, out: Path, source: Source) -> list[Rendition]:
    if source.media != "photo" or not ids.is_photo_id(source.id):  # the id names a folder
        return []
    wanted = [(width, out / rendition_path(source, width)) for width in WIDTHS]
    if all(target.exists() for _, target in wanted):
        return [_known(out, target) for _, target in wanted]
    try:
        original = paths.inside(dest, source.path, mkdir=False)
        with Image.open(original) as image:
            image = ImageOps.exif_transpose(image)
            if source.rotation % 360:
                image = image.rotate(-(source.rotation % 360), expand=True)
            image = image.convert("RGB")
            found = []
            for width, target in reversed(wanted):
                image.thumbnail((width, width), Image.Resampling.LANCZOS)
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_suffix(".tmp")
                image.save(tmp, "JPEG", quality=QUALITY, optimize=True)
                os.replace(tmp, target)
                found.append(Rendition(image.width, image.height, rendition_path(source, width)))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, paths.OutsideDest):
        return []
    return found[::-1]


def _known(out: Path, target: Path) -> Rendition:
    with Image.open(target) as image:
        return Rendition(image.width, image.height, target.relative_to(out).as_posix())
