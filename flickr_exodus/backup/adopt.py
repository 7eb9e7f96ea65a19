"""`exodus backup DEST --adopt`: a lost or damaged catalog rebuilt from the tree, the
sidecars and a fresh listing, without downloading again what is already there.

The damaged catalog is set aside (catalog.db.damaged-YYYYmmdd-HHMMSS, never deleted) and
a fresh one started with a mark, `adopting`. Every backup run that finds the mark (the
--adopt run, or any rerun after it was interrupted) looks, after the listing and before
any download, for the files of the items still to fetch: one walk of photos/ maps ids to
files, each candidate is hashed once (in threads), and it is adopted when it agrees with
its sidecar's sha256, or, with no sidecar, when it is whole by its format and of the pixel
size Flickr states. A file that agrees with neither is moved to unknown-files/ (with its
sidecars) and the item downloaded as usual: nothing is overwritten unseen. The mark goes
once a complete listing has been adopted from.
"""

from __future__ import annotations

import concurrent.futures as futures
import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..layout import proof
from ..catalog.items import FETCHABLE, State
from ..catalog.store import Catalog, CatalogError, DamagedCatalog, holds_tree, now_iso, scalar
from ..dest import UsageProblem, catalog_read_only
from ..progress import Progress
from ..media import complete, facts, magic
from ..layout import paths
from ..layout.companions import COMPANIONS, companion_of
from ..layout.writer import LEFTOVERS, is_disk_full

log = logging.getLogger("exodus.backup")

ADOPTING = "adopting"           # meta key: the tree is still to be adopted from
UNKNOWN_FILES = "unknown-files"  # where verify --repair puts files the catalog does not know, too
_ID = re.compile(r"([0-9]{1,20})(?:[_.]|$)")
_EARLIER = re.compile(r"\.replaced-[0-9]{8}(?:-[0-9]+)?(?:\.|$)")


# --- the catalog ---------------------------------------------------------------------

def open_catalog(dest: Path, progress: Progress) -> Catalog:
    """DEST's catalog for an --adopt run: the healthy one as it is (only the items it still
    has to fetch are looked for in the tree), else a fresh one, the damaged file kept aside."""
    path = dest / "catalog.db"
    if path.is_file() and path.stat().st_size > 0:
        try:
            cat = Catalog(path)
            try:
                cat.check()
            except DamagedCatalog:
                cat.close()
                raise
        except DamagedCatalog:
            kept = set_aside(path)
            progress.note(f"{path.name} is damaged (kept as {kept.name}, untouched); rebuilding it from the "
                          "tree, the sidecars and a fresh listing")
            cat = Catalog(path)
        except CatalogError as error:  # a newer exodus's, or one that cannot be opened: not ours to replace
            raise UsageProblem(str(error)) from None
        else:
            progress.note(f"{path} is whole: nothing needs adopting but the files of items it has yet to "
                          "fetch; running a normal backup")
    elif not holds_tree(dest):
        progress.note(f"{dest} holds no backup's files: nothing to adopt; starting a new backup")
        cat = Catalog(path)
    else:
        if path.is_file():
            kept = set_aside(path)
            progress.note(f"{path.name} was empty (kept as {kept.name}); rebuilding it from the tree, the "
                          "sidecars and a fresh listing")
        else:
            progress.note(f"{path.name} is missing; rebuilding it from the tree, the sidecars and a fresh listing")
        cat = Catalog(path)
    if cat.read_only:
        cat.close()
        raise catalog_read_only(cat, "backup")
    cat.put(ADOPTING, True)
    return cat


