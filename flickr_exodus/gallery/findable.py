"""The gallery's search index, its page and its list of old links (gallery/search.py and
gallery/links.py): made from the model, so a subset's index holds its own items alone."""

from __future__ import annotations

from pathlib import Path

from . import links, search
from .model import Gallery
from .sanitize import plain


def write(out: Path, gallery: Gallery, renditions: dict[str, list]) -> dict:
    """OUT/site/search.html, OUT/site/data/search/ and OUT/site/data/links/."""
    def doc(pid: str, item: dict) -> search.Doc:
        found = renditions.get(pid)
        words = [plain(item["description"]), *(tag["tag"] for tag in item["tags"]),
                 *(plain(comment["text"]) for comment in item["comments"])]
        return search.Doc(id=pid, url=f"photos/{pid}.html", title=item["title"], text=" ".join(words),
                          thumb=found[0].path.removeprefix("site/") if found else "")

    written = search.write_index(out, (doc(pid, item) for pid, item in gallery.items.items()))
    changed = links.write_links(out, gallery.stream, list(gallery.albums))
    page = search.write_page(out, gallery.owner, gallery.subset)
    return {"search": written, "links_changed": changed, "page_changed": page}
