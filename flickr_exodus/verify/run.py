"""`exodus verify DEST`: prove the backup whole (local) and complete (--remote), record
what was proved per item, and with --repair hand everything bad back to `exodus backup`.

Exit codes: 0 everything checked is whole and complete; 1 something is damaged or
missing; 3 all whole, but some items need the user (needs_manual, original_unavailable,
unconfirmed: nothing independent of our download could be checked).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

from ..layout import paths
from ..catalog import Catalog, Item
from ..catalog.items import WANTING_STATES
from ..catalog.store import now_iso
from ..flickr import Credentials, FlickrError, MissingCredentials, Transient
from ..flickr.connect import FlickrAccess, connect
from ..dest import EXIT_OK, UsageProblem, exit_code_for, open_backup
from ..findings import Finding, Findings, Kind, of_item
from ..progress import Progress, page_meter
from ..records import recorded
from .local import ItemResult, check_files, scan_tree
from .remote import RemoteReport, check_remote

UNKNOWN_FILES = "unknown-files"  # where --repair moves files the catalog does not know
SHOWN_PROBLEMS = 1000  # in the report; the counts cover all


@dataclass
class VerifyOptions(FlickrAccess):
    dest: Path
    remote: bool = False
    fast: bool = False
    jobs: int = os.cpu_count() or 2
    repair: bool = False
    quiet: bool = False


@dataclass
class Tally:
    """What the local check counts besides its findings."""
    checked: int = 0
    whole: int = 0
    damaged: int = 0          # items whose file (not only its sidecar) has a problem
    bytes: int = 0
    structure_not_checked: int = 0
    resumable_parts: int = 0
    by_source: Counter = field(default_factory=Counter)


class Verification:
    """Collects what the checks find, and writes the per-item record."""

    def __init__(self, cat: Catalog, options: VerifyOptions):
        self.cat = cat
        self.options = options
        self.tally = Tally()
        self.found = Findings(SHOWN_PROBLEMS)
        self.bad_items: dict[str, Kind] = {}     # id -> first problem kind
        self.bad_sidecars: set[str] = set()
        self.tree_findings: list[Finding] = []
        self.pending_writes: list[Callable[[], None]] = []  # catalog transitions, run by flush
        # What --fast found of whole items: few records (by what they say), many items, staged
        # in the catalog's temporary table a batch at a time and written once at the end.
        self.fast_keys: dict[tuple, int] = {}   # what a record says -> its number
        self.fast_records: list[dict] = []
        self.fast_notes: dict[int, list[int]] = {}  # record number -> items (rowids) not yet staged
        self.noted = 0
        self.stamp = now_iso()

    def problem(self, item_id: str, kind: Kind, detail: str) -> None:
        self.found.add(Finding(item_id, kind, detail))

    # --- local -----------------------------------------------------------------------
    def item_done(self, row: Item, result: ItemResult) -> None:
        tally = self.tally
        tally.checked += 1
        tally.by_source[row.source or "api"] += 1
        if result.structure in ("not_checked", "not_checked_fast"):
            tally.structure_not_checked += 1
        tally.bytes += row.size or 0
        if result.problems:
            self._not_whole(row, result)
        else:
            tally.whole += 1
            self._whole(row, result)
        if len(self.pending_writes) >= 500 or self.noted >= 5000:
            self.flush()

    def _not_whole(self, row: Item, result: ItemResult) -> None:
        for finding in result.problems:
            self.found.add(finding)
        file_kinds = {f.kind for f in result.problems if not f.kind.sidecar}
        if file_kinds:
            self.tally.damaged += 1
            self.bad_items.setdefault(row.id, sorted(file_kinds)[0])
        else:
            self.bad_sidecars.add(row.id)
        record = {"at": self.stamp, "problems": [f.kind.value for f in result.problems]}
        self.pending_writes.append(partial(self.cat.mark_unproven, row.id, record))

    def _whole(self, row: Item, result: ItemResult) -> None:
        facts, why_not = proving_facts(result)
        if not facts:
            self.found.add(Finding(row.id, Kind.UNCONFIRMED, why_not, needs_user=True))
        if result.hashed:  # the proof: exactly these bytes, and the facts that prove them whole
            self.pending_writes.append(partial(self.cat.mark_verified, row.id, result.sha256, result.size, facts,
                                               self._record(result), self.stamp))
            return
        # --fast proves sizes only: an earlier full proof stands, none is made. Its few
        # records (by what they say) are made once each, not once per item.
        key = (tuple(result.confirmed_by), result.structure)
        number = self.fast_keys.get(key)
        if number is None:
            number = self.fast_keys[key] = len(self.fast_records)
            self.fast_records.append(self._record(result))
        notes = self.fast_notes.get(number)
        if notes is None:
            notes = self.fast_notes[number] = []
        notes.append(row.rowid)
        self.noted += 1

    def _record(self, result: ItemResult) -> dict:
        """What verify found of a whole item, as its `verified` column holds it."""
        return {"at": self.stamp, "sha256": result.hashed, "confirmed_by": result.confirmed_by,
                "structure": result.structure, "remote": False}

    def flush(self) -> None:
        if (self.pending_writes or self.fast_notes) and not self.cat.read_only:  # a read-only DEST records nothing
            with self.cat.tx():  # one commit for the lot
                for write in self.pending_writes:
                    write()
                for number, rowids in self.fast_notes.items():
                    self.cat.stage_checked(rowids, number)
        self.pending_writes, self.fast_notes, self.noted = [], {}, 0

    def finish(self) -> None:
        """The last writes, and what --fast found of whole items, in one pass."""
        self.flush()
        if self.fast_records and not self.cat.read_only:
            self.cat.note_checked(self.fast_records)

    def catalog_states(self) -> None:
        """Items without a finished file, by state."""
        for row in self.cat.problems(WANTING_STATES, by_state=False):
            if row["state"] in ("pending", "failed"):
                self.problem(row["id"], Kind.NOT_DOWNLOADED, f"{row['state']}: {row['reason'] or 'not fetched yet'}")
            else:
                self.found.add(of_item(row))
        listing = self.cat.get("listing") or {}
        if not listing.get("done") or not listing.get("complete", True):
            self.problem("account", Kind.LISTING_INCOMPLETE, "the last backup did not list the whole account; "
                                                             "run 'exodus backup' again")

    def tree(self) -> None:
        for finding in scan_tree(self.cat, self.options.dest):
            self.tree_findings.append(finding)
            if finding.kind is Kind.RESUMABLE_PART:  # no fault: 'exodus backup' resumes it
                self.tally.resumable_parts += 1
                continue
            self.found.add(finding)

    # --- remote ----------------------------------------------------------------------
    def remote_done(self, report: RemoteReport) -> None:
        for finding in report.findings:
            self.found.add(finding)
        if self.cat.read_only:
            return
        if report.stale_ids:
            # A copy of an item Flickr changed since is not proof of what Flickr has.
            self.cat.void_proofs(sorted(report.stale_ids))
        self.cat.mark_checked_remotely(self.stamp)

    # --- repair ----------------------------------------------------------------------
    def repair(self, remote: RemoteReport | None) -> dict:
        """Hand every bad item back to `exodus backup`; move unknown files aside (never
        delete them); remove exodus's own leftovers and broken links."""
        dest = self.options.dest
        done = Counter()
        with self.cat.tx():
            for item_id, kind in self.bad_items.items():
                self.cat.mark_for_refetch(item_id, f"verify found it {kind.replace('_', ' ')}; fetched again")
                done["items_refetch"] += 1
            for item_id in self.bad_sidecars - set(self.bad_items):
                self.cat.mark_sidecar_dirty(item_id)
                done["sidecars_rewrite"] += 1
        for finding in self.tree_findings:
            path = dest / finding.id
            if finding.kind is Kind.STRAY:
                try:
                    shutil.move(path, _aside(dest, finding.id))
                    done["strays_moved"] += 1
                except paths.OutsideDest:  # unknown-files/ leads out of DEST: leave the file be
                    done["strays_left"] += 1
            elif finding.kind is Kind.PART_LEFTOVER:
                path.unlink(missing_ok=True)
                done["leftovers_removed"] += 1
            elif finding.kind is Kind.BROKEN_LINK and path.is_symlink():  # a manifest's line is no link
                path.unlink()
                done["links_removed"] += 1
        if remote and remote.findings:
            # The next backup lists everything again and refetches changed albums.
            listing = self.cat.get("listing") or {}
            self.cat.put("listing", {**listing, "counts_agreed": False})
            with self.cat.tx():
                for finding in remote.findings:
                    if finding.kind == "album_changed":
                        self.cat.forget_album_sync(finding.id)
                    elif finding.kind == "stale":
                        self.cat.mark_deep_stale(finding.id)
            done["relist"] = 1
        return dict(done)


