"""Where an original says it was taken: the GPS latitude and longitude in its own EXIF, which
travel with the file whatever Flickr shows or hides. Read from the header Pillow parses on
opening, never the pixels (a PNG's eXIf chunk only when it came before them: Pillow's
getexif() on a PNG would decode the whole image to look past it).

gallery/exif.py asks a looser question of the same header (may a file carry a location?)
for the gallery's subsets; the audit, a command beside the gallery, may not import it
(ARCHITECTURE.md) and needs the coordinates and a word for a file Pillow cannot open."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

GPS_IFD = 0x8825
LAT_REF, LAT, LON_REF, LON = 1, 2, 3, 4
HEADER_EXIF = {"JPEG", "MPO", "TIFF", "WEBP"}


class Unreadable(Exception):
    """Pillow cannot open the file: one line, naming why."""


def location(path: Path) -> tuple[float, float] | None:
    """(latitude, longitude) from the file's EXIF, or None when it records none (or only
    0, 0, a camera's "no fix"); Unreadable when Pillow cannot open the file at all."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Exception as error:  # noqa: BLE001 - any header Pillow refuses, however it says so
        raise Unreadable(_why(error)) from None
    with image:
        try:
            gps = _gps(image)
            found = _degrees(gps.get(LAT), gps.get(LAT_REF), "S"), _degrees(gps.get(LON), gps.get(LON_REF), "W")
        except Exception:  # noqa: BLE001 - a hostile EXIF block says nothing, it does not stop the audit
            return None
    lat, lon = found
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180 or (lat == 0 and lon == 0):
        return None
    return lat, lon


def _why(error: Exception) -> str:
    if isinstance(error, UnidentifiedImageError):  # its message repeats the whole path
        return "Pillow cannot open it (not a picture format it knows)"
    if isinstance(error, OSError) and error.strerror:
        return f"cannot be read ({error.strerror})"
    return f"Pillow cannot open it ({str(error).splitlines()[0][:120] if str(error) else type(error).__name__})"


def _gps(image: Image.Image) -> dict:
    if image.format in HEADER_EXIF:
        return dict(image.getexif().get_ifd(GPS_IFD))
    raw = image.info.get("exif") if image.format == "PNG" else None
    if not isinstance(raw, bytes):
        return {}
    exif = Image.Exif()
    exif.load(raw)
    return dict(exif.get_ifd(GPS_IFD))


def _degrees(value, ref, negative: str) -> float | None:
    """EXIF's (degrees, minutes, seconds) rationals as signed decimal degrees."""
    if not isinstance(value, tuple) or not 1 <= len(value) <= 3:
        return None
    parts = [float(v) for v in value]
    if not all(math.isfinite(p) and p >= 0 for p in parts):
        return None
    degrees = sum(p / 60 ** n for n, p in enumerate(parts))
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    return -degrees if isinstance(ref, str) and ref.strip("\x00 ").upper() == negative else degrees
