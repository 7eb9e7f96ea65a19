"""`exodus import-export DEST PATH...`: Flickr's account export as a second source.

With an API backup in DEST, the export fills what the API could not give (withheld
originals, videos behind a browser session) and is checked against what both have.
Without one, it builds the catalog and tree alone. Files are written as the backup writes
them (layout/writer.py: hashed while they stream, format checked, dated, fsynced,
committed, renamed), so a kill at any instant is finished by running the same command
again. The zips are only read.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import unicodedata
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..media import magic
from ..layout import names, paths, writer
from ..layout.writer import recover
from ..flickr import ids
from ..knobs import crash_point
from ..net.limits import TooLarge
from ..layout.tree import build_views, write_links, write_sidecars
from ..catalog import Catalog
from ..catalog.items import WANTING_STATES, Item
from ..catalog.store import dumps
from ..dest import (
    DestLock, UsageProblem, exit_code_for, open_for_writing, prepare_dest,
)
from ..flickr import parse
from ..progress import Progress
from ..records import log_to, recorded
from .reader import (Container, ExportedItem, ExportProblem, epoch, exported_item, json_documents,
                     media_entries, open_all)

CHUNK = 1 << 20
# What reading an export document of an unexpected shape raises, wherever in it.
SHAPE_ERRORS = (AttributeError, TypeError, KeyError, IndexError, ValueError, OverflowError,
                sqlite3.InterfaceError, sqlite3.ProgrammingError)  # a value SQLite cannot store
FILLABLE = WANTING_STATES
SHOWN = 1000
_MACHINE_TAG = re.compile(r"^[A-Za-z_][\w]*:[\w]+=.+$")


def clean_tag(raw: str) -> tuple[str, int]:
    """Flickr's normalized form of a tag as typed: lower case without spaces or
    punctuation; machine tags (namespace:predicate=value) keep their shape."""
    if _MACHINE_TAG.match(raw):
        return raw.lower(), 1
    return re.sub(r"[^\w]", "", unicodedata.normalize("NFC", raw).lower()), 0


@dataclass
class ImportOptions:
    dest: Path
    paths: list[Path]
    quiet: bool = False


class Import:
    def __init__(self, cat: Catalog, options: ImportOptions, progress: Progress, fresh: bool):
        self.cat = cat
        self.dest = options.dest
        self.progress = progress
        self.fresh = fresh  # no API backup here: the export is the only source
        self.counts: Counter = Counter()
        self.problems: list[dict] = []
        self.described: set[str] = set()
        self.reading: str | None = None  # the JSON file being read

    def documents(self, containers: list[Container], pattern: str) -> Iterator[tuple[str, dict]]:
        """The export's JSON files of one kind, (name, parsed); which one is being read is
        kept for the line that a surprise in it becomes (reading_failed)."""
        for container in containers:
            try:
                for name, doc in json_documents([container], pattern):
                    self.reading = f"{container.path}: {name}"
                    yield name, doc
            except (zipfile.BadZipFile, zlib.error, EOFError) as error:  # a CRC error names its entry
                raise ExportProblem(f"{container.path}: a metadata file cannot be read whole ({error}); what "
                                    "came before it is kept. Download that part of the export again") from None

    def reading_failed(self, error: Exception) -> ExportProblem:
        return ExportProblem(f"{self.reading or 'the export'} is not shaped as Flickr's export is "
                             f"({type(error).__name__}: {error}); what came before it is kept")

    def listed(self, doc, key: str) -> list:
        """doc[key], a list; any other shape is named (file and entry) and read as empty:
        the rest of the export still comes in, and a corrected export fills the gap."""
        value = doc.get(key) if isinstance(doc, dict) else None
        if isinstance(value, list):
            return value
        if isinstance(doc, dict) and value is None and key not in doc:
            return []
        found = type(value if isinstance(doc, dict) else doc).__name__
        self.problem("export", "bad_shape", f"{self.reading}: a {found} where Flickr's export has a list of "
                                            f"{key}; read as none")
        return []

    def problem(self, item_id: str, kind: str, detail: str) -> None:
        self.counts[f"problem:{kind}"] += 1
        if len(self.problems) < SHOWN:
            self.problems.append({"id": item_id, "kind": kind, "detail": detail})

    # --- metadata ----------------------------------------------------------------------
    def metadata(self, containers: list[Container]) -> None:
        for name, doc in self.documents(containers, r"photo_\d+\.json"):
            try:
                item = exported_item(doc)
            except ids.Malformed as error:
                self.problem(ids.shown(doc.get("id") if isinstance(doc, dict) else None), "bad_record",
                             f"{self.reading}: {error}; left out")
                continue
            for detail in item.problems:
                self.problem(item.row["id"], "bad_field", f"{name}: {detail}")
            self.described.add(item.row["id"])
            self.counts["described"] += 1
            known = self.cat.item(item.row["id"])
            if known:
                self._compare(known, item)
            else:
                self._add(item)
        if self.fresh:
            self._albums(containers)

    def _compare(self, row: Item, item: ExportedItem) -> None:
        """Fields both sources have; the API's stay, the export's mistakes are reported."""
        mine = (row["is_public"], row["is_friend"], row["is_family"])
        theirs = (item.row["is_public"], item.row["is_friend"], item.row["is_family"])
        if None not in theirs and None not in mine and mine != theirs:
            self.problem(row["id"], "export_privacy_differs",
                         f"the export says {theirs} (public, friend, family), Flickr's API {mine}")
        if not item.albums and self.cat.in_album(row["id"]):
            self.problem(row["id"], "export_albums_empty", "the export lists no albums for an item in albums")

    def _add(self, item: ExportedItem) -> None:
        """An item only the export knows: every field it holds."""
        self.cat.add_exported_item(dict(item.row), item.raw, [(*clean_tag(t), dumps(t)) for t in item.tags],
                                   item.comments, item.notes, item.people)
        self.counts["added_from_metadata"] += 1

    def _albums(self, containers: list[Container]) -> None:
        for name, doc in self.documents(containers, r"albums(_part\d+)?\.json"):
            for album in self.listed(doc, "albums"):
                if not isinstance(album, dict) or not album.get("id"):
                    continue
                if not ids.is_album_id(album["id"]):
                    self.problem(ids.shown(album["id"]), "bad_album", f"{name}: the album id is not one of "
                                                                      "Flickr's; the album is left out")
                    continue
                album_id = str(album["id"])
                members = self.listed(album, "photos")
                photos = [str(p) for p in members if ids.is_photo_id(p)]
                if len(photos) != len(members):
                    self.problem(album_id, "bad_album", f"{name}: item ids that are not Flickr's left out")
                self.cat.upsert_albums([{"id": album_id, "title": album.get("title") or "",
                                         "description": album.get("description") or "",
                                         "count_photos": len(photos), "date_create": _int(album.get("created")),
                                         "date_update": _int(album.get("last_updated")),
                                         "count_views": _int(album.get("view_count")), "raw": dumps(album)}])
                self.cat.set_album_photos(album_id, photos, f"export:{album.get('last_updated')}")
                self.counts["albums"] += 1
        for name, doc in self.documents(containers, r"faves(_part\d+)?\.json"):
            faves = [f for f in self.listed(doc, "faves") if isinstance(f, dict) and f.get("photo_id")]
            for fave in faves:
                if not ids.is_photo_id(fave["photo_id"]):
                    self.problem(ids.shown(fave["photo_id"]), "bad_favorite", f"{name}: not one of Flickr's "
                                                                              "ids; left out")
            faves = [f for f in faves if ids.is_photo_id(f["photo_id"])]
            self.cat.add_favorites([(str(f["photo_id"]), f.get("url"), dumps(f)) for f in faves])
            self.counts["favorites"] += len(faves)
        for _, doc in self.documents(containers, r"sets_comments(_part\d+)?\.json"):
            rows = [c for c in self.listed(doc, "comments") if isinstance(c, dict) and c.get("id")
                    and ids.is_album_id(c.get("photoset_id"))]
            self.cat.add_album_comments([(str(c["id"]), str(c.get("photoset_id")), epoch(str(c.get("date", ""))),
                                          str(c.get("comment", "")), dumps(c)) for c in rows])
            self.counts["album_comments"] += len(rows)

    # --- media -------------------------------------------------------------------------
    def media(self, containers: list[Container]) -> None:
        entries = list(media_entries(containers))
        bar = self.progress.bar("importing", total=sum(size for _, _, size, _, _ in entries), bytes=True)
        try:
            for container, name, size, item_id, ext in entries:
                self._one(container, name, size, item_id, ext)
                bar.update(size)
        finally:
            bar.close()

    def _one(self, container: Container, name: str, size: int, item_id: str, ext: str) -> None:
        try:
            self._place(container, name, size, item_id, ext)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:  # a damaged zip entry (CRC, truncation)
            self.problem(item_id, "bad_media", f"{container.path.name}: {name} cannot be read whole ({error})")

    def _place(self, container: Container, name: str, size: int, item_id: str, ext: str) -> None:
        row = self.cat.item(item_id)
        if row is None:
            self.problem(item_id, "media_without_metadata", f"{name}: no item {item_id} in the export's "
                                                            "metadata or the catalog; left alone")
            return
        self.counts["media_seen"] += 1
        if row["sha256"] and row["state"] not in FILLABLE:
            self._agree(container, name, size, row)
            return
        self._write(container, name, size, ext, row)

    def _agree(self, container: Container, name: str, size: int, row: Item) -> None:
        """Both sources hold the item: their bytes must be the same."""
        if size != row["size"]:
            self.problem(row["id"], "sources_disagree", f"{name}: {size} bytes, the {row['source'] or 'api'} "
                                                        f"copy {row['size']}")
            return
        digest = hashlib.sha256()
        with container.open(name) as handle:
            while block := handle.read(CHUNK):
                digest.update(block)
        if digest.hexdigest() == row["sha256"]:
            self.counts["agreed"] += 1
        else:
            self.problem(row["id"], "sources_disagree", f"{name}: same size, other bytes than the "
                                                        f"{row['source'] or 'api'} copy")

    def _write(self, container: Container, name: str, size: int, ext: str, row: Item) -> None:
        """The export's original into the tree, as atomically as a download."""
        kept = ids.photo_format(ext or "jpg") or ids.video_format(ext)
        if kept is None:
            self.problem(row["id"], "bad_media", f"{name}: {ids.format_refused(ext)}")
            return
        ext = magic.extension(kept)
        relative = names.item_path(row["id"], row["title"] or "", ext, row["date_taken"], bool(row["taken_unknown"]))
        try:
            file = writer.Part(self.dest, relative, cap=size)
        except paths.OutsideDest as error:
            self.problem(row["id"], "bad_media", f"{name}: {error}")
            return
        if not self._pour(container, name, file, size, (row["media"], ext)):
            self.problem(row["id"], "bad_media", f"{name}: not {size} bytes, or not a {row['media']} in .{ext}")
            return
        written, digest = file.have, file.digest
        file.seal(writer.taken_epoch(None if row["taken_unknown"] else row["date_taken"]))
        self.cat.mark_imported(row, relative, written, digest.hexdigest(), ext)
        file.land(after_commit="import-item")
        self.counts["filled"] += 1

    def _pour(self, container: Container, name: str, file: writer.Part, size: int, kind: tuple[str, str]) -> bool:
        """The entry's bytes into the file's .part: True if they are `size` bytes of the
        `kind` expected (media, extension); else the .part is gone."""
        file.restart()  # what a killed run left is read again whole
        try:
            with container.open(name, room=self.dest) as source:
                file.pour(source)
            if file.have == size:
                file.check(*kind)
                return True
        except (TooLarge, writer.WrongFormat):
            pass
        except BaseException:
            file.restart()
            raise
        file.restart()
        return False

    def missing(self) -> list[dict]:
        """Items still without their original, and what to do."""
        out = []
        for row in self.cat.problems(WANTING_STATES, by_state=False):
            self.counts["still_missing"] += 1
            where = "the export's metadata lists it, no media zip holds it" if row["id"] in self.described \
                else "the export does not mention it"
            if len(out) < SHOWN:
                out.append({"id": row["id"], "title": row["title"], "state": row["state"], "detail": where})
        return out