def proving_facts(result: ItemResult) -> tuple[list[str], str]:
    """The facts Flickr stated that prove this file whole (what delete-remote relies on), or
    none and why. Flickr's length proves it whole by itself; a pixel size, a shape or a
    duration sit in a file's first bytes and agree with a copy cut short too, so they
    count only where the file's own structure was walked to its end."""
    if not result.confirmed_by:
        return [], "nothing Flickr stated could be checked against the file"
    if "content_length" in result.confirmed_by or result.structure == "whole":
        return result.confirmed_by, ""
    return [], ("its structure could not be checked to its end, and Flickr stated no length for it "
                "(a file cut short would agree with what was checked)")


def _aside(dest: Path, relative: str) -> Path:
    """Where --repair puts a file the catalog does not know: under unknown-files/, proven
    inside DEST, never over an earlier one of the same name."""
    target = paths.inside(dest, f"{UNKNOWN_FILES}/{relative}")
    n = 1
    while os.path.lexists(target):
        target = paths.inside(dest, f"{UNKNOWN_FILES}/{relative}.{n}")
        n += 1
    return target


@recorded
def run_verify(options: VerifyOptions) -> tuple[int, dict]:
    creds = None
    if options.remote:
        try:
            creds = options.creds or Credentials.load(api_base=options.api_base)
        except MissingCredentials as error:
            raise UsageProblem(str(error)) from None
    with open_backup(options.dest, options.quiet, "verify", changes=options.repair) as (cat, progress):
        dest = options.dest
        job = Verification(cat, options)
        total = cat.bytes_on_disk()
        bar = progress.bar("checking" if options.fast else "hashing", total=total, bytes=True)
        try:
            check_files(cat, dest, max(1, options.jobs), options.fast, bar, job.item_done)
        finally:
            bar.close()
            job.finish()
        job.catalog_states()
        job.tree()
        remote = None
        if options.remote:
            remote = asyncio.run(_remote(cat, options, creds, progress))
            job.remote_done(remote)
        repaired = job.repair(remote) if options.repair else None
        return report(job, options, remote, repaired)


