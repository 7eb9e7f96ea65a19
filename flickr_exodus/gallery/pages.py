"""The gallery's pages: Jinja2 templates (autoescaped) rendered into OUT, each written only
when its bytes change, and rendered only when its inputs changed since the last build
(a manifest of each page's input digest under OUT/site/): a rerun over an unchanged
backup reads the catalog, compares digests, and writes nothing."""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import stat
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import quote

from ..layout import paths
from .sanitize import clean
from .model import Gallery

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
MANIFEST = "site/pages.json"
# Folders of pages made one per thing: whatever of theirs this build did not make is removed.
OWNED = {"site/photos": ".html", "site/albums": ".html", "site/tags": ".html", "site/stream": ".html",
         "site/data/contexts": ".js"}
# Where the gallery writes files whole (a .tmp renamed): a kill mid-write leaves a .tmp that
# the next build removes, so that a copy of the folder (rsync) never publishes one. In OUT's
# own top folder (DEST itself for the full gallery) only the gallery's own names.
TMP_FOLDERS = ("site", "site/js", "site/img", "site/data", "site/data/search", "site/data/links", *OWNED)
TOP_FILES = ("index.html", "README.txt", "metadata.yml")
GRID_EAGER = 48  # thumbnails past this many on one page load as they scroll into view
MEDIUM = 500     # Flickr's note coordinates are in the "Medium" size's space: 500 px on the long edge
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "font-src 'self'; base-uri 'none'; form-action 'self'")


def environment():  # -> jinja2.Environment
    import jinja2  # here: a rerun that renders nothing never needs it

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["url"] = lambda path: quote(path, safe="/")
    env.filters["clean"] = clean  # Flickr's HTML, through the one allowlist
    env.globals["CSP"] = CSP
    return env


def code_digest() -> str:
    """Of the templates and static files: a new exodus with other pages renders every page again."""
    digest = hashlib.sha256()
    for folder in (TEMPLATES, STATIC):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for module in ("pages.py", "model.py", "sanitize.py", "exif.py"):
        digest.update((HERE / module).read_bytes())
    return digest.hexdigest()


def write_if_changed(out: Path, relative: str, data: bytes) -> bool:
    """OUT/relative holds `data` afterwards; written (whole: a .tmp renamed) only when its
    bytes differ, so an unchanged file keeps its mtime. True when written. The one write of
    the gallery: a link planted at either name is replaced, never written through, and
    nothing but a regular file is read (a FIFO would block)."""
    target = paths.inside(out, relative, link_ok=True)
    try:
        found = os.lstat(target)
        if stat.S_ISREG(found.st_mode) and found.st_size == len(data) and target.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    tmp = paths.sibling(out, relative, ".tmp", link_ok=True)
    tmp.unlink(missing_ok=True)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


def sweep_leftovers(out: Path, subset: bool) -> int:
    """Removes what a stopped build left of its own writes: NAME.tmp (and an earlier
    exodus's .NAME.tmp) in the folders the gallery owns, regular files and links (the link
    itself, never what it leads to). Returns how many."""
    folders = (*TMP_FOLDERS, "originals") if subset else TMP_FOLDERS
    removed = 0
    for folder in ("", *folders):
        try:
            where = paths.inside(out, f"{folder}/x" if folder else "x", mkdir=False).parent
            found = os.scandir(where)
        except (FileNotFoundError, NotADirectoryError, paths.OutsideDest):
            continue
        with found:
            for entry in found:
                ours = entry.name.endswith(".tmp") and (folder or entry.name.lstrip(".")[:-4] in TOP_FILES)
                if ours and (entry.is_symlink() or entry.is_file(follow_symlinks=False)):  # a link: itself
                    os.unlink(entry.path)
                    removed += 1
    return removed