def set_aside(path: Path) -> Path:
    """catalog.db (and its -wal, -shm) renamed to catalog.db.damaged-YYYYmmdd-HHMMSS[-N]."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    kept = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 2
    while kept.exists():
        kept = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
        n += 1
    os.replace(path, kept)
    for suffix in ("-wal", "-shm"):
        beside = path.with_name(path.name + suffix)
        if beside.exists():
            os.replace(beside, kept.with_name(kept.name + suffix))
    return kept


# --- the tree ------------------------------------------------------------------------

@dataclass
class Found:
    current: list[str] = field(default_factory=list)   # DEST-relative files named for the id
    earlier: list[str] = field(default_factory=list)   # *.replaced-YYYYmmdd.* of the id


def scan(dest: Path) -> dict[str, Found]:
    """One walk of photos/: id -> its files (no companions, leftovers or links)."""
    found: dict[str, Found] = {}
    for folder, _, files in os.walk(dest / "photos"):
        relative_folder = Path(folder).relative_to(dest).as_posix()
        names = set(files)
        for name in files:
            match = _ID.match(name)
            if (not match or name.endswith(LEFTOVERS) or companion_of(name, names)
                    or os.path.islink(os.path.join(folder, name))):
                continue
            entry = found.setdefault(match.group(1), Found())
            (entry.earlier if _EARLIER.search(name) else entry.current).append(f"{relative_folder}/{name}")
    return found


@dataclass
class Read:
    """What one read of a file tells: its hash, size, kind, pixel size, structure."""
    sha256: str
    size: int
    kind: str | None
    dims: tuple[int, int] | None
    whole: bool


def read_file(dest: Path, relative: str) -> Read | None:
    try:
        handle = proof.open_regular(dest, relative)
    except (OSError, proof.NotProvable):
        return None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        kind = magic.sniff(handle.read(magic.HEAD))
        dims = None
        if kind in magic.PHOTO_KINDS:
            handle.seek(0)
            dims = facts.pixel_size(handle)
        flaw = complete.seek_check(handle, kind, size) if kind else None
        walk = complete.walker(kind) if kind and not flaw else None
        handle.seek(0)
        sha256 = proof.hash_through(handle, walk.feed if walk is not None else None).sha256
        flaw = flaw or (walk.finish() if walk else None)
    return Read(sha256, size, kind, dims, bool(kind) and complete.checked(kind) and flaw is None)


def sidecar_of(dest: Path, relative: str, item_id: str) -> dict | None:
    """The sidecar beside a file, if it is one of exodus's and about this item."""
    try:
        document = json.loads((dest / (relative + ".json")).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("id") != item_id:
        return None
    original = document.get("original")
    return document if isinstance(original, dict) else None


# --- one item ------------------------------------------------------------------------

@dataclass
class Verdict:
    item_id: str
    adopt: dict | None = None                            # the columns to set
    aside: list[str] = field(default_factory=list)       # files that agree with nothing known
    versions: list[dict] = field(default_factory=list)   # earlier originals, proven
    gone: dict | None = None                             # the row of an item gone from Flickr
    document: dict | None = None                         # ... and its sidecar
    read_bytes: int = 0


def judge(dest: Path, row: dict, found: Found) -> Verdict:
    """Which of the item's files (if any) is its original; runs in a worker thread, reads only."""
    verdict = Verdict(row["id"])
    for relative in found.current:
        if verdict.adopt:  # one original per item: any other file of it goes aside unread
            verdict.aside.append(relative)
            continue
        document = sidecar_of(dest, relative, row["id"])
        got = read_file(dest, relative)
        verdict.read_bytes += got.size if got else 0
        verdict.adopt = agrees(row, relative, got, document) if got else None
        if verdict.adopt:
            verdict.document = document
        else:
            verdict.aside.append(relative)
    _earlier(dest, row["id"], found, verdict.document, verdict)
    return verdict


def judge_gone(dest: Path, item_id: str, found: Found) -> Verdict:
    """A file of an item the listing no longer has (deleted on Flickr since): its sidecar is
    all that is left of it, so it is adopted (as remote_gone) only when the two agree."""
    verdict = Verdict(item_id)
    for relative in found.current:
        document = sidecar_of(dest, relative, item_id)
        if document is None:
            continue
        got = read_file(dest, relative)
        if got is None:
            continue
        verdict.read_bytes += got.size
        if got.sha256 == document["original"].get("sha256") and got.size == document["original"].get("size"):
            verdict.gone = gone_columns(document, relative, got)
            verdict.document = document
            _earlier(dest, item_id, found, document, verdict)
            break
    return verdict


def _earlier(dest: Path, item_id: str, found: Found, document: dict | None, verdict: Verdict) -> None:
    """The item's earlier originals (*.replaced-*) whose hash its sidecars record."""
    listed = {}
    if document:
        for entry in document.get("earlier_versions") or []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                listed[entry["path"]] = entry
    for relative in found.earlier:
        entry = listed.get(relative) or _own_entry(dest, relative, item_id)
        if not entry:
            continue
        got = read_file(dest, relative)
        if got is not None and got.sha256 == entry.get("sha256"):
            verdict.read_bytes += got.size
            verdict.versions.append({"path": relative, "size": got.size, "sha256": got.sha256,
                                     "original_secret": entry.get("original_secret"),
                                     "replaced_at": entry.get("replaced_at")})


def _own_entry(dest: Path, relative: str, item_id: str) -> dict | None:
    """An earlier version's own sidecar (it moved along with the file) as a versions entry."""
    document = sidecar_of(dest, relative, item_id)
    if document is None:
        return None
    raw = document.get("flickr") if isinstance(document.get("flickr"), dict) else {}
    return {"sha256": document["original"].get("sha256"), "original_secret": raw.get("originalsecret")}


def agrees(row: dict, relative: str, got: Read, document: dict | None) -> dict | None:
    """The catalog columns that adopt this file for the item, or None if it proves nothing."""
    kept = ".size-" in relative.rsplit("/", 1)[-1]
    if document is not None:
        original = document["original"]
        if got.sha256 != original.get("sha256") or got.size != original.get("size"):
            return None
        kept = kept or document.get("state") == State.ORIGINAL_UNAVAILABLE or bool(original.get("kept_instead"))
    elif kept or row["media"] != "photo" or not got.whole or not magic.matches(
            got.kind, row["media"], row["original_format"]) or not _same_dims(got.dims, row):
        return None  # no sidecar: only a whole photo of Flickr's pixel size speaks for itself
    if kept and row["source_url"]:
        return None  # Flickr hands out the original now: fetch it; the kept size goes aside
    columns = {"path": relative, "size": got.size, "sha256": got.sha256, "source": "adopted",
               "state": State.ORIGINAL_UNAVAILABLE if kept else State.DOWNLOADED, "reason": None,
               "downloaded_at": now_iso(), "sidecar_dirty": 1, "etag": None}
    if kept:
        kept_size = original.get("kept_instead") if document else None
        columns["kept_size"] = kept_size or row["kept_size"]
        columns["reason"] = f"Flickr withholds the original; kept {columns['kept_size']}"
    if row["media"] == "video" and "." in relative.rsplit("/", 1)[-1]:
        columns["original_format"] = relative.rsplit(".", 1)[-1].lower()
    raw = (document or {}).get("flickr")
    secret = raw.get("originalsecret") if isinstance(raw, dict) else None
    if secret and row["original_secret"] and secret != row["original_secret"]:
        # An original Flickr has replaced since: kept as an earlier version (keep_replaced).
        columns.update(replaced=1, prior_secret=secret)
    return columns


def gone_columns(document: dict, relative: str, got: Read) -> dict:
    """The catalog row of an item known only from its sidecar."""
    def value(key, kind):
        found = document.get(key)
        return found if isinstance(found, kind) and not isinstance(found, bool) else None

    original, raw = document["original"], document.get("flickr")
    seen = document.get("visibility") if isinstance(document.get("visibility"), dict) else {}
    geo = document.get("geo") if isinstance(document.get("geo"), dict) else {}
    return {key: scalar(found) for key, found in {
        "id": document["id"], "media": "video" if document.get("media") == "video" else "photo",
        "title": value("title", str), "description": value("description", str),
        "date_taken": value("date_taken", str), "date_upload": value("date_upload", int),
        "last_update": value("last_update", int), "license": value("license", int),
        "is_public": seen.get("public"), "is_friend": seen.get("friend"), "is_family": seen.get("family"),
        "latitude": geo.get("latitude"), "longitude": geo.get("longitude"), "accuracy": geo.get("accuracy"),
        "original_format": original.get("format") if isinstance(original.get("format"), str) else None,
        "o_width": original.get("width"), "o_height": original.get("height"),
        "kept_size": original.get("kept_instead"), "duration": value("duration", int),
        "raw": json.dumps(raw, ensure_ascii=False) if isinstance(raw, dict) else None,
        "path": relative, "size": got.size, "sha256": got.sha256, "source": "adopted", "state": State.REMOTE_GONE,
        "gone_at": value("gone_at", str) or now_iso(), "downloaded_at": now_iso(),
        # The sidecar knows more than this row (comments, notes, albums): it stays as it is.
        "sidecar_dirty": 0, "deep_done": 1,
    }.items()}


def _same_dims(dims: tuple[int, int] | None, row: dict) -> bool:
    want = (row["o_width"], row["o_height"])
    return bool(dims and all(want)) and dims in (want, want[::-1])


# --- the pass --------------------------------------------------------------------------

@dataclass
class Adopted:
    files: int = 0       # items whose file was adopted
    bytes: int = 0       # their bytes, not downloaded again
    aside: int = 0       # files that agreed with nothing, moved to unknown-files/
    versions: int = 0    # earlier originals recorded
    gone: int = 0        # items deleted on Flickr, known again from their sidecars
    hashed_bytes: int = 0


def adopt_tree(cat: Catalog, dest: Path, progress: Progress, jobs: int = 4, gone_too: bool = False) -> Adopted:
    """Adopt the files of every item still to fetch that the tree already holds; with
    gone_too (after a complete listing), also those of items Flickr no longer lists."""
    done = Adopted()
    found = scan(dest)
    if not found:
        return done
    # Ids only: each item is read when its turn comes, so memory stays flat.
    work = [(judge, item_id, found[item_id]) for item_id in cat.ids(FETCHABLE) if item_id in found]
    if gone_too:
        known = set(cat.ids())
        work += [(judge_gone, item_id, found[item_id]) for item_id in sorted(set(found) - known)]
    bar = progress.bar("adopting", total=len(work), unit="file")
    try:
        with futures.ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="adopt") as pool:
            window: dict[futures.Future, None] = {}
            batch: list[Verdict] = []
            for how, what, files in work:
                window[pool.submit(how, dest, cat.item(what) if how is judge else what, files)] = None
                if len(window) >= jobs * 4:
                    finished, _ = futures.wait(window, return_when=futures.FIRST_COMPLETED)
                    batch += [_take(window, f, bar) for f in finished]
                if len(batch) >= 200:
                    _apply(cat, dest, batch, done)
                    batch = []
            batch += [_take(window, f, bar) for f in futures.as_completed(list(window))]
            _apply(cat, dest, batch, done)
    finally:
        bar.close()
    return done


