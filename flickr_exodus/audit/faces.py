"""Faces in an original, found offline on the CPU: `detect(path)`, run in worker processes.

The detector is dlib's HOG frontal face detector (the dlib-bin wheel, Boost Software
License; its model is compiled into the library), the `faces` extra. It was chosen over
OpenCV's Haar cascade by benchmarks/audit_faces.py: precision, recall and images/s of both
on a labelled set, in benchmarks/results/audit.json (scenario "faces").

A picture is looked at small: decoded with its longest side at LONGEST px at most (JPEG's
draft mode decodes at 1/2, 1/4 or 1/8 of the size directly, in grey), turned as its EXIF
orientation says, and the boxes found are scaled back to the picture as displayed at its
full size. This module imports without the detector: `missing()` says whether it can run.
"""

from __future__ import annotations

import importlib
import math
import warnings
from importlib import metadata

from PIL import Image

# The longest side looked at, measured by benchmarks/audit_faces.py on this 2-core machine:
# at 640, 800 and 1024 px dlib found every face of 11% of the longest side and more (70 px
# and up at 640) with no false one, at 63, 108 and 158 ms of CPU per picture (decoding
# included), i.e. 32, 18 and 13 pictures/s on two cores; issue 20 asks for 20. The price of
# 640: faces of 5-9% of the longest side are found 1 time in 12 (800: 6, 1024: 11).
LONGEST = 640
NEEDS = "face detection needs the faces extra: pip install 'flickr-exodus[faces]'"
UNREADABLE, MISSING = "unreadable", "missing"
# Pixels a worker may decode (after draft mode): a PNG or TIFF past this is refused rather
# than take a gigabyte of memory; a JPEG is decoded at 1/8 scale long before.
DECODED_PIXELS = 60_000_000
# EXIF Orientation (tag 0x0112) -> the transpose that shows the picture upright; the last
# four turn it a quarter, so the picture shown is as wide as the one stored is high.
_T = Image.Transpose
ORIENT = {2: _T.FLIP_LEFT_RIGHT, 3: _T.ROTATE_180, 4: _T.FLIP_TOP_BOTTOM, 5: _T.TRANSPOSE, 6: _T.ROTATE_270,
          7: _T.TRANSVERSE, 8: _T.ROTATE_90}
QUARTER_TURNS = {5, 6, 7, 8}


def _version() -> str:
    for package in ("dlib-bin", "dlib"):
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return "absent"


# Keys the audit's cache: a new detector, version or size looks at every picture again.
DETECTOR = f"dlib-hog-{_version()}@{LONGEST}"

_detector = None


def missing() -> str | None:
    """None when detection can run here, else one line saying how to get it."""
    for module in ("dlib", "numpy"):  # imported, not only found: a broken build says so here
        try:
            importlib.import_module(module)
        except ImportError:
            return NEEDS
    return None


def detect(path: str) -> tuple[int, int, list[tuple[int, int, int, int]]] | str:
    """(width, height, boxes) of the picture as displayed, each box (x, y, w, h) in its
    pixels; or "unreadable" / "missing". Never raises for a bad file."""
    return detect_at(path, LONGEST)


def detect_at(path: str, longest: int) -> tuple[int, int, list[tuple[int, int, int, int]]] | str:
    """`detect` looking at the picture with its longest side at most `longest` px (the
    benchmark measures other sizes with it)."""
    global _detector
    import dlib
    import numpy

    if _detector is None:  # once per worker process
        _detector = dlib.get_frontal_face_detector()
    loaded = load(path, longest)
    if isinstance(loaded, str):
        return loaded
    width, height, grey = loaded
    try:
        found = [(r.left(), r.top(), r.width(), r.height()) for r in _detector(numpy.asarray(grey), 0)]
    except Exception:  # noqa: BLE001 - dlib refusing a picture is about the picture, not the audit
        return UNREADABLE
    return width, height, scale_boxes(found, grey.size, (width, height))


def load(path: str, longest: int = LONGEST):
    """(width, height, grey) with width x height the picture's size as displayed and grey a
    Pillow image of mode L, turned the same way, its longest side at most `longest`; or
    "missing" / "unreadable". Any picture is hostile: whatever Pillow raises reading it
    (truncated, not a picture, a decompression bomb, broken EXIF) makes it unreadable."""
    try:
        with warnings.catch_warnings():
            # Pillow warns past 89 megapixels (a 100 MP camera's JPEG, decoded here at 1/8)
            # and refuses past twice that; what is decoded is bounded below, after the draft.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
        with image:
            full_w, full_h = image.size
            orientation = _orientation(image)
            factor = longest / max(full_w, full_h)
            if factor < 1:
                image.draft("L", (math.ceil(full_w * factor), math.ceil(full_h * factor)))
            if image.width * image.height > DECODED_PIXELS:  # no draft mode for this format
                return UNREADABLE
            grey = image.convert("L")
        grey.thumbnail((longest, longest), Image.Resampling.BILINEAR)
        if orientation in ORIENT:
            grey = grey.transpose(ORIENT[orientation])
    except (FileNotFoundError, NotADirectoryError):
        return MISSING
    except Exception:  # noqa: BLE001 - a bad file must never stop the audit's workers
        return UNREADABLE
    if orientation in QUARTER_TURNS:
        full_w, full_h = full_h, full_w
    return full_w, full_h, grey


def _orientation(image) -> int:
    try:
        return image.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - EXIF too broken to read: shown as stored, as viewers do
        return 1


def scale_boxes(found, small: tuple[int, int], full: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Boxes found in the small picture, clipped to it, in the full picture's pixels."""
    sx, sy = full[0] / small[0], full[1] / small[1]
    out = []
    for x, y, w, h in found:
        left, top = max(0, x), max(0, y)
        right, bottom = min(small[0], x + w), min(small[1], y + h)
        if right > left and bottom > top:
            out.append((round(left * sx), round(top * sy), round((right - left) * sx), round((bottom - top) * sy)))
    return out