async def _remote(cat: Catalog, options: VerifyOptions, creds: Credentials, progress: Progress) -> RemoteReport:
    bar = progress.bar("listing Flickr", unit="page")
    try:
        async with connect(creds, options.api_base, options.api_rate, progress.note) as api:
            return await check_remote(api, cat, page_meter(bar))
    except Transient as error:
        raise UsageProblem(f"Flickr did not answer properly ({error.reason}); the local check is done, "
                           "run 'exodus verify --remote' again later") from None
    except FlickrError as error:
        raise UsageProblem(f"Flickr refused: {error.message or error}") from None
    finally:
        bar.close()


def report(job: Verification, options: VerifyOptions, remote: RemoteReport | None,
           repaired: dict | None) -> tuple[int, dict]:
    found, tally = job.found, job.tally
    problems = found.total
    code = exit_code_for(bool(problems), bool(found.needs_user))
    document = {
        "ok": code == EXIT_OK,
        "dest": str(options.dest),
        "checked": {"local": "sizes, formats, the structure readable by seeks, sidecars present (--fast)"
                    if options.fast else "sha256, format, structure, Flickr's facts, sidecars",
                    "remote": remote is not None, "jobs": options.jobs},
        "counts": {
            "items_with_files": tally.checked, "whole": tally.whole, "damaged": tally.damaged,
            "unconfirmed": found.count(Kind.UNCONFIRMED), "not_downloaded": found.count(Kind.NOT_DOWNLOADED),
            "needs_manual": found.count(Kind.NEEDS_MANUAL),
            "original_unavailable": found.count(Kind.ORIGINAL_UNAVAILABLE),
            "stray_files": found.count(Kind.STRAY), "leftovers": found.count(Kind.PART_LEFTOVER),
            "broken_links": found.count(Kind.BROKEN_LINK), "resumable_parts": tally.resumable_parts,
            "bytes_checked": tally.bytes, "problems": problems,
            "structure_not_checked": tally.structure_not_checked,
            "by_source": dict(sorted(tally.by_source.items())),
            **({"remote_listed": remote.listed, "remote_albums": remote.albums} if remote else {}),
        },
        "problem_kinds": {kind.value: n for kind, n in sorted(found.kinds.items())},
        "problems": [f.problem() for f in found.problems],
        "needs_user": [f.waiting() for f in found.needs_user[:SHOWN_PROBLEMS]],
        "repaired": repaired,
    }
    return code, document


def render(document: dict) -> str:
    """The report as a person reads it: a few lines, the worst first."""
    c = document["counts"]
    lines = [f"{document['dest']}: {c['whole']} of {c['items_with_files']} files whole "
             f"({c['bytes_checked'] / 1e9:.2f} GB checked: {document['checked']['local']}"
             f"{'; against Flickr too' if document['checked']['remote'] else ''})"]
    rows = [("damaged files", c["damaged"]), ("not downloaded", c["not_downloaded"]),
            ("files the catalog does not know", c["stray_files"]), ("leftover partial files", c["leftovers"]),
            ("broken album links", c["broken_links"]), ("unconfirmed", c["unconfirmed"]),
            ("needs you (videos)", c["needs_manual"]), ("original withheld", c["original_unavailable"])]
    width = max(len(label) for label, _ in rows)
    lines += [f"  {label:<{width}}  {n}" for label, n in rows if n]
    if document["problem_kinds"]:
        lines.append("Problems: " + ", ".join(f"{k} {n}" for k, n in document["problem_kinds"].items()))
        for problem in document["problems"][:20]:
            lines.append(f"  {problem['id']} {problem['kind']}: {problem['detail']}")
        if c["problems"] > 20:
            lines.append(f"  ... and {c['problems'] - 20} more ('exodus verify --json' lists them)")
    if document["repaired"]:
        lines.append("Repaired: " + ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in document["repaired"].items())
                     + f"; now run 'exodus backup {document['dest']}'.")
    elif c["problems"]:
        lines.append(f"Run 'exodus verify --repair {document['dest']}', then 'exodus backup {document['dest']}'.")
    if document["ok"]:
        lines.append("Everything checked is whole" + (" and matches Flickr." if document["checked"]["remote"]
                                                       else ". ('--remote' also checks it against Flickr.)"))
    return "\n".join(lines)