def _take(window: dict, future: futures.Future, bar) -> Verdict:
    window.pop(future)
    bar.update(1)
    return future.result()


def _apply(cat: Catalog, dest: Path, verdicts: list[Verdict], done: Adopted) -> None:
    """Record a batch of verdicts in one commit, then move the disagreeing files aside."""
    with cat.tx():
        for verdict in verdicts:
            done.hashed_bytes += verdict.read_bytes
            if verdict.adopt:
                cat.mark_adopted(verdict.item_id, verdict.adopt)
                done.files += 1
                done.bytes += verdict.adopt["size"]
            elif verdict.gone:
                cat.add_known_item(verdict.gone, verdict.document)
                done.gone += 1
            for version in verdict.versions:
                cat.record_version(verdict.item_id, version["path"], size=version["size"], sha256=version["sha256"],
                                   secret=version["original_secret"], replaced_at=version["replaced_at"])
                done.versions += 1
    for verdict in verdicts:
        for relative in verdict.aside:
            if move_aside(dest, relative):
                done.aside += 1


def move_aside(dest: Path, relative: str) -> bool:
    """DEST/relative and its sidecars to unknown-files/, never over an earlier one."""
    try:
        target = paths.inside(dest, f"{UNKNOWN_FILES}/{relative}")
        n = 1
        while any(os.path.lexists(f"{target}{s}") for s in ("",) + COMPANIONS):
            target = paths.inside(dest, f"{UNKNOWN_FILES}/{relative}.{n}")
            n += 1
    except paths.OutsideDest as error:
        log.warning("%s: left where it is: %s", relative, error)
        return False
    try:
        for suffix in COMPANIONS:
            if os.path.lexists(dest / (relative + suffix)):
                shutil.move(dest / (relative + suffix), f"{target}{suffix}")
        shutil.move(dest / relative, target)
    except OSError as error:
        if is_disk_full(error):
            raise
        log.warning("%s: could not be moved aside: %s", relative, error)
        return False
    log.info("%s agrees with nothing known of its item; moved to %s", relative, target.relative_to(dest))
    return True
