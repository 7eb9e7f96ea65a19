"""A photo's EXIF summary (camera, lens, exposure), and whether it carries a location, read
with Pillow from its original's header only, never the pixels: Pillow's getexif() on a PNG
decodes the whole image to look past it (a 140 KB PNG of 12000x12000 costs 140 MB), so only
formats whose EXIF sits in what Image.open already read are asked, and a PNG's eXIf chunk
counts only when it came before the pixels."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from PIL import Image

from ..layout import paths

# Tag numbers (EXIF 2.3): the base IFD, then the Exif sub-IFD.
MAKE, MODEL, EXIF_IFD = 0x010F, 0x0110, 0x8769
EXPOSURE, F_NUMBER, ISO, TAKEN, FOCAL, FOCAL_35, LENS = 0x829A, 0x829D, 0x8827, 0x9003, 0x920A, 0xA405, 0xA434
GPS_IFD = 0x8825
LONGEST = 80  # a value longer than this is not a camera's
# Formats whose getexif() reads only the header Image.open has parsed.
HEADER_EXIF = {"JPEG", "MPO", "TIFF", "WEBP"}


def _read(path: Path) -> Image.Exif | None:
    """The EXIF of an image file from its header, or None (no EXIF, not an image, a header
    that claims more pixels than Pillow would ever decode)."""
    with Image.open(path) as image:
        width, height = image.size
        if width * height > (Image.MAX_IMAGE_PIXELS or width * height):
            return None
        if image.format in HEADER_EXIF:
            return image.getexif()
        raw = image.info.get("exif") if image.format == "PNG" else None
        if not isinstance(raw, bytes):
            return None
        found = Image.Exif()
        found.load(raw)
        return found


def has_gps(dest: Path, relative) -> bool:
    """Whether DEST/relative may carry a location: a GPS block in its EXIF, or a file whose
    header cannot be read (then it may: nothing says it does not)."""
    try:
        exif = _read(paths.inside(dest, relative, mkdir=False))
    except Exception:  # noqa: BLE001 - unreadable: assume the worst
        return True
    if exif is None:
        return False
    return bool(exif.get(GPS_IFD)) or bool(exif.get_ifd(GPS_IFD))


def summary(path: Path) -> list[tuple[str, str]]:
    """(label, value) pairs, in the order a photographer reads them; [] when the file has
    none or Pillow cannot read it."""
    try:
        exif = _read(path)
        if exif is None:
            return []
        sub = exif.get_ifd(EXIF_IFD)
    except Exception:  # noqa: BLE001 - a hostile header of any kind means: no summary
        return []
    found = [("Camera", _camera(exif.get(MAKE), exif.get(MODEL))), ("Lens", _text(sub.get(LENS))),
             ("Exposure", _exposure(sub.get(EXPOSURE))), ("Aperture", _aperture(sub.get(F_NUMBER))),
             ("ISO", _number(sub.get(ISO))), ("Focal length", _focal(sub.get(FOCAL), sub.get(FOCAL_35))),
             ("Taken (camera clock)", _text(sub.get(TAKEN)))]
    return [(label, value) for label, value in found if value]


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = " ".join(value.replace("\x00", " ").split())
    return value[:LONGEST] or None


def _camera(make, model) -> str | None:
    make, model = _text(make), _text(model)
    if make and model and model.lower().startswith(make.split()[0].lower()):
        return model  # "Canon" + "Canon EOS 5D" says Canon once
    return " ".join(part for part in (make, model) if part) or None


def _ratio(value) -> Fraction | None:
    try:
        number = Fraction(float(value)).limit_denominator(100_000)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if number > 0 else None


def _exposure(value) -> str | None:
    seconds = _ratio(value)
    if seconds is None:
        return None
    if seconds < 1:
        return f"1/{round(1 / seconds)} s"
    return f"{float(seconds):g} s"


def _aperture(value) -> str | None:
    number = _ratio(value)
    return f"f/{float(number):.1f}" if number else None


def _number(value) -> str | None:
    if isinstance(value, tuple):
        value = value[0] if value else None
    return str(value) if isinstance(value, int) and 0 < value < 10_000_000 else None


def _focal(value, in_35mm) -> str | None:
    length = _ratio(value)
    if length is None:
        return None
    text = f"{float(length):g} mm"
    equivalent = _number(in_35mm)
    return f"{text} ({equivalent} mm in 35 mm terms)" if equivalent and equivalent != f"{float(length):g}" else text
