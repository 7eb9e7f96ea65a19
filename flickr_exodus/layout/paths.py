"""The one way to a path exodus writes under DEST.

Every writer (downloads and their .part, sidecars, XMP, album and collection views,
faves, links.csv, import-export, earlier versions) asks `inside` for its path. It takes a
DEST-relative name with '/' and proves, before anything is opened, that the name has no
'..', no absolute part, no NUL, and that its parent folder as it exists now (symlinks
resolved) is DEST or below it. Anything else is refused with `OutsideDest`: a hostile
answer from Flickr must never choose where a file lands.
"""

from __future__ import annotations

import os
from pathlib import Path

NAME_BYTES = 255  # the longest file name Linux, macOS and Windows all allow


class OutsideDest(Exception):
    """A path that would not stay inside DEST: nothing was written."""

    def __init__(self, dest: Path, relative, why: str):
        super().__init__(f"refusing to write {relative!r} under {dest}: {why}")
        self.why = why


def parts_of(dest: Path, relative) -> list[str]:
    """The components of a DEST-relative name, or OutsideDest if it could leave DEST."""
    if not isinstance(relative, str) or not relative:
        raise OutsideDest(dest, relative, "not a relative path")
    if "\x00" in relative:
        raise OutsideDest(dest, relative, "it holds a NUL byte")
    if relative.startswith("/") or "\\" in relative or (len(relative) > 1 and relative[1] == ":"):
        raise OutsideDest(dest, relative, "it is an absolute path")
    parts = relative.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise OutsideDest(dest, relative, f"it has a {part or 'empty'!r} component")
        if len(part.encode("utf-8", "surrogatepass")) > NAME_BYTES:
            raise OutsideDest(dest, relative, f"a component is longer than {NAME_BYTES} bytes")
    return parts


def _within(real_dest: str, real: str) -> bool:
    return real == real_dest or real.startswith(real_dest.rstrip(os.sep) + os.sep)


def inside(dest: Path, relative: str, mkdir: bool = True, link_ok: bool = False) -> Path:
    """DEST/relative, proven to resolve inside DEST; with mkdir its parent folders are made
    (only once proven). The file itself may not be a symlink unless link_ok (the views
    replace their own links; every other writer would write through one)."""
    parts = parts_of(dest, relative)
    real_dest = os.path.realpath(dest)
    target = dest.joinpath(*parts)
    # The deepest folder that exists now decides where the rest lands: below it, mkdir
    # makes real folders (no name is '..').
    existing = target.parent
    while not os.path.lexists(existing) and existing != dest:
        existing = existing.parent
    real_parent = os.path.realpath(existing)
    if not _within(real_dest, real_parent):
        raise OutsideDest(dest, relative, f"{existing} leads to {real_parent}, outside DEST")
    if existing != target.parent and not os.path.isdir(real_parent):
        raise OutsideDest(dest, relative, f"{existing} is not a folder")
    if not link_ok and os.path.islink(target):
        raise OutsideDest(dest, relative, "a symlink is in the file's place")
    if mkdir:
        target.parent.mkdir(parents=True, exist_ok=True)
    return target


def sibling(dest: Path, relative: str, suffix: str, **options) -> Path:
    """The path of relative+suffix (a .part, .tmp, .json, .xmp), proven like any other."""
    return inside(dest, relative + suffix, **options)


def link_text(dest: Path, folder: str, target: str) -> str:
    """The relative text of a symlink in DEST/folder that points to DEST/target, proven to
    land inside DEST: both names are clean, and DEST/folder is a real folder (no symlink
    on the way), so '../' once per level leads back to DEST itself."""
    depth = len(parts_of(dest, folder))
    parts_of(dest, target)
    real_dest = os.path.realpath(dest)
    real_folder = os.path.realpath(dest / folder)
    if real_folder != os.path.join(real_dest, *folder.split("/")):
        raise OutsideDest(dest, folder, f"{dest / folder} is reached through a symlink")
    return "../" * depth + target
