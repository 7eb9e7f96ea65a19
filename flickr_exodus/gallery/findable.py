"""The gallery's search index and its list of old links, where this exodus has them
(gallery/search.py and gallery/links.py): made from the model, so a subset's index holds
its own items alone."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .model import Gallery
from .sanitize import plain


def available() -> bool:
    return all(importlib.util.find_spec(f"{__package__}.{name}") for name in ("search", "links"))


def write(out: Path, gallery: Gallery, renditions: dict[str, list]) -> dict:
    """OUT/site/data/search/ and OUT/site/data/links/; {} when this exodus has neither."""
    if not available():
        return {}
    from . import links, search

    def doc(pid: str, item: dict) -> "search.Doc":
        found = renditions.get(pid)
        words = [plain(item["description"]), *(tag["tag"] for tag in item["tags"]),
                 *(plain(comment["text"]) for comment in item["comments"])]
        return search.Doc(id=pid, url=f"photos/{pid}.html", title=item["title"], text=" ".join(words),
                          thumb=found[0].path.removeprefix("site/") if found else "")

    written = search.write_index(out, (doc(pid, item) for pid, item in gallery.items.items()))
    changed = links.write_links(out, gallery.stream, list(gallery.albums))
    return {"search": written, "links_changed": changed}
