"""`exodus delete-remote DEST`: delete on Flickr only what is proved safe, journaled.

An item is eligible when it is `downloaded`, and `exodus verify` proved exactly the bytes the
catalog holds for it (the sha256 verify read equals the catalog's: any later download voids
the proof) and at least one fact Flickr stated agreed; its deep metadata is done (or
--allow-shallow), and a fresh listing made just now shows it unchanged since the backup.
No clock decides anything. Right before its delete call its file is read once more, link-free
(proof.read_proof), and must be a regular file with that very sha256 and size. Every delete is journaled in
`deletions` before the call (intent) and after it (result): a kill at any instant leaves
an exact record, and the next run settles the open intents (asking Flickr whether the
item still exists) before anything else, so nothing is ever deleted twice.

Without --yes it is a dry run: what would go, by reason, and nothing changes.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..knobs import crash_point
from ..catalog import Catalog
from ..catalog.store import dumps, now_iso
from .common import carry_out, certain_dry_run, change_session, confirmed, prepare, token_allows
from ..flickr import Api, Credentials, FlickrError
from ..flickr import parse
from ..flickr.connect import connect
from ..flickr.listing import Listing, Seen, list_account
from ..flickr.quota import DEFAULT_RATE
from ..dest import UsageProblem, check_same_account, exit_code_for
from ..progress import Progress
from ..records import recorded
from ..layout.proof import read_proof

SAMPLE = 10  # titles shown in a dry run
SHOWN = 1000  # items that stay, with their reason, in the --json report


@dataclass
class DeleteOptions:
    dest: Path
    yes: bool = False
    limit: int | None = None
    album: str | None = None
    ids_file: Path | None = None
    allow_shallow: bool = False
    require_pushed: str | None = None  # a push target: only what was pushed there may go
    quiet: bool = False
    api_rate: tuple[int, float] = DEFAULT_RATE
    api_base: str | None = None
    creds: Credentials | None = None


def reason(row: dict, seen: Seen | None, listing_complete: bool, allow_shallow: bool) -> str:
    """'eligible', or why this item must stay on Flickr."""
    if row["state"] != "downloaded":
        return {"deleted_remote": "already_deleted"}.get(row["state"], row["state"])
    if not row["verified_sha256"]:
        return "not_verified"
    if row["verified_sha256"] != row["sha256"] or row["verified_size"] != row["size"]:
        return "verified_other_bytes"
    if not json.loads(row["verified_facts"] or "[]"):
        return "unconfirmed"
    if not row["deep_done"] and not allow_shallow:
        return "shallow"
    if seen is None:
        return "not_on_flickr" if listing_complete else "not_relisted"
    if seen.last_update != row["last_update"] or (
            seen.original_secret and row["original_secret"] and seen.original_secret != row["original_secret"]):
        return "stale"
    return "eligible"


@dataclass
class Plan:
    username: str = ""
    reasons: Counter = field(default_factory=Counter)
    eligible: list[dict] = field(default_factory=list)
    kept: list[dict] = field(default_factory=list)  # the first SHOWN items that stay, and why
    settled: Counter = field(default_factory=Counter)  # open intents of an earlier run
    listing_total: int = 0


def wanted_ids(cat: Catalog, options: DeleteOptions) -> set[str] | None:
    """--album and --ids narrow the candidates; None: every item."""
    wanted = None
    if options.album:
        wanted = {r["photo_id"] for r in cat.rows("SELECT photo_id FROM album_photos WHERE album_id = ?",
                                                  [options.album])}
        if not wanted:
            raise UsageProblem(f"the backup knows no album {options.album} (or it is empty)")
    if options.ids_file:
        try:
            listed = {line.strip() for line in options.ids_file.read_text().splitlines()
                      if line.strip() and not line.startswith("#")}
        except OSError as error:
            raise UsageProblem(f"cannot read {options.ids_file}: {error.strerror or error}") from None
        wanted = listed if wanted is None else wanted & listed
    return wanted


async def settle_open_intents(api: Api, cat: Catalog, counts: Counter) -> None:
    """Intents without a result: a run was stopped around its delete call. Flickr says
    which way it went; the journal records it, and nothing is called twice."""
    for entry in cat.rows("SELECT id, photo_id FROM deletions WHERE result IS NULL ORDER BY id"):
        try:
            await api.call("flickr.photos.getInfo", photo_id=entry["photo_id"])
            outcome, state = "not_done", None  # still there: the call never took effect
        except FlickrError as error:
            if error.code != 1:
                raise
            outcome, state = "deleted", "deleted_remote"
        with cat.tx() as conn:
            conn.execute("UPDATE deletions SET result = ?, result_at = ?, detail = ? WHERE id = ?",
                         (outcome, now_iso(), "settled after an interrupted run", entry["id"]))
            if state:
                conn.execute("UPDATE photos SET state = ?, reason = 'deleted on Flickr by exodus' WHERE id = ?",
                             (state, entry["photo_id"]))
        counts[outcome] += 1


def pushed_to(cat: Catalog, target_url: str) -> set[str]:
    """Items whose file, as it is in the catalog now, was pushed to this target."""
    from ..targets import TargetProblem, open_target

    try:
        name = open_target(target_url).name
    except TargetProblem as error:
        raise UsageProblem(str(error)) from None
    return {r["id"] for r in cat.rows("SELECT p.id FROM photos p JOIN pushes x ON x.key = p.path AND "
                                      "x.sha256 = p.sha256 WHERE x.target = ?", [name])}


def plan_deletions(cat: Catalog, listing: Listing, options: DeleteOptions) -> Plan:
    plan = Plan(listing_total=listing.total)
    wanted = wanted_ids(cat, options)
    pushed = pushed_to(cat, options.require_pushed) if options.require_pushed else None
    last = ""
    while True:
        rows = cat.rows("SELECT id, title, state, path, size, sha256, verified_sha256, verified_size, "
                        "verified_facts, deep_done, last_update, original_secret FROM photos WHERE id > ? "
                        "ORDER BY id LIMIT 1000",
                        [last])
        if not rows:
            return plan
        last = rows[-1]["id"]
        for row in rows:
            if wanted is not None and row["id"] not in wanted:
                continue
            why = reason(row, listing.items.get(row["id"]), listing.complete, options.allow_shallow)
            if why == "eligible" and pushed is not None and row["id"] not in pushed:
                why = "not_pushed"
            if why == "eligible" and options.limit is not None and len(plan.eligible) >= options.limit:
                why = "over_limit"
            plan.reasons[why] += 1
            if why == "eligible":
                plan.eligible.append({k: row[k] for k in ("id", "title", "path", "size", "sha256")})
            elif why not in ("already_deleted", "remote_gone") and len(plan.kept) < SHOWN:
                plan.kept.append({"id": row["id"], "title": row["title"], "reason": why})


async def _prepare(cat: Catalog, options: DeleteOptions, creds: Credentials, progress: Progress) -> Plan:
    async with connect(creds, options.api_base, options.api_rate, progress.note) as api:
        login = parse.login(await api.call("flickr.test.login"))
        check_same_account(cat, login)
        if options.yes:
            await token_allows(api, "delete")
        settled: Counter = Counter()
        # Settling writes the journal: only in a run that is sure to be real (--yes); one
        # that asks on the terminal settles once confirmed (_delete), a dry run never.
        # Unsettled intents cannot mislead the plan: an item Flickr already lost is not in
        # the fresh listing, so it is not eligible.
        if options.yes and not cat.read_only:
            await settle_open_intents(api, cat, settled)
        bar = progress.bar("listing Flickr", unit="page")
        try:
            listing = await list_account(api, bar)
        finally:
            bar.close()
    plan = plan_deletions(cat, listing, options)
    plan.username, plan.settled = login["username"], settled
    return plan


def _catalog_still_proves(cat: Catalog, item: dict) -> bool:
    """The catalog still holds the proof the plan was made on, for the same bytes and path."""
    now = cat.rows("SELECT sha256, size, verified_sha256, verified_size, path FROM photos WHERE id = ?",
                   [item["id"]])
    return bool(now) and (now[0]["sha256"], now[0]["size"], now[0]["verified_sha256"], now[0]["verified_size"],
                          now[0]["path"]) == (item["sha256"], item["size"], item["sha256"], item["size"], item["path"])


def _file_still_proves(dest: Path, item: dict) -> bool:
    """The file, read link-free now, is a regular file of exactly the proved bytes."""
    try:
        found = read_proof(dest, item["path"])
    except OSError:  # gone, a link, a folder, unreadable (NotProvable too): not the verified file
        return False
    return (found.sha256, found.size) == (item["sha256"], item["size"])


async def _delete(cat: Catalog, plan: Plan, options: DeleteOptions, creds: Credentials, progress: Progress,
                  run_id: int) -> Counter:
    done: Counter = Counter()
    bar = progress.bar("deleting", total=len(plan.eligible), unit="item")
    try:
        async with connect(creds, options.api_base, options.api_rate, progress.note) as api:
            await token_allows(api, "delete")
            if not options.yes:  # confirmed on the terminal just now
                await settle_open_intents(api, cat, plan.settled)
            for item in plan.eligible:
                # The last look at the local copy, right before Flickr's goes.
                if not (_catalog_still_proves(cat, item)
                        and await asyncio.to_thread(_file_still_proves, options.dest, item)):
                    cat.update(item["id"], verified_at=None, verified_sha256=None, verified_size=None,
                               verified_facts=None, reason="changed on disk after verify; kept on Flickr")
                    done["changed_locally"] += 1
                    bar.update(1)
                    continue
                with cat.tx() as conn:
                    cursor = conn.execute(
                        "INSERT INTO deletions (photo_id, run_id, intent_at, raw) VALUES (?, ?, ?, ?)",
                        (item["id"], run_id, now_iso(), dumps({"title": item["title"], "path": item["path"],
                                                               "sha256": item["sha256"]})))
                    entry = cursor.lastrowid
                crash_point("delete-intent")
                unanswered = api.unanswered
                try:
                    await api.call("flickr.photos.delete", photo_id=item["id"])
                    outcome = "deleted"
                except FlickrError as error:
                    if error.code != 1:
                        with cat.tx() as conn:
                            conn.execute("UPDATE deletions SET result = 'refused', result_at = ?, detail = ? "
                                         "WHERE id = ?", (now_iso(), str(error), entry))
                        done["refused"] += 1
                        bar.update(1)
                        continue
                    # "Not found" after an attempt whose answer was lost: that attempt did it.
                    outcome = "deleted" if api.unanswered > unanswered else "already_gone"
                crash_point("delete-call")
                with cat.tx() as conn:
                    conn.execute("UPDATE deletions SET result = ?, result_at = ? WHERE id = ?",
                                 (outcome, now_iso(), entry))
                    conn.execute("UPDATE photos SET state = 'deleted_remote', reason = 'deleted on Flickr by "
                                 "exodus' WHERE id = ?", (item["id"],))
                done[outcome] += 1
                bar.update(1)
    finally:
        bar.close()
    return done


@recorded
def run_delete(options: DeleteOptions) -> tuple[int, dict]:
    with change_session(options.dest, options.creds, options.quiet, "delete-remote",
                        dry_run=certain_dry_run(options.yes), api_base=options.api_base) as (cat, creds, progress):
        plan = prepare(_prepare(cat, options, creds, progress), "deleted")
        bytes_eligible = sum(i["size"] or 0 for i in plan.eligible)
        what = (f"{len(plan.eligible)} items ({bytes_eligible / 1e9:.2f} GB) would be deleted on Flickr; "
                "their files here stay.")
        done: Counter = Counter()
        dry_run = not plan.eligible or not confirmed(plan.username, what, options.yes)
        if not dry_run:
            done = carry_out(cat, "delete-remote",
                             lambda run_id: _delete(cat, plan, options, creds, progress, run_id), progress)
        report = {
            "ok": not done["refused"] and not done["changed_locally"],
            "dry_run": dry_run,
            "account": plan.username,
            "counts": {"eligible": len(plan.eligible), "bytes_eligible": bytes_eligible,
                       "by_reason": dict(sorted(plan.reasons.items())),
                       **{k: done[k] for k in ("deleted", "already_gone", "changed_locally", "refused")}},
            "settled_from_earlier_run": dict(plan.settled),
            "sample": [{"id": i["id"], "title": i["title"]} for i in plan.eligible[:SAMPLE]],
            "kept": plan.kept,
            "journal": cat.one("SELECT count(*) FROM deletions WHERE result IN ('deleted', 'already_gone')"),
        }
        return exit_code_for(not report["ok"]), report


REASON_TEXT = {
    "eligible": "verified, unchanged on Flickr: can go",
    "needs_manual": "needs you (video original not saved)", "original_unavailable": "original not saved",
    "failed": "download failed", "pending": "not downloaded yet", "remote_gone": "already gone from Flickr",
    "already_deleted": "deleted by exodus before", "not_verified": "not verified yet (run 'exodus verify')",
    "verified_other_bytes": "the file changed since verify proved it (run 'exodus verify')",
    "unconfirmed": "nothing Flickr stated could confirm the file", "shallow": "deep metadata missing "
    "(run 'exodus backup', or --allow-shallow)", "stale": "changed on Flickr since the backup (run 'exodus "
    "backup', then 'exodus verify')", "not_on_flickr": "not on Flickr any more",
    "not_relisted": "Flickr's listing skipped it just now", "over_limit": "beyond --limit",
    "not_pushed": "not pushed to the --require-pushed target (run 'exodus push')",
}


def render(report: dict) -> str:
    c = report["counts"]
    lines = [f"{report['account']}: {c['eligible']} items ({c['bytes_eligible'] / 1e9:.2f} GB) can be deleted "
             f"on Flickr; their files here stay."]
    for why, n in c["by_reason"].items():
        lines.append(f"  {n:>7}  {REASON_TEXT.get(why, why)}")
    if report["dry_run"]:
        for item in report["sample"]:
            lines.append(f"    would delete {item['id']} {item['title']!r}")
        if c["eligible"] > len(report["sample"]):
            lines.append(f"    ... and {c['eligible'] - len(report['sample'])} more")
        if c["eligible"]:
            lines.append("Dry run: nothing was deleted. Add --yes to delete (or confirm on a terminal).")
    else:
        lines.append(f"Deleted {c['deleted']} (already gone: {c['already_gone']}); kept because the file "
                     f"changed after verify: {c['changed_locally']}; refused by Flickr: {c['refused']}. "
                     f"Journal: {report['journal']} deletions in catalog.db.")
    return "\n".join(lines)
