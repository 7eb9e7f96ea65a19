"""`exodus gallery DEST`: the backup as a site that opens from a folder, offline.

The full gallery (the owner's, private items included) is written into DEST beside the
backup: DEST/index.html, DEST/README.txt, everything else under DEST/site/. A subset
(`--only public`, `--ids FILE`) is meant to be published, so it never sits beside private
items: it goes to a folder of its own (--out), with copies of the originals it shows under
OUT/originals/ (copies, not links: an edit of the published file must not reach the backup),
every file 0644 and folder 0755 on purpose, as it is made to be published.
"""

from __future__ import annotations

import os
import shutil
import stat
import webbrowser
from dataclasses import dataclass
from pathlib import Path

from ..dest import UsageProblem, not_writable, open_backup, writable
from ..flickr import ids
from ..layout import paths
from ..layout.companions import POSTER
from ..progress import plural
from ..records import recorded
from . import datasette, findable, mark, model, owned, readme, thumbs
from .pages import Site, sweep_leftovers, write_if_changed

ORIGINALS = "originals"


@dataclass
class GalleryOptions:
    dest: Path
    out: Path | None = None
    only: str | None = None        # "public"
    ids_file: Path | None = None
    jobs: int | None = None
    open_browser: bool = False
    quiet: bool = False


@recorded
def run_gallery(options: GalleryOptions) -> tuple[int, dict]:
    subset = bool(options.only or options.ids_file)
    wanted = read_ids(options.ids_file) if options.ids_file else None
    dest = options.dest
    out = check_out(dest, options.out) if subset else dest
    if not subset and dest.is_dir() and not writable(dest):
        raise not_writable(dest, "gallery")
    if not subset:
        owned.check(dest)
    with open_backup(dest, options.quiet, "gallery", changes=False) as (cat, progress):
        def chosen(row: dict) -> bool:
            return (options.only != "public" or model.is_public(row)) and (wanted is None or row["id"] in wanted)

        gallery = model.build(cat, chosen, describe(options, wanted) if subset else None, dest)
        document = build(gallery, dest, out, options.jobs, progress)
    if options.open_browser:
        webbrowser.open((out / "index.html").resolve().as_uri())
    return 0, document


def build(gallery: model.Gallery, dest: Path, out: Path, jobs: int | None, progress) -> dict:
    """Everything of the gallery in OUT: originals (a subset's), thumbnails, pages, README,
    the checksums; what a report says of it."""
    document = {"ok": True, "dest": str(dest), "out": str(out), "subset": gallery.subset}
    if gallery.subset:
        out.mkdir(parents=True, exist_ok=True)
        document["originals_copied"] = copy_originals(dest, out, gallery)
    else:
        owned.check(out)  # again here: `exodus backup` brings the gallery up to date through build()
    sources = [thumbs.Source(id=pid, path=gallery.originals[pid], sha256=item["sha256"], media=item["media"],
                             rotation=item["rotation"], poster=poster(dest, gallery.originals[pid], item["media"]))
               for pid, item in gallery.items.items() if item["saved"]]
    bar = progress.bar("thumbnails", total=len(sources), unit="item")
    try:
        made = thumbs.build(dest, out, sources, bar.update, jobs=jobs)
    finally:
        bar.close()
    shown = made.shown()  # read once here: the pages and the search index both look up every item's
    bar = progress.bar("pages", total=len(gallery.stream), unit="item")
    try:
        counts = Site(gallery, dest, out, shown).build(bar.update)
    finally:
        bar.close()
    found = findable.write(out, gallery, shown)
    counts["pages"] += 1  # search.html, search.py's
    counts["written"] += found["page_changed"]
    write_if_changed(out, "site/SHA256SUMS", checksums(gallery).encode())
    write_if_changed(out, "README.txt", readme.text(gallery).encode())
    if not gallery.subset:  # the catalog stays in DEST: a subset has none to describe
        datasette.write_metadata(out, gallery.owner)
    write_if_changed(out, mark.MARK, mark.record(bool(gallery.subset), jobs))
    sweep_leftovers(out, gallery.subset)
    if gallery.subset:
        published(out)
    return {**document, "items": len(gallery.items), "saved": len(sources), "albums": len(gallery.albums),
            "tags": len(gallery.tags), "thumbnails": len(made), **counts, "index": str(out / "index.html")}