class Site:
    """One build of the pages into OUT."""

    def __init__(self, gallery: Gallery, dest: Path, out: Path, renditions: dict[str, list[dict]]):
        """renditions: each item's, {"w", "h", "path"} smallest first (thumbs.Renditions.shown)."""
        self.g, self.dest, self.out = gallery, dest, out
        self.renditions = renditions
        self.env = None  # made when a page is first rendered
        self.code = code_digest()
        self.old = self._manifest()
        self.digests: dict[str, str] = {}
        self.listed: dict[str, set[str]] = {}  # folder -> its files, as the build began
        self.counts = {"pages": 0, "rendered": 0, "written": 0, "removed": 0}

    # --- the pages --------------------------------------------------------------------
    def build(self, progress: Callable[[int], None] | None = None) -> dict:
        self.static()
        g = self.g
        self.page("index.html", "index.html", "", latest=self.grid(g.stream[:GRID_EAGER]), months=self.month_list())
        for month in g.months:
            self.page(f"site/stream/{month['key']}.html", "stream.html", "../../", month=month["label"],
                      grid=self.grid(month["ids"]), months=self.month_list())
        for pid in g.stream:
            self.photo(pid)
            if progress:
                progress(1)
        for album in g.albums.values():
            self.page(f"site/albums/{album['id']}.html", "album.html", "../../", album=album,
                      grid=self.grid(album["ids"], f"album-{album['id']}"))
            self.context(f"album-{album['id']}", album["title"], f"albums/{album['id']}.html", album["ids"])
        self.page("site/albums.html", "albums.html", "../", albums=[self.album_card(a) for a in g.albums.values()])
        self.page("site/collections.html", "collections.html", "../", tree=[self.branch(c) for c in g.collections])
        for tag in g.tags.values():
            self.page(f"site/tags/{tag['slug']}.html", "tag.html", "../../", tag=tag["tag"],
                      grid=self.grid(tag["ids"], f"tag-{tag['slug']}"))
            self.context(f"tag-{tag['slug']}", tag["tag"], f"tags/{tag['slug']}.html", tag["ids"])
        self.page("site/tags.html", "tags.html", "../",
                  tags=[{"slug": t["slug"], "tag": t["tag"], "count": len(t["ids"])} for t in g.tags.values()])
        self.page("site/people.html", "people.html", "../",
                  people=[{"name": p["name"], "grid": self.grid(p["ids"])} for p in g.people])
        self.sweep()
        self.finish()
        return self.counts

    def photo(self, pid: str) -> None:
        g, item = self.g, self.g.items[pid]
        at = self._position(pid)
        sizes = self.renditions.get(pid, [])
        self.page(f"site/photos/{pid}.html", "photo.html", "../../", item=item, sizes=sizes,
                  notes=notes_placed(item["notes"], sizes),
                  prev=g.stream[at - 1] if at > 0 else None,
                  next=g.stream[at + 1] if at + 1 < len(g.stream) else None,
                  late=lambda: {"exif": self.exif(item)})

    def _position(self, pid: str) -> int:
        if not hasattr(self, "_positions"):
            self._positions = {p: n for n, p in enumerate(self.g.stream)}
        return self._positions[pid]

    def exif(self, item: dict) -> list:
        if item["media"] != "photo" or not item["saved"]:
            return []
        from . import exif  # here: Pillow, for a page rendered (a rerun that renders none never needs it)

        try:
            return exif.summary(paths.inside(self.dest, self.g.originals[item["id"]], mkdir=False))
        except (paths.OutsideDest, KeyError):
            return []

    def grid(self, ids: Iterable[str], context: str | None = None) -> list[dict]:
        cells = []
        for n, pid in enumerate(ids):
            item = self.g.items[pid]
            sizes = self.renditions.get(pid)
            cells.append({"id": pid, "title": item["title"], "media": item["media"], "saved": item["saved"],
                          "thumb": sizes[0] if sizes else None, "lazy": n >= GRID_EAGER,
                          "query": f"?in={context}" if context else ""})
        return cells

    def album_card(self, album: dict) -> dict:
        sizes = self.renditions.get(album["cover"])
        return {"id": album["id"], "title": album["title"], "count": len(album["ids"]),
                "thumb": sizes[0] if sizes else None, "description": album["description"]}

    def branch(self, collection: dict) -> dict:
        return {"title": collection["title"], "description": collection["description"],
                "cards": [self.album_card(self.g.albums[aid]) for aid in collection["albums"]],
                "children": [self.branch(child) for child in collection["children"]]}

    def month_list(self) -> list[dict]:
        if not hasattr(self, "_months"):
            self._months = [{"key": m["key"], "label": m["label"], "year": m["year"], "count": len(m["ids"])}
                            for m in self.g.months]
        return self._months

    def context(self, name: str, title: str, href: str, ids: list[str]) -> None:
        """site/data/contexts/NAME.js: an album's or a tag's order, for nav.js's arrow keys."""
        document = json.dumps({"title": title, "href": href, "ids": ids}, ensure_ascii=True)
        # ensure_ascii and '<' escaped: the text of a hostile title cannot close anything
        script = f"exodusContext({json.dumps(name)}, {document.replace('<', chr(92) + 'u003c')});\n"
        self.file(f"site/data/contexts/{name}.js", script.encode())

    def page(self, relative: str, template: str, root: str, late: Callable[[], dict] | None = None,
             **context) -> None:
        context.update(root=root, owner=self.g.owner, subset=self.g.subset, page=relative)
        digest = digest_of(self.code, template, context)
        self.digests[relative] = digest
        self.counts["pages"] += 1
        if self.old.get(relative) == digest and self._present(relative):
            return
        if late:
            context.update(late())
        self.counts["rendered"] += 1
        self.env = self.env or environment()
        html = self.env.get_template(template).render(**context)
        self.file(relative, html.encode("utf-8"), counted=False)

    def file(self, relative: str, data: bytes, counted: bool = True) -> None:
        if counted:
            digest = self.digests[relative] = hashlib.sha256(data).hexdigest()
            if self.old.get(relative) == digest and self._present(relative):
                return  # as the last build wrote it: not read again to be compared (2,500 albums and tags)
        if write_if_changed(self.out, relative, data):
            self.counts["written"] += 1

    def _present(self, relative: str) -> bool:
        """Whether OUT/relative is a file (or a link to one, as os.path.isfile says): each
        folder is listed once a build, not each of its 10,000 pages looked up."""
        folder, _, name = relative.rpartition("/")
        found = self.listed.get(folder)
        if found is None:
            found = self.listed[folder] = _files(os.path.join(self.out, folder))
        return name in found

    def static(self) -> None:
        # static/*.js; static/js/ holds the search page's scripts, written with it (search.write_page)
        for path in sorted(STATIC.glob("*.js")):
            self.file(f"site/js/{path.name}", path.read_bytes())
        self.file("site/style.css", (STATIC / "style.css").read_bytes() + note_rules().encode())

    # --- what a build leaves ----------------------------------------------------------
    def sweep(self) -> None:
        """Pages of items, albums and tags no longer in the gallery go (only in OWNED folders,
        only files of their kind)."""
        for folder, suffix in OWNED.items():
            try:
                found = os.scandir(paths.inside(self.out, folder + "/x", mkdir=False).parent)
            except (FileNotFoundError, NotADirectoryError):
                continue
            with found:
                for entry in found:
                    relative = f"{folder}/{entry.name}"
                    if entry.name.endswith(suffix) and relative not in self.digests and entry.is_file(
                            follow_symlinks=False):
                        os.unlink(entry.path)
                        self.counts["removed"] += 1

    def finish(self) -> None:
        write_if_changed(self.out, MANIFEST, manifest_bytes(self.digests))

    def _manifest(self) -> dict[str, str]:
        try:
            found = json.loads((self.out / MANIFEST).read_text(encoding="utf-8"))["pages"]
        except (OSError, ValueError, KeyError, TypeError):
            return {}
        return found if isinstance(found, dict) else {}