def _int(value) -> int | None:
    return parse.num(value)


@recorded
def run_import(options: ImportOptions) -> tuple[int, dict]:
    if not options.paths:
        raise UsageProblem("give the export's zip files or folders: exodus import-export DEST PATH...")
    try:
        containers = open_all(options.paths)
    except ExportProblem as error:
        raise UsageProblem(str(error)) from None
    try:
        prepare_dest(options.dest, "import-export")
        fresh = not (options.dest / "catalog.db").is_file()
        progress = Progress(options.quiet)
        with DestLock(options.dest):
            cat = open_for_writing(options.dest, "import-export")
            try:
                log_to(options.dest, "import-export")
                run_id = cat.start_run("import-export")
                recover(cat, options.dest)  # renames a kill interrupted
                job = Import(cat, options, progress, fresh or not cat.get("listing"))
                try:
                    try:
                        job.metadata(containers)
                        if job.fresh:
                            _account_from_export(job, containers)
                    except SHAPE_ERRORS as error:  # a list where an object belongs, a string for a number
                        raise job.reading_failed(error) from None
                    job.media(containers)
                except ExportProblem as error:
                    raise UsageProblem(str(error)) from None
                missing = job.missing()
                crash_point("import-finish")
                write_sidecars(cat, options.dest, xmp_too=bool(cat.get("xmp", False)))
                build_views(cat, options.dest)
                write_links(cat, options.dest, cat.get("account") or {})
                counts = job.counts
                problems = sum(n for k, n in counts.items() if k.startswith("problem:"))
                report = {
                    "ok": not problems and not counts["still_missing"],
                    "dest": str(options.dest), "built_from_export_alone": job.fresh,
                    "counts": {k: v for k, v in sorted(counts.items()) if not k.startswith("problem:")},
                    "problem_kinds": {k.split(":", 1)[1]: n for k, n in sorted(counts.items())
                                      if k.startswith("problem:")},
                    "problems": job.problems, "missing": missing,
                    "next": ("items still without an original: 'exodus status' lists them; request a newer export, "
                             "or 'exodus backup --cookies' for videos") if missing else None,
                }
                cat.finish_run(run_id, "done", 0, 0, report["counts"])
                code = exit_code_for(bool(problems), bool(counts["still_missing"]))
                return code, report
            finally:
                cat.close()
    finally:
        for container in containers:
            container.close()


def _account_from_export(job: Import, containers: list[Container]) -> None:
    """Without an API backup the export's profile names the account, and the export is the
    account's complete listing."""
    cat = job.cat
    for _, doc in job.documents(containers, r"account_profile\.json"):
        if not isinstance(doc, dict):
            job.problem("export", "bad_shape", f"{job.reading}: a {type(doc).__name__} where Flickr's export "
                                               "has the account's profile; the account stays unnamed")
            continue
        cat.put("account", {"nsid": doc.get("nsid"), "username": doc.get("screen_name"),
                            "realname": doc.get("real_name"), "count": cat.count("photos")})
    if not cat.get("listing"):
        cat.put("listing", {"done": True, "complete": True, "from": "export", "pass": 0})


def render(report: dict) -> str:
    c = report["counts"]
    lines = [f"{report['dest']}: {c.get('filled', 0)} originals from the export, {c.get('agreed', 0)} agreeing "
             f"with the copies here, {c.get('still_missing', 0)} items still without an original."]
    lines += [f"  {p['id']} {p['kind']}: {p['detail']}" for p in report["problems"][:20]]
    if report["next"]:
        lines.append("next: " + report["next"])
    return "\n".join(lines)