def read_ids(path: Path) -> set[str]:
    """--ids FILE: one Flickr photo id a line (blank lines and '#' comments are skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise UsageProblem(f"cannot read --ids {path}: {getattr(error, 'strerror', None) or error}") from None
    found = set()
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if not ids.is_photo_id(text):
            raise UsageProblem(f"--ids {path}, line {number}: {ids.shown(text)} is not a Flickr photo id "
                               "(one id of digits a line)")
        found.add(text)
    if not found:
        raise UsageProblem(f"--ids {path} names no photo id; nothing to build")
    return found


def check_out(dest: Path, out: Path | None) -> Path:
    """A subset's folder: its own (not DEST, not in it, not holding it), new, empty, or
    holding an earlier subset gallery, never anything else."""
    if out is None:
        raise UsageProblem("a subset (--only public, --ids FILE) is meant to be published: give it a folder of "
                           "its own with --out DIR, away from the private items of DEST")
    real_dest, real_out = Path(os.path.realpath(dest)), Path(os.path.realpath(out))
    if real_out == real_dest or real_dest in real_out.parents or real_out in real_dest.parents:
        raise UsageProblem(f"--out {out} must be a folder outside {dest} (and not holding it): a subset kept beside "
                           "the private items would be published with them")
    if out.exists() and not out.is_dir():
        raise UsageProblem(f"--out {out} is a file; give a new or empty folder")
    if out.is_dir() and any(out.iterdir()) and not earlier_subset(out):
        raise UsageProblem(f"--out {out} holds other files; give a new or empty folder (or one an earlier "
                           "'exodus gallery --out' made), so that nothing else is published with the gallery")
    if out.is_dir() and not writable(out):
        raise UsageProblem(f"--out {out} is not writable; nothing was changed")
    if out.is_dir():
        originals_folder(out)  # before anything is read: a link there ends the run at once
    return out


def earlier_subset(out: Path) -> bool:
    found = mark.read(out)
    return found is not None and found.get("subset") is True


def describe(options: GalleryOptions, wanted: set[str] | None) -> str:
    what = []
    if options.only == "public":
        what.append("the public items")
    if wanted is not None:
        what.append(f"the items listed in {options.ids_file.name}")
    return ("A selection of the account: " + " among ".join(what) + ", and the albums, tags and people they make. "
            "Nothing else of the account is in this folder.")


def poster(dest: Path, original: str, media: str) -> str | None:
    """A video's poster kept beside it by the backup (backup/posters.py), if it is a regular
    file; what it is made of, thumbs proves and reads like any original."""
    if media != "video":
        return None
    relative = original + POSTER
    try:
        return relative if stat.S_ISREG(os.lstat(dest / relative).st_mode) else None
    except OSError:
        return None


def copy_originals(dest: Path, out: Path, gallery: model.Gallery) -> int:
    """OUT/originals/ID.EXT of each item whose original the subset publishes: a copy of DEST's
    file (copy_file_range or a reflink where the disk can), kept when already there with the
    same size and time and not a link to the backup's own file (an earlier exodus made hard
    links). Files of items no longer in it are removed. Returns how many were made."""
    folder = originals_folder(out)
    made, keep = 0, set()
    for pid, item in gallery.items.items():
        if not item["original"]:
            continue  # not saved, or withheld for its location
        keep.add(Path(item["original"]).name)
        source = paths.inside(dest, gallery.originals[pid], mkdir=False)
        target = paths.inside(out, item["original"])
        want = source.stat()
        try:
            have = target.stat()
            if have.st_size == want.st_size and have.st_mtime_ns == want.st_mtime_ns and not same_file(have, want):
                continue
        except FileNotFoundError:
            pass
        tmp = paths.sibling(out, item["original"], ".tmp", link_ok=True)
        tmp.unlink(missing_ok=True)  # a link planted there goes, never written through
        try:
            shutil.copyfile(source, tmp, follow_symlinks=False)
            os.utime(tmp, ns=(want.st_atime_ns, want.st_mtime_ns))
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        made += 1
    if folder.is_dir():
        with os.scandir(folder) as found:
            for entry in found:
                if entry.name not in keep and entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
    return made


def originals_folder(out: Path) -> Path:
    """OUT/originals, proven a real folder in OUT (or not there yet) before anything in it is
    listed or removed: a link there would lead the sweep into someone else's files."""
    folder = out / ORIGINALS
    if os.path.islink(folder) or (os.path.lexists(folder) and not folder.is_dir()):
        raise UsageProblem(f"{folder} is a link or a file, not a folder of the gallery; move it away "
                           "(nothing was changed in it)")
    paths.inside(out, f"{ORIGINALS}/x", mkdir=False)
    return folder


def same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return a.st_ino == b.st_ino and a.st_dev == b.st_dev


def published(out: Path) -> None:
    """A subset's files 0644 and folders 0755 (exodus's umask keeps DEST private; a subset is
    made to be read by others). Links are never followed; only modes that differ are set."""
    for folder, dirs, files in os.walk(out):
        for name, mode in [(name, 0o755) for name in dirs] + [(name, 0o644) for name in files]:
            path = os.path.join(folder, name)
            found = os.lstat(path)
            if stat.S_ISLNK(found.st_mode) or (found.st_mode & 0o7777) == mode:
                continue
            os.chmod(path, mode)
    if (os.stat(out).st_mode & 0o7777) != 0o755:
        os.chmod(out, 0o755)


def checksums(gallery: model.Gallery) -> str:
    """site/SHA256SUMS: every original the gallery links to, as `sha256sum -c` reads it
    (run in the folder of index.html)."""
    lines = []
    for item in gallery.items.values():
        if item["original"] and item["sha256"]:
            lines.append(_sum_line(item["sha256"], item["original"]))
        lines += [_sum_line(version["sha256"], version["path"]) for version in item["versions"]]
    return "".join(lines)


def _sum_line(digest: str, path: str) -> str:
    if "\\" in path or "\n" in path or "\r" in path:  # GNU's escaped form
        return "\\" + digest + "  " + path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r") + "\n"
    return f"{digest}  {path}\n"


def render(document: dict) -> str:
    kind = "subset" if document["subset"] else "gallery"
    lines = [f"{kind} of {plural(document['items'], 'item')} ({document['saved']} with files), "
             f"{plural(document['albums'], 'album')}, {plural(document['tags'], 'tag')}: {document['index']}",
             f"  {document['pages']} pages: {document['rendered']} rendered, {document['written']} files written, "
             f"{document['removed']} removed"]
    if not document["subset"]:
        lines.append("  it shows private items too: 'exodus gallery DEST --only public --out DIR' builds one to publish")
    return "\n".join(lines)
