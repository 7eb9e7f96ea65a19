"""`exodus status DEST`: what the catalog says, without a call to Flickr."""

from __future__ import annotations

import json
from pathlib import Path

from .catalog import Catalog, CatalogError

NEXT_STEP = {
    "needs_manual": "export cookies.txt (Netscape format) from a browser signed in to Flickr and run "
                    "'exodus backup DEST --cookies cookies.txt', or use Flickr's account export "
                    "(Settings > Your Flickr data > Request my Flickr data)",
    "original_unavailable": "a smaller size is kept; Flickr's account export (Settings > Your Flickr "
                            "data > Request my Flickr data) should hold the original",
    "failed": "run 'exodus backup DEST' again; see the reason and DEST/logs/",
    "pending": "run 'exodus backup DEST' again to fetch it",
}


class StatusError(Exception):
    pass


def photo_page(account: dict, item_id: str) -> str:
    who = account.get("path_alias") or account.get("nsid") or "me"
    return f"https://www.flickr.com/photos/{who}/{item_id}/"


def status(dest: Path) -> dict:
    try:
        cat = Catalog.open(dest, must_exist=True, read_only=True)
    except CatalogError as error:
        raise StatusError(str(error)) from None
    try:
        account = cat.get("account", {}) or {}
        counts = cat.counts()
        attention = []
        for row in cat.problems(("failed", "needs_manual", "original_unavailable")):
            attention.append({"id": row["id"], "media": row["media"], "title": row["title"],
                              "state": row["state"], "reason": row["reason"],
                              "url": photo_page(account, row["id"]), "next": NEXT_STEP[row["state"]]})
        last = cat.rows("SELECT command, started_at, finished_at, status, api_calls, bytes FROM runs "
                        "ORDER BY id DESC LIMIT 1")
        listing = cat.get("listing") or {}
        return {
            "dest": str(dest),
            "account": {k: account.get(k) for k in ("username", "nsid", "count")},
            "counts": counts,
            "items": sum(counts.values()),
            "bytes_on_disk": cat.bytes_on_disk(),
            "left": counts["pending"] + counts["failed"],
            "listing_complete": bool(listing.get("done")),
            "albums": cat.one("SELECT count(*) FROM albums WHERE gone = 0"),
            "collections": cat.one("SELECT count(*) FROM collections"),
            "comments": cat.one("SELECT count(*) FROM comments"),
            "sources": dict(cat.db.execute("SELECT coalesce(source, 'api'), count(*) FROM photos WHERE sha256 "
                                           "IS NOT NULL GROUP BY 1").fetchall()),
            "attention": attention,
            "last_run": last[0] if last else None,
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
    width = max(len(s) for s in counts)
    for state, n in counts.items():
        if n:
            lines.append(f"  {state:<{width}}  {n}")
    if report["left"]:
        lines.append(f"{report['left']} items still to fetch: run 'exodus backup {report['dest']}' again.")
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
