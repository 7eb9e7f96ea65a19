"""`exodus backup DEST`: crawl, download and lay out the tree, resumably; run again, sync.

Order: who -> listing (checkpointed) -> replaced originals set aside -> albums, collections
-> downloads, then videos' posters, alongside comments, favorites, galleries, contacts,
groups -> the deep pass
(once the originals are safe) -> sidecars, XMP, views, links.csv -> summary. Each step
commits as it goes, so any stop (Ctrl-C, kill -9, a full disk) is resumed by running the
same command again.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from ..catalog import Catalog, State
from ..flickr import Api, Credentials, FlickrError, MissingCredentials, Transient
from ..flickr.connect import FlickrAccess, connect
from ..flickr.cookies import CookieProblem, flickr_cookie_header
from ..knobs import crash_point
from ..dest import (
    EXIT_INTERRUPTED, EXIT_PROBLEMS, EXIT_USAGE, DestLock, exit_code_for, open_for_writing,
    UsageProblem, disk_full, open_to_others, prepare_dest,
)
from ..progress import Progress, plural
from ..records import log_to, recorded
from . import adopt
from .crawl import Crawler
from .deep import deep_pass
from ..layout.writer import recover
from .download import DiskFull, Downloader, keep_replaced
from .faves import download_faves
from .posters import fetch_posters
from ..layout.tree import build_views, write_links, write_sidecars
from ..gallery.current import refresh as refresh_gallery

# Rough bytes per pixel of an original, to warn before a disk fills (JPEG at high quality;
# lossless formats much more). Videos: their size is unknown until fetched.
BYTES_PER_PIXEL = 0.45
BYTES_PER_VIDEO = 60_000_000
# Galleries, contacts, groups and pools cost a call per gallery and per group; changes
# there are not urgent, so a rerun within a day leaves them be.
SOCIAL_REFRESH_S = 24 * 3600


@dataclass
class BackupOptions(FlickrAccess):
    dest: Path
    concurrency: int = 8
    quiet: bool = False
    deep: bool = True
    cookies: Path | None = None  # a browser's cookies.txt, for video originals
    xmp: bool | None = None  # None: as the last run of this DEST
    faves: bool = False  # also download the favorites into DEST/faves/
    private_urls: bool = False  # links.csv also lists the static URLs of non-public items (this run)
    adopt: bool = False  # rebuild a lost or damaged catalog from the tree (backup/adopt.py)


@recorded
def run_backup(options: BackupOptions) -> tuple[int, dict]:
    """The whole command. Returns (exit code, summary document)."""
    try:
        creds = options.creds or Credentials.load(api_base=options.api_base)
    except MissingCredentials as error:
        raise UsageProblem(str(error)) from None
    cookies = None
    if options.cookies is not None:
        try:
            cookies = flickr_cookie_header(options.cookies, options.api_base)
        except CookieProblem as error:
            raise UsageProblem(str(error)) from None
    dest = options.dest
    foreign = prepare_dest(dest)
    progress = Progress(options.quiet)
    if foreign:
        progress.note(foreign)
    with DestLock(dest):
        cat = adopt.open_catalog(dest, progress) if options.adopt else open_for_writing(dest, "backup")
        try:
            return _run(options, creds, cat, progress, cookies)
        finally:
            cat.close()


def _run(options: BackupOptions, creds: Credentials, cat: Catalog, progress: Progress,
         cookies: str | None) -> tuple[int, dict]:
    dest = options.dest
    log_to(dest, "backup")
    if note := open_to_others(dest):
        progress.note(note)
    run_id = cat.start_run("backup")
    job = Backup(options, creds, cat, progress, cookies)
    code, status = EXIT_INTERRUPTED, "interrupted"
    try:
        asyncio.run(job.run())
        code = job.exit_code()
        status = "done"
    except KeyboardInterrupt:
        progress.note(f"Interrupted. Run 'exodus backup {dest}' again to resume.")
    except (DiskFull, OSError, sqlite3.OperationalError) as error:
        if not isinstance(error, DiskFull) and not disk_full(error, dest):
            raise
        code, status = EXIT_PROBLEMS, "disk_full"
        job.problem = disk_full_note(dest, "partial files are kept")
        progress.note(job.problem)
    except Transient as error:
        code, status = EXIT_PROBLEMS, "unreachable"
        job.problem = (f"Flickr did not answer properly after {job.api.attempts if job.api else 'several'} tries "
                       f"({error.reason}); check the network connection"
                       f"{' and EXODUS_API_BASE (--api-base)' if options.api_base else ''} "
                       f"(or whether Flickr is down), then run 'exodus backup {dest}' again to resume")
        progress.note(job.problem)
    except FlickrError as error:
        code, status = EXIT_USAGE if error.code in (96, 97, 98, 99, 100) or error.code is None else EXIT_PROBLEMS, "refused"
        job.problem = f"Flickr refused: {error.message or error}"
        progress.note(job.problem)
    except UsageProblem as error:
        close_run(cat, run_id, "refused", job.api.calls if job.api else 0, 0, {"problem": str(error)})
        raise
    summary = job.summary(status)
    crash_point("backup-finish")
    if not close_run(cat, run_id, status, job.api.calls if job.api else 0, job.bytes(), summary):
        # The work is done and committed; only this run's record is missing.
        if status != "disk_full":
            job.problem = disk_full_note(dest, "everything fetched is kept, only this run's record is not")
            progress.note(job.problem)
            code, summary = EXIT_PROBLEMS, {**summary, "ok": False, "status": "disk_full", "problem": job.problem,
                                            "notes": summary["notes"] + [job.problem]}
    return code, summary


def disk_full_note(dest: Path, kept: str) -> str:
    free = shutil.disk_usage(dest).free
    return (f"the disk is full ({free / 1e6:.0f} MB free at {dest}); {kept}. Free some space and run "
            f"'exodus backup {dest}' again.")


def close_run(cat: Catalog, run_id: int, status: str, api_calls: int, nbytes: int, summary: dict) -> bool:
    """The run's closing record; False when the disk is too full to take it (the rerun
    does not need it: every step before it committed on its own)."""
    try:
        cat.finish_run(run_id, status, api_calls, nbytes, summary)
        return True
    except (OSError, sqlite3.OperationalError) as error:
        if not disk_full(error, cat.path.parent):
            raise
        return False


class Backup:
    def __init__(self, options: BackupOptions, creds: Credentials, cat: Catalog, progress: Progress,
                 cookies: str | None = None):
        self.options = options
        self.cookies = cookies
        self.creds = creds
        self.cat = cat
        self.progress = progress
        self.api: Api | None = None
        self.account: dict = {}
        self.listing = None
        self.downloads = None
        self.recovered: dict = {}
        self.problem: str | None = None
        self.started = time.monotonic()
        self.notes: list[str] = []
        self.replaced = 0
        self.deep = None
        self.faves = None
        self.posters: dict | None = None
        self.crawler: Crawler | None = None
        self.adopted: adopt.Adopted | None = None

    async def run(self) -> None:
        dest = self.options.dest
        self.recovered = recover(self.cat, dest)
        async with connect(self.creds, self.options.api_base, self.options.api_rate, self.progress.note,
                           connections=self.options.concurrency + 4) as api:
            self.api = api
            session = api.session
            crawler = self.crawler = Crawler(self.api, self.cat, self.progress)
            self.account = await crawler.who()
            self.progress.note(f"Backing up {self.account['username']} ({self.account['count']} items on Flickr) "
                               f"into {dest}")
            self.listing = await crawler.listing(self.account.get("count"))
            for note in self.listing.notes:
                self.progress.note(note)
            if self.cat.get(adopt.ADOPTING):
                self.adopt_tree()
            self.replaced = keep_replaced(self.cat, dest)
            if self.replaced:
                self.progress.note(f"{self.replaced} originals were replaced on Flickr; the earlier files "
                                   "are kept as *.replaced-YYYYmmdd.*")
            await crawler.albums()
            await crawler.collections()
            self.check_space()
            downloader = Downloader(dest, self.cat, self.api, session, self.progress, self.options.concurrency,
                                    cookies=self.cookies)
            self.downloads = downloader.stats

            async def metadata() -> None:
                await crawler.comments()
                await crawler.favorites()
                if time.time() - self.cat.get("social_synced", 0) >= SOCIAL_REFRESH_S:
                    await crawler.galleries(self.account["nsid"])
                    await crawler.contacts()
                    await crawler.groups(self.account["nsid"])
                    self.cat.put("social_synced", time.time())

            async def files() -> None:
                await downloader.run()
                self.posters = await fetch_posters(self.cat, dest, session, api.endpoints.rebase, self.progress,
                                                   downloader.policy, self.options.concurrency)

            try:
                async with asyncio.TaskGroup() as group:
                    group.create_task(files())
                    group.create_task(metadata())
            except ExceptionGroup as errors:
                # One cause is enough for the user; a full disk outranks the rest.
                raise next((e for e in errors.exceptions if isinstance(e, DiskFull)),
                           errors.exceptions[0]) from None
            if self.options.deep:
                self.deep = await deep_pass(self.api, self.cat, self.progress)
            if self.options.faves:
                self.faves = await download_faves(self.cat, dest, session, api.endpoints.rebase, self.progress,
                                                  policy=downloader.policy)
        crash_point("backup-tree")
        # --xmp once, and later runs keep the XMP sidecars up to date (until --no-xmp).
        xmp = self.options.xmp if self.options.xmp is not None else bool(self.cat.get("xmp", False))
        self.cat.put("xmp", xmp)
        write_sidecars(self.cat, dest, xmp_too=xmp)
        build_views(self.cat, dest)
        write_links(self.cat, dest, self.account, private_urls=self.options.private_urls)
        self.notes += refresh_gallery(self.cat, dest, self.progress)  # when DEST has one; never fails the backup

    def adopt_tree(self) -> None:
        """Before anything is downloaded: the files already in the tree, for a rebuilt catalog
        (until a complete listing has been adopted from: an interrupted --adopt resumes)."""
        crash_point("adopt")
        self.adopted = adopt.adopt_tree(self.cat, self.options.dest, self.progress, self.options.concurrency,
                                        gone_too=self.listing.complete)
        found = self.adopted
        if found.files or found.aside or found.gone or found.versions:
            self.progress.note(f"Adopted {found.files} files already in {self.options.dest} "
                               f"({found.bytes / 1e6:.1f} MB, "
                               f"not downloaded again)"
                               + (f"; {found.aside} that agreed with nothing known were moved to "
                                  f"{adopt.UNKNOWN_FILES}/ and are fetched again" if found.aside else "")
                               + (f"; {found.gone} items deleted on Flickr are known again from their "
                                  "sidecars" if found.gone else ""))
        if self.listing.complete:
            self.cat.put(adopt.ADOPTING, False)

    def check_space(self) -> None:
        totals = self.cat.fetch_totals()
        needed = int(totals["pixels"] * BYTES_PER_PIXEL + totals["videos"] * BYTES_PER_VIDEO)
        free = shutil.disk_usage(self.options.dest).free
        if totals["items"]:
            self.progress.note(f"{plural(totals['items'], 'file')} to fetch. Flickr does not say how large: "
                               f"camera files of these pixel counts would take about {needed / 1e9:.1f} GB; "
                               f"{free / 1e9:.1f} GB free.")
        if needed > free:
            self.notes.append(f"the disk may be too small: about {needed / 1e9:.1f} GB needed, "
                              f"{free / 1e9:.1f} GB free")
            self.progress.note("Warning: " + self.notes[-1] + ". exodus stops cleanly if it fills up.")

    def bytes(self) -> int:
        return self.downloads.bytes if self.downloads else 0

    def exit_code(self) -> int:
        counts = self.cat.counts()
        problems = counts["failed"] or (self.listing and not self.listing.complete) or \
            (self.crawler and self.crawler.skipped_count)
        return exit_code_for(bool(problems), bool(counts["needs_manual"] or counts["original_unavailable"]))

    def user_notes(self, counts: dict) -> list[str]:
        """What the user should do about items exodus could not fully save."""
        notes = []
        kept = self.cat.count("kept_smaller")
        if counts["original_unavailable"]:
            notes.append(f"{counts['original_unavailable']} items: Flickr withholds their originals (a free "
                         f"account); {kept} are kept at the largest size it allows. Flickr's account export "
                         "(Settings > Your Flickr data > Request my Flickr data) should hold the originals; "
                         "'exodus status DEST' lists them.")
        if counts["needs_manual"]:
            notes.append(f"{counts['needs_manual']} videos need the owner's browser session: export "
                         "cookies.txt from a browser signed in to Flickr and run 'exodus backup DEST "
                         "--cookies cookies.txt', or use Flickr's account export.")
        if self.posters and self.posters["failed"]:
            notes.append(f"{plural(self.posters['failed'], 'video poster')} could not be fetched (the videos "
                         "themselves are saved); the next run tries again.")
        if not self.options.deep:
            left = self.cat.count_needing_deep()
            if left:
                notes.append(f"--no-deep: {left} items lack notes, people and permissions; "
                             "a run without --no-deep adds them.")
        return [n.replace("DEST", str(self.options.dest)) for n in notes]

    def summary(self, status: str) -> dict:
        counts = self.cat.counts()
        failed = self.cat.problems((State.FAILED,), limit=100)
        needs = self.cat.problems((State.NEEDS_MANUAL, State.ORIGINAL_UNAVAILABLE), limit=100)
        listing = self.listing
        d = self.downloads
        skipped = self.crawler.skipped if self.crawler else []
        return {
            "ok": status == "done" and not counts["failed"] and bool(listing and listing.complete)
            and not skipped,
            "status": status,
            "dest": str(self.options.dest),
            "account": {k: self.account.get(k) for k in ("nsid", "username", "count")},
            "listing": None if listing is None else {
                "total": listing.total, "listed": listing.listed, "rounds": listing.rounds,
                "pages_asked_again": listing.refetched,
                "complete": listing.complete, "gone": listing.gone,
                "incremental": listing.incremental, "changed": listing.changed},
            "counts": counts,
            "bytes_on_disk": self.cat.bytes_on_disk(),
            "this_run": {
                "downloaded": d.downloaded if d else 0, "bytes": d.bytes if d else 0,
                "retries": (d.retries if d else 0) + (self.api.retries if self.api else 0),
                "cdn_throttled": d.throttled if d else 0,
                "api_calls": self.api.calls if self.api else 0,
                "quota_wait_s": round(self.api.quota.waited, 1) if self.api else 0,
                "seconds": round(time.monotonic() - self.started, 2),
                "recovered": self.recovered,
                "replaced": self.replaced,
                "deep": None if self.deep is None else vars(self.deep),
                "faves": self.faves,
                "posters": self.posters,
                "adopted": None if self.adopted is None else vars(self.adopted),
            },
            "failed": [{"id": r["id"], "title": r["title"], "reason": r["reason"]} for r in failed],
            # Records Flickr sent in shapes exodus cannot use (ids of "../.." and the like).
            "skipped": {"count": self.crawler.skipped_count if self.crawler else 0, "shown": skipped},
            "needs_user": [{"id": r["id"], "title": r["title"], "state": r["state"], "reason": r["reason"]}
                           for r in needs],
            "notes": (listing.notes if listing else []) + self.notes + self.user_notes(counts)
            + ([self.problem] if self.problem else []),
            "problem": self.problem,  # what ended the run early, if anything
        }


def render(summary: dict, holds: str | None = None) -> str:
    """The text report: this run's figures, what the backup holds now (`holds`, status's
    text, when the run finished), and the notes not told already as they happened."""
    run = summary["this_run"]
    lines = [f"This run: {plural(run['downloaded'], 'file')}, {run['bytes'] / 1e6:.1f} MB, "
             f"{plural(run['api_calls'], 'API call')}, {plural(run['retries'], 'retry', 'retries')}, "
             f"{run['seconds']:.1f} s."]
    if holds is not None:
        lines.append(holds)
    lines += [f"note: {note}" for note in summary["notes"] if note != summary.get("problem")]
    return "\n".join(lines)
