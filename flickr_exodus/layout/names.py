"""File and folder names that are safe on Linux, macOS and Windows, whatever the title.

A title is only decoration: the Flickr id in every name makes it unique, so two photos
called "IMG_0001" (or "../../etc", or "CON") can never collide or escape the tree.
"""

from __future__ import annotations

import re
import unicodedata

from ..flickr.parse import date_parts

SLUG_BYTES = 80  # readable; with the id and extension far below the 255-byte name limit
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
                     *(f"LPT{i}" for i in range(10))}
# Forbidden on Windows or a path separator somewhere, plus invisible direction controls
# that make a name read differently from what it is.
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]')
_SPACES = re.compile(r"[\s_]+")


def slug(title: str, max_bytes: int = SLUG_BYTES) -> str:
    """A title as a name fragment: NFC, no separators, control or bidi characters, no
    leading dots, at most max_bytes of UTF-8 cut on a character boundary."""
    text = unicodedata.normalize("NFC", title or "")
    text = _FORBIDDEN.sub(" ", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    text = _SPACES.sub("_", text).strip("._- ")
    encoded = text.encode("utf-8")
    if len(encoded) > max_bytes:
        text = encoded[:max_bytes].decode("utf-8", "ignore").rstrip("._- ")
    if text.split(".")[0].upper() in _WINDOWS_RESERVED:
        text = "_" + text
    return text


def file_name(item_id: str, title: str, ext: str) -> str:
    part = slug(title)
    stem = f"{item_id}_{part}" if part else item_id
    return f"{stem}.{ext}" if ext else stem


def day_folder(date_taken: str | None, unknown: bool) -> str:
    parts = None if unknown else date_parts(date_taken or "")
    return "/".join(("photos", *parts)) if parts else "photos/undated"


def item_path(item_id: str, title: str, ext: str, date_taken: str | None, unknown: bool) -> str:
    """DEST-relative, always with '/': photos/YYYY/MM/DD/{id}_{slug}.{ext}."""
    return f"{day_folder(date_taken, unknown)}/{file_name(item_id, title, ext)}"


def view_name(title: str, flickr_id: str) -> str:
    """An album's or a collection's folder: {slug}_{id}."""
    part = slug(title)
    return f"{part}_{flickr_id}" if part else flickr_id


# A smaller size kept in place of a withheld original says so in its name:
# {id}_{title}.size-l.jpg, {id}_{title}.size-700.mp4.
_KEPT = re.compile(r"\.size-[^./]+\.[^./]+$")


def kept_ext(kept_size: str | None, ext: str) -> str:
    return f"size-{(kept_size or 'largest').split()[0]}.{ext}"


def is_kept_name(relative: str) -> bool:
    return bool(_KEPT.search(relative))
