"""The files a full gallery writes at the top of DEST (index.html, README.txt, metadata.yml)
sit where a user may keep files of their own: each is written only when absent or made by
exodus, known by a mark it carries (the README's first line, a comment in index.html, the
first line of metadata.yml). Anything else there stops the gallery before it writes."""

from __future__ import annotations

import os
from pathlib import Path

from ..dest import UsageProblem

README_MARK = "This folder was made by exodus (flickr-exodus), a tool for leaving Flickr with everything."
INDEX_MARK = "<!-- made by exodus gallery -->"
METADATA_MARK = "# Datasette's metadata for catalog.db, written by exodus gallery"
# index.html as the first gallery (before INDEX_MARK) began it: exodus's own head, CSP and all.
_INDEX_BEFORE = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                 '<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src')
HEAD_BYTES = 65536  # every mark is in a file's first lines (an earlier README's at its end)


def check(dest: Path) -> None:
    """UsageProblem naming the first of DEST's top files that exodus did not make."""
    for name, ours in (("index.html", _index), ("README.txt", _readme), ("metadata.yml", _metadata)):
        path = dest / name
        if not os.path.lexists(path):
            continue
        if os.path.islink(path) or not path.is_file() or not ours(_head(path)):
            raise UsageProblem(f"{path} was not made by exodus: move it away (or rename it) and run the gallery "
                               "again; nothing was written")


def carries(path: Path, mark: str) -> bool:
    """A regular file (not a link) whose first bytes hold exodus's `mark`: a file of exodus's
    own that it may replace (the audit's sheet asks this of its page too)."""
    return not os.path.islink(path) and path.is_file() and mark in _head(path)


def _head(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            return f.read(HEAD_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def _index(head: str) -> bool:
    return INDEX_MARK in head or head.startswith(_INDEX_BEFORE)


def _readme(head: str) -> bool:
    earlier = head.startswith(("This folder is a backup of the Flickr account of ",
                               "This folder is a selection of the Flickr account of ")) and README_MARK in head
    return head.startswith(README_MARK) or earlier  # earlier: as exodus wrote it before the mark led


def _metadata(head: str) -> bool:
    return head.startswith(METADATA_MARK)
