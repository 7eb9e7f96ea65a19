"""Where a favorite lands: DEST/faves/{id}_{title}.{ext}. Backup writes there, push reads
from there; the catalog's favorites table holds who, what and where."""

from __future__ import annotations

from pathlib import Path

from ..flickr import ids
from . import names, paths, writer

FOLDER = "faves"


def fave_file(row: dict) -> str:
    ext = row["url"].rsplit(".", 1)[-1] if "." in row["url"].rsplit("/", 1)[-1] else "jpg"
    return names.file_name(row["id"], row["title"], ids.photo_format(ext) or "jpg")


def fave_relative(row: dict) -> str:
    return f"{FOLDER}/{fave_file(row)}"


def fave_path(dest: Path, row: dict) -> Path:
    """DEST/faves/{id}_{title}.{ext}, proven inside DEST (and its partial file with it)."""
    if not ids.is_photo_id(row["id"]):
        raise paths.OutsideDest(dest, row["id"], "the favorite's id is not one of Flickr's")
    return writer.prove(dest, fave_relative(row), mkdir=False)
