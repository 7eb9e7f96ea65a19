"""The gallery's search index, its page and its list of old links (gallery/search.py and
gallery/links.py): made from the model, so a subset's index holds its own items alone.

A digest of everything they are made of (the items' words and thumbnails, the stream, the
albums, the code that writes them) is kept beside them: a rerun over an unchanged backup
compares it and makes nothing (building the index reads every word of every item)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from . import links, search
from .model import Gallery
from .pages import TEMPLATES, digest_of, write_if_changed
from .sanitize import plain

DIGEST = "site/data/findable.sha256"
# What must be there for an unchanged digest to mean an unchanged index (meta.js names the rest).
PRESENT = (search.PAGE, *(f"site/{name}" for name in search.STATIC), f"{search.DATA}/meta.js", f"{links.DATA}/p-00.js")


def write(out: Path, gallery: Gallery, renditions: dict[str, list[dict]]) -> dict:
    """OUT/site/search.html, OUT/site/data/search/ and OUT/site/data/links/; renditions as
    the pages have them (thumbs.Renditions.shown)."""
    thumbs = {pid: found[0]["path"].removeprefix("site/") for pid, found in renditions.items() if found}
    digest = inputs_digest(gallery, thumbs)
    if _unchanged(out, digest):
        return {"search": None, "links_changed": 0, "page_changed": 0}

    def doc(pid: str, item: dict) -> search.Doc:
        words = [plain(item["description"]), *(tag["tag"] for tag in item["tags"]),
                 *(plain(comment["text"]) for comment in item["comments"])]
        return search.Doc(id=pid, url=f"photos/{pid}.html", title=item["title"], text=" ".join(words),
                          thumb=thumbs.get(pid, ""))

    written = search.write_index(out, (doc(pid, item) for pid, item in gallery.items.items()))
    changed = links.write_links(out, gallery.stream, list(gallery.albums))
    page = search.write_page(out, gallery.owner, gallery.subset)
    write_if_changed(out, DIGEST, (digest + "\n").encode())  # last: a stop before it means a rebuild
    return {"search": written, "links_changed": changed, "page_changed": page}


def inputs_digest(gallery: Gallery, thumbs: dict[str, str]) -> str:
    words = [(pid, item["title"], item["description"], [tag["tag"] for tag in item["tags"]],
              [comment["text"] for comment in item["comments"]], thumbs.get(pid, ""))
             for pid, item in gallery.items.items()]
    return digest_of(_code(), gallery.owner, gallery.subset, words, gallery.stream, list(gallery.albums))


def _code() -> str:
    """Of the modules and files that write the index, the lists and the page."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for path in (here / "search.py", here / "links.py", here / "findable.py", here / "sanitize.py", here / "pages.py",
                 TEMPLATES / "search.html", TEMPLATES / "base.html",
                 *(here / "static" / name for name in search.STATIC)):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _unchanged(out: Path, digest: str) -> bool:
    try:
        if (out / DIGEST).read_text(encoding="ascii").strip() != digest:
            return False
    except (OSError, UnicodeDecodeError):
        return False
    return all(os.path.isfile(out / relative) for relative in PRESENT)
