"""The shapes of Flickr's ids and of the formats exodus keeps.

Ids and formats from Flickr's answers (and from an account export) become parts of file
names, folder names, links.csv and URLs: one that is not Flickr's shape ("../..", an
absolute path, a NUL, ten thousand digits) is refused where the answer becomes a record,
never cleaned into something else. [0-9], not \\d: \\d also matches other scripts' digits.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,20}")
_COLLECTION = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
_NSID = re.compile(r"[0-9]{1,20}@N[0-9]{1,4}")
# A path alias is chosen by its owner: letters, digits, '_' and '-' on Flickr.
_ALIAS = re.compile(r"[A-Za-z0-9_-]{1,64}")

# The kinds media/magic.py can recognise, under the names Flickr and cameras give them.
PHOTO_FORMATS = frozenset({"jpg", "jpeg", "png", "gif", "tif", "tiff", "heic", "webp", "bmp"})
VIDEO_FORMATS = frozenset({"mp4", "mov", "avi", "mpg", "mpeg", "mkv", "3gp", "3g2", "m4v", "wmv",
                           "ogv", "webm", "flv", "mts", "m2ts"})


class Malformed(ValueError):
    """A record from Flickr (or an export) that exodus cannot use as it is."""


def shown(value, limit: int = 40) -> str:
    """A hostile value, quoted and cut short, for one line of a report."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...'"


def _fits(pattern: re.Pattern, value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return False
    return pattern.fullmatch(str(value)) is not None


def is_photo_id(value) -> bool:
    """A photo's or a video's id: digits only."""
    return _fits(_DIGITS, value)


is_album_id = is_photo_id  # photosets: digits only


def is_collection_id(value) -> bool:
    """'{user number}-{collection number}'."""
    return _fits(_COLLECTION, value)


def is_gallery_id(value) -> bool:
    """galleries.getList's id is '{user number}-{gallery number}'; its gallery_id the
    number alone: either."""
    return _fits(_DIGITS, value) or _fits(_COLLECTION, value)


def is_nsid(value) -> bool:
    return _fits(_NSID, value)


def is_path_alias(value) -> bool:
    return _fits(_ALIAS, value)


def checked(value, test, what: str) -> str:
    """str(value) if it has the shape, else Malformed naming what it was."""
    if not test(value):
        raise Malformed(f"{what} {shown(value)} is not one of Flickr's ids")
    return str(value)


def photo_format(value) -> str | None:
    """An original's format as exodus names its file ('JPG' -> 'jpg'); None if not kept."""
    text = value.lower() if isinstance(value, str) else ""
    return text if text in PHOTO_FORMATS else None


def video_format(value) -> str | None:
    text = value.lower() if isinstance(value, str) else ""
    return text if text in VIDEO_FORMATS else None


def format_refused(value, video: bool = False) -> str:
    kind = "a video" if video else "an image"
    return f"Flickr named the original's format {shown(value)}, which is not {kind} format exodus keeps"