def manifest_bytes(digests: dict[str, str]) -> bytes:
    """json.dumps({"pages": digests}, sort_keys=True, indent=0), byte for byte, from json's C
    encoder: with an indent json encodes in Python, a fifth of a second at 12,000 pages."""
    if not digests:
        return b'{\n"pages": {}\n}'
    body = json.dumps(digests, sort_keys=True, separators=(",\n", ": "))
    return ('{\n"pages": {\n' + body[1:-1] + "\n}\n}").encode()


def _files(folder: str) -> set[str]:
    try:
        with os.scandir(folder) as found:
            return {entry.name for entry in found if entry.is_file()}
    except OSError:  # missing, not a folder, unreadable: as os.path.isfile, nothing there
        return set()


def digest_of(*inputs) -> str:
    """Of a page's inputs (plain dicts, lists, strings, numbers, in the model's order, itself
    from ordered reads). marshal's format 2 writes no back-references, so equal inputs give
    equal bytes in every run; a new Python may change them: every page is rendered once more."""
    return hashlib.sha256(marshal.dumps(inputs, 2)).hexdigest()


def notes_placed(notes: list[dict], sizes: list[dict]) -> list[dict]:
    """Each note's box in percent of the image shown (whole percents: the classes of
    style.css place them, as the page's CSP allows no inline style)."""
    if not notes or not sizes:
        return []
    width, height = sizes[-1]["w"], sizes[-1]["h"]
    scale = min(1.0, MEDIUM / max(width, height, 1))  # a small original is its own Medium
    medium_w, medium_h = width * scale, height * scale
    placed = []
    for note in notes:
        x, y, w, h = note["box"]
        left = _percent(x, medium_w)
        top = _percent(y, medium_h)
        placed.append({"text": note["text"], "author": note["author"],
                       "classes": f"nx-{left} ny-{top} nw-{max(1, min(_percent(w, medium_w), 100 - left))} "
                                  f"nh-{max(1, min(_percent(h, medium_h), 100 - top))}"})
    return placed


def _percent(value: int, whole: float) -> int:
    return max(0, min(100, round(100 * value / whole))) if whole else 0


def note_rules() -> str:
    """style.css's classes for note boxes: left, top, width and height in whole percents."""
    rules = ["\n/* note boxes, placed by class (made by exodus: the CSP allows no inline style) */"]
    for prefix, prop in (("nx", "left"), ("ny", "top"), ("nw", "width"), ("nh", "height")):
        rules += [f".{prefix}-{n}{{{prop}:{n}%}}" for n in range(101)]
    return "\n".join(rules) + "\n"
