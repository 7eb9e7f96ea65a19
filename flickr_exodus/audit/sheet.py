"""DEST/audit.html: the audit's contact sheet, opened from the folder with no server and no network.

The photos grouped by risk, each with its thumbnail, the faces found drawn over it, its
reasons under it and a checkbox; filters by risk and by reason; the ticked ids saved from
the page itself as a file for `exodus lockdown --ids` and `exodus delete-remote --ids`.

It is built with the gallery's machinery (its Jinja2 environment, Content-Security-Policy,
write-if-changed and renditions manifest) but its files are its own: DEST/audit.html and the
folder DEST/site/audit/, which `exodus gallery` neither writes, sweeps nor prunes (its sweeps
touch only the folders and top files it names), and `exodus push` carries with the rest of
DEST/site/. The gallery's 320 px rendition is the thumbnail where DEST has one, else the
original itself, loaded lazily. The items are data for the page's script (site/audit/data.js,
as file:// pages may not fetch()), which renders them a page at a time, so that 10,000 items
open at once; every text goes in as text, never as markup.

The report may come from a hostile catalog: its shape is checked first (one ValueError line
naming what is wrong, nothing written), and every path in it is proven to stay inside DEST
before it becomes a link; one that would not is left out, not linked.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import stat
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlsplit

from ..dest import UsageProblem
from ..flickr import ids
from ..gallery import owned, thumbs
from ..gallery.pages import TEMPLATES as GALLERY_TEMPLATES, environment, write_if_changed
from ..layout import paths
from ..layout.companions import POSTER

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
PAGE = "audit.html"
FOLDER = "site/audit"  # the sheet's own: what it did not write this time is removed
DATA = f"{FOLDER}/data.js"
MARK = "<!-- made by exodus audit -->"
RISKS = ("exposed", "high", "medium", "low")
MEDIA = ("photo", "video")
# What an <img> shows in every browser: any other original (TIFF, HEIC, a raw) gets no thumbnail
# unless the gallery drew one.
VIEWABLE = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp")
FLICKR_HOSTS = ("flickr.com", "www.flickr.com", "m.flickr.com")
_URL_CHARS = re.compile(r"[^\x00-\x20\x7f\"'<>\\`]+")  # what a URL may hold unquoted, and no space
ASPECT_SLACK = 0.02  # a thumbnail whose shape differs more than this from the one the faces were found in


def write(dest: Path, report: dict) -> Path:
    """DEST/audit.html and DEST/site/audit/ for `report` (the document `exodus audit --json`
    prints). ValueError (one line) for a report of another shape, UsageProblem for an
    audit.html exodus did not make or a site/ that leads out of DEST; nothing is written then."""
    check(report)
    dest = Path(dest)
    _ours(dest / PAGE)
    try:
        data = _data(dest, report)
        files = {f"{FOLDER}/{path.name}": path.read_bytes() for path in _assets()}  # as the gallery's static()
        files[DATA] = _script(data)
        page = _page(dest, report, data).encode("utf-8", "replace")  # a file name of bytes that are not UTF-8
        for relative, content in files.items():
            write_if_changed(dest, relative, content)
        write_if_changed(dest, PAGE, page)  # last: it names the rest
        _sweep(dest, set(files))
    except paths.OutsideDest as error:
        raise UsageProblem(f"the audit sheet was not written: {error}") from None
    return dest / PAGE


# --- the report's shape -----------------------------------------------------------------

def check(report) -> None:
    """ValueError naming the first thing of `report` that is not as `exodus audit --json`
    documents it (only what the sheet shows is looked at; other keys are let be)."""
    _need(isinstance(report, dict), "the report", "an object")
    _need(isinstance(report.get("faces_checked"), bool), "faces_checked", "true or false")
    for key in ("faces_note", "detector"):
        _need(report.get(key) is None or isinstance(report[key], str), key, "text or null")
    problems = report.get("problems", [])
    _need(isinstance(problems, list) and all(isinstance(p, str) for p in problems), "problems", "a list of text")
    datasets = report.get("datasets", [])
    _need(isinstance(datasets, list), "datasets", "a list")
    for n, found in enumerate(datasets):
        _need(isinstance(found, dict) and all(isinstance(found.get(k), str) for k in ("file", "dataset")),
              f"datasets[{n}]", "an object with a file and a dataset")
        _need(_count(found.get("rows", 0)), f"datasets[{n}].rows", "a count")
    items = report.get("items")
    _need(isinstance(items, list), "items", "a list")
    seen: set[str] = set()
    for n, item in enumerate(items):
        _check_item(item, f"items[{n}]")
        _need(item["id"] not in seen, f"items[{n}].id", f"listed once ({item['id']} is listed twice)")
        seen.add(item["id"])


def _check_item(item, where: str) -> None:
    _need(isinstance(item, dict), where, "an object")
    _need(isinstance(item.get("id"), str) and ids.is_photo_id(item["id"]), f"{where}.id", "a Flickr photo id")
    _need(item.get("title") is None or isinstance(item["title"], str), f"{where}.title", "text")
    _need(item.get("media") in MEDIA, f"{where}.media", "photo or video")
    _need(item.get("risk") in RISKS, f"{where}.risk", "one of " + ", ".join(RISKS))
    reasons = item.get("reasons")
    _need(isinstance(reasons, list), f"{where}.reasons", "a list")
    for m, reason in enumerate(reasons):
        _need(isinstance(reason, dict) and isinstance(reason.get("code"), str) and reason["code"]
              and isinstance(reason.get("text"), str), f"{where}.reasons[{m}]", "an object with a code and a text")
    for key in ("width", "height"):
        _need(item.get(key) is None or (_count(item[key]) and item[key] > 0), f"{where}.{key}", "a size in pixels")
    for key in ("path", "url"):
        _need(item.get(key) is None or isinstance(item[key], str), f"{where}.{key}", "text or null")
    faces = item.get("faces")
    _need(faces is None or isinstance(faces, list), f"{where}.faces", "a list of boxes or null")
    for m, box in enumerate(faces or []):
        _need(isinstance(box, list) and len(box) == 4 and all(_number(v) for v in box) and box[2] > 0 and box[3] > 0,
              f"{where}.faces[{m}]", "a box [x, y, width, height]")
    _need(not faces or (item.get("width") and item.get("height")), f"{where}", "sized (faces need width and height)")


def _need(ok, where: str, what: str) -> None:
    if not ok:
        raise ValueError(f"the audit report cannot be shown: {where} is not {what}")


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _ours(page: Path) -> None:
    """An audit.html there must be exodus's own (a user's file of that name is never replaced)."""
    if not os.path.lexists(page):
        return
    if not owned.carries(page, MARK):
        raise UsageProblem(f"{page} was not made by exodus: move it away (or rename it) and run the audit again; "
                           "nothing was written")


# --- what the page shows ------------------------------------------------------------------

def _data(dest: Path, report: dict) -> dict:
    """The page script's document: the items in the report's order, each reason once in a
    table (10,000 items share a few dozen texts), links proven inside DEST."""
    renditions, link = thumbs.made_before(dest), _Links(dest)
    table: dict[tuple[str, str], int] = {}
    items = []
    for item in report["items"]:
        why = [table.setdefault((r["code"], r["text"]), len(table)) for r in item["reasons"]]
        shown = _thumbnail(item, renditions, link)
        items.append({"id": item["id"], "t": item.get("title") or "", "m": item["media"], "r": item["risk"],
                      "why": why, "img": shown[0] if shown else "", "w": shown[1] if shown else 0,
                      "h": shown[2] if shown else 0, "f": _boxes(item, shown),
                      "o": link(item.get("path")) or "", "u": _flickr(item.get("url")) or ""})
    return {"reasons": [list(pair) for pair in table], "items": items}


def _thumbnail(item: dict, renditions, link: _Links) -> tuple[str, int, int] | None:
    """(src, width, height) of the picture shown: the gallery's smallest rendition, else the
    original (a video's poster) when a browser can show it; None when there is nothing."""
    drawn = renditions.get(item["id"])
    if drawn:
        src = link(drawn[0].path)
        if src:
            return src, drawn[0].width, drawn[0].height
    path = item.get("path")
    if not path:
        return None
    still = path if item["media"] == "photo" else path + POSTER
    src = link(still) if still.lower().endswith(VIEWABLE) else None
    if not src:
        return None
    return src, item.get("width") or 0, item.get("height") or 0


class _Links:
    """Relative URLs to files of DEST: a name is linked when it is a regular file proven
    inside DEST (no '..', nothing absolute, no link on the way out: paths.inside, once per
    folder, as 10,000 items share a few hundred); else None, and it is not linked."""

    def __init__(self, dest: Path):
        self.dest = dest
        self.folders: dict[str, bool] = {}
        self.files: dict[str, str | None] = {}

    def __call__(self, relative: str | None) -> str | None:
        if not relative:
            return None
        if relative not in self.files:
            self.files[relative] = quote(relative, safe="/") if self._proven(relative) else None
        return self.files[relative]

    def _proven(self, relative: str) -> bool:
        try:
            folder = "/".join(paths.parts_of(self.dest, relative)[:-1])
        except paths.OutsideDest:
            return False
        if folder not in self.folders:
            self.folders[folder] = self._inside(folder)
        try:
            return self.folders[folder] and stat.S_ISREG(os.lstat(self.dest / relative).st_mode)
        except OSError:
            return False

    def _inside(self, folder: str) -> bool:
        """The folder is DEST, or is no link and its parent resolves inside DEST."""
        try:
            return not folder or bool(paths.inside(self.dest, folder, mkdir=False))
        except paths.OutsideDest:
            return False


def _flickr(url) -> str | None:
    """The item's page on Flickr, only as an https URL of Flickr's own host."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    ok = parts.scheme == "https" and parts.hostname in FLICKR_HOSTS and not parts.username and not parts.password
    return url if ok and _URL_CHARS.fullmatch(url) else None


def _boxes(item: dict, shown: tuple[str, int, int] | None) -> list[list[float]]:
    """The faces as [left, top, width, height] in percent of the picture (so they scale with
    it), cut to its edges. None drawn over a thumbnail of another shape (a rendition turned
    by the rotation the owner set on Flickr, which the detector did not see)."""
    faces, width, height = item.get("faces"), item.get("width"), item.get("height")
    if not faces or not shown:
        return []
    if shown[1] and shown[2] and abs(shown[1] / shown[2] - width / height) > ASPECT_SLACK * (width / height):
        return []
    boxes = []
    for x, y, w, h in faces:
        left, top = _clip(100 * x / width), _clip(100 * y / height)
        right, bottom = _clip(100 * (x + w) / width), _clip(100 * (y + h) / height)
        if right > left and bottom > top:
            boxes.append([round(left, 2), round(top, 2), round(right - left, 2), round(bottom - top, 2)])
    return boxes


def _clip(percent: float) -> float:
    return max(0.0, min(100.0, percent))


def _script(data: dict) -> bytes:
    # ensure_ascii and '<' escaped, as the gallery's contexts: no text can end the script
    document = json.dumps(data, ensure_ascii=True, separators=(",", ":")).replace("<", "\\u003c")
    return f"window.exodusAudit = {document};\n".encode("ascii")


def _page(dest: Path, report: dict, data: dict) -> str:
    counts = Counter(item["r"] for item in data["items"])
    codes = Counter(code for item in data["items"] for code in {data["reasons"][n][0] for n in item["why"]})
    import jinja2

    env = environment()  # the gallery's: autoescaped, its CSP and filters
    env.loader = jinja2.FileSystemLoader([TEMPLATES, GALLERY_TEMPLATES])  # its _head.html: the same CSP
    return env.get_template("audit.html").render(
        MARK=MARK, folder=FOLDER, risks=[(level, counts[level]) for level in RISKS], total=len(data["items"]),
        codes=sorted(codes.items(), key=lambda pair: (-pair[1], pair[0])), dest=shlex.quote(str(dest)),
        name=dest.name or str(dest), faces_checked=report["faces_checked"], faces_note=report.get("faces_note"),
        detector=report.get("detector"), datasets=report.get("datasets", []), problems=report.get("problems", []))


def _assets() -> list[Path]:
    return sorted(path for path in STATIC.iterdir() if path.suffix in (".js", ".css") and path.is_file())


def _sweep(dest: Path, written: set[str]) -> None:
    """What the sheet's folder holds that this write did not make (an interrupted write's
    .tmp, an earlier exodus's files) goes, and audit.html's own .tmp; links as links."""
    folder = paths.inside(dest, f"{FOLDER}/x", mkdir=False).parent
    with os.scandir(folder) as found:
        for entry in found:
            if f"{FOLDER}/{entry.name}" not in written and (entry.is_symlink() or entry.is_file(follow_symlinks=False)):
                os.unlink(entry.path)
    tmp = dest / f"{PAGE}.tmp"
    if os.path.islink(tmp) or tmp.is_file():
        tmp.unlink()
