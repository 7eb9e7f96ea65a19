"""`exodus status DEST`: what the catalog says, without a call to Flickr."""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog, CatalogError
from .findings import Finding, Kind, of_item
from .dest import UsageProblem, exit_code_for

# What the user does about each kind of item left waiting (status reads those as findings).
NEXT_STEP = {
    Kind.NEEDS_MANUAL: "export cookies.txt (Netscape format) from a browser signed in to Flickr and run "
                       "'exodus backup DEST --cookies cookies.txt', or use Flickr's account export "
                       "(Settings > Your Flickr data > Request my Flickr data)",
    Kind.ORIGINAL_UNAVAILABLE: "a smaller size is kept; Flickr's account export (Settings > Your Flickr "
                               "data > Request my Flickr data) should hold the original",
    Kind.FAILED: "run 'exodus backup DEST' again; see the reason and DEST/logs/",
    Kind.PENDING: "run 'exodus backup DEST' again to fetch it",
}


class StatusError(Exception):
    pass


def photo_page(account: dict, item_id: str) -> str:
    who = account.get("path_alias") or account.get("nsid") or "me"
    return f"https://www.flickr.com/photos/{who}/{item_id}/"


def attention_entry(finding: Finding, row: dict, account: dict) -> dict:
    """An item waiting for another run or for the user, as status --json lists it."""
    return {"id": finding.id, "media": row["media"], "title": row["title"], "state": finding.kind.value,
            "reason": finding.detail, "url": photo_page(account, finding.id), "next": NEXT_STEP[finding.kind]}


def holder(dest: Path) -> str | None:
    """Who holds DEST's lock now ('pid N'), or None when nobody does. A probe only: the
    lock is let go at once, and a DEST without a lock file (or unreadable) has no holder."""
    try:
        handle = open(dest / ".exodus.lock", "r")
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            who = handle.read().strip() or "another process"
            return None if who == f"pid {os.getpid()}" else who  # this very process
        except OSError:
            return None
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


def status(dest: Path) -> dict:
    try:
        cat = Catalog.open(dest, must_exist=True, read_only=True)
    except CatalogError as error:
        raise StatusError(str(error)) from None
    try:
        account = cat.get("account", {}) or {}
        counts = cat.counts()
        attention = [attention_entry(of_item(row), row, account)
                     for row in cat.problems(("failed", "needs_manual", "original_unavailable"))]
        last = cat.last_run()
        listing = cat.get("listing") or {}
        files = cat.file_totals()  # one pass over the items: a million in about a second
        busy = holder(dest)
        if last and last["status"] == "running" and busy is None:
            last["status"] = "died"  # nobody holds DEST: that run was killed (the next one records it)
        return {
            "dest": str(dest),
            "account": {k: account.get(k) for k in ("username", "nsid", "count")},
            "counts": counts,
            "items": sum(counts.values()),
            "bytes_on_disk": files["bytes"],
            "left": counts["pending"] + counts["failed"],
            "listing_complete": bool(listing.get("done")),
            "albums": cat.count("albums"),
            "collections": cat.count("collections"),
            "comments": cat.count("comments"),
            "sources": files["sources"],
            "with_files": files["with_files"],
            "verified": files["verified"],
            "deep_missing": files["deep_missing"],
            "needs_you": counts["needs_manual"] + counts["original_unavailable"],
            "pushed": cat.pushed_items(),
            "busy": busy,
            "attention": attention,
            "last_run": last,
        }
    finally:
        cat.close()


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def render(report: dict, limit: int = 20) -> str:
    counts = report["counts"]
    account = report["account"]
    lines = [f"{report['dest']}: {report['items']} items of {account.get('username') or '?'} "
             f"({human_bytes(report['bytes_on_disk'])} on disk), {report['albums']} albums, "
             f"{report['collections']} collections, {report['comments']} comments"]
    if report["sources"].get("export"):
        lines.append("  files from " + ", ".join(f"{source}: {n}" for source, n in sorted(report["sources"].items())))
    rows = [(state, str(n)) for state, n in counts.items() if n]
    rows.append(("verified (proof recorded)", f"{report['verified']} of {report['with_files']} files"
                 + ("" if report["verified"] >= report["with_files"] else f": run 'exodus verify {report['dest']}'")))
    rows += [(f"pushed to {target}", f"{n} files as they are now") for target, n in report["pushed"].items()]
    if report["deep_missing"]:
        rows.append(("deep metadata missing", f"{report['deep_missing']} (the next 'exodus backup' fetches it)"))
    if report["needs_you"]:
        rows.append(("needs you", f"{report['needs_you']} (below)"))
    width = max(len(label) for label, _ in rows)
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    if report["busy"]:
        lines.append(f"Another exodus ({report['busy']}) is working on {report['dest']} now: these figures are "
                     "moving; run 'exodus status' again when it is done.")
    elif report["left"]:
        lines.append(f"{report['left']} items still to fetch: run 'exodus backup {report['dest']}' again.")
    last = report["last_run"]
    if last and last["status"] == "died":
        lines.append(f"The last run ({last['command']}, started {last['started_at']}) was cut off before it "
                     "finished; running the same command again goes on where it stopped.")
    shown = report["attention"][:limit]
    if shown:
        lines.append("Needs attention:")
        for row in shown:
            lines.append(f"  {row['id']} {row['state']}: {row['reason'] or ''}  {row['url']}")
        lines.append("  next: " + "; ".join(f"{s}: {NEXT_STEP[s]}" for s in
                                            sorted({r['state'] for r in shown})).replace("DEST", report["dest"]))
        if len(report["attention"]) > limit:
            lines.append(f"  ... and {len(report['attention']) - limit} more ('exodus status --json' lists all)")
    return "\n".join(lines)


def to_json(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=1)


@dataclass
class StatusOptions:
    dest: Path


def run_status(options: StatusOptions) -> tuple[int, dict]:
    """The command: the report, and its code (1: items failed; 3: some need the user)."""
    try:
        report = status(options.dest)
    except StatusError as error:
        raise UsageProblem(str(error)) from None
    counts = report["counts"]
    return exit_code_for(bool(counts["failed"]), bool(counts["needs_manual"] or counts["original_unavailable"])), report
