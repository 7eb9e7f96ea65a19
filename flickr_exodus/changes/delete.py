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
import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import Catalog, State
from ..catalog.journal import album_members, deletion_candidates, proof_now, pushed_as_they_are
from .common import (
    Session, carry_out, certain_dry_run, change_session, confirmed, listed, prepare, whose_token,
)
from .journal import Journal
from .selection import at_risk, read_ids
from ..flickr import Api, FlickrError
from ..flickr.listing import Listing, Seen
from ..flickr.connect import FlickrAccess
from ..dest import UsageProblem, exit_code_for
from ..records import recorded
from ..layout.proof import read_proof

SAMPLE = 10  # titles shown in a dry run
SHOWN = 1000  # items that stay, with their reason, in the --json report


@dataclass
class DeleteOptions(FlickrAccess):
    dest: Path
    yes: bool = False
    limit: int | None = None
    album: str | None = None
    ids_file: Path | None = None
    risk: str | None = None  # --risk LEVEL: what the last audit ranked there or above
    allow_shallow: bool = False
    require_pushed: str | None = None  # a push target: only what was pushed there may go
    quiet: bool = False


def reason(row: dict, seen: Seen | None, listing_complete: bool, allow_shallow: bool) -> str:
    """'eligible', or why this item must stay on Flickr."""
    if row["state"] != State.DOWNLOADED:
        return {State.DELETED_REMOTE: "already_deleted"}.get(row["state"], row["state"])
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
    # No stamp on either side proves nothing unchanged: only equal stamps do.
    if seen.last_update is None or seen.last_update != row["last_update"] or (
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
    """--album, --ids and --risk narrow the candidates; None: every item."""
    wanted = None
    if options.album:
        wanted = album_members(cat, options.album)
        if not wanted:
            raise UsageProblem(f"the backup knows no album {options.album} (or it is empty)")
    if options.ids_file:
        listed = read_ids(cat, options.ids_file)
        wanted = set(listed) if wanted is None else wanted & listed
    if options.risk:
        risky = at_risk(cat, options.risk)
        wanted = set(risky) if wanted is None else wanted & risky
    return wanted


async def settle_open_intents(api: Api, journal: Journal, counts: Counter) -> None:
    """Intents without a result: a run was stopped around its delete call. Flickr says
    which way it went; the journal records it, and nothing is called twice."""
    for entry in journal.open_intents():
        try:
            await api.call("flickr.photos.getInfo", photo_id=entry["photo_id"])
            outcome = "not_done"  # still there: the call never took effect
        except FlickrError as error:
            if error.code != 1:
                raise
            outcome = "deleted"
        journal.settle(entry["id"], entry["photo_id"], outcome, "settled after an interrupted run")
        counts[outcome] += 1


def pushed_to(cat: Catalog, target_url: str) -> set[str]:
    """Items whose file, as it is in the catalog now, was pushed to this target."""
    from ..targets import TargetProblem, open_target

    try:
        name = open_target(target_url).name
    except TargetProblem as error:
        raise UsageProblem(str(error)) from None
    return pushed_as_they_are(cat, name)


def plan_deletions(cat: Catalog, listing: Listing, options: DeleteOptions) -> Plan:
    plan = Plan(listing_total=listing.total)
    wanted = wanted_ids(cat, options)
    pushed = pushed_to(cat, options.require_pushed) if options.require_pushed else None
    for row in deletion_candidates(cat):
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
    return plan


async def _prepare(session: Session, options: DeleteOptions) -> Plan:
    cat = session.cat
    async with session.connect() as api:
        username = await whose_token(api, cat, "delete" if options.yes else None)
        settled: Counter = Counter()
        # Settling writes the journal: only in a run that is sure to be real (--yes); one
        # that asks on the terminal settles once confirmed (run_delete), a dry run never.
        # Unsettled intents cannot mislead the plan: an item Flickr already lost is not in
        # the fresh listing, so it is not eligible.
        if options.yes and not cat.read_only:
            await settle_open_intents(api, Journal(cat, "delete"), settled)
        listing = await listed(api, session)
    plan = plan_deletions(cat, listing, options)
    plan.username, plan.settled = username, settled
    return plan


def _catalog_still_proves(cat: Catalog, item: dict) -> bool:
    """The catalog still holds the proof the plan was made on, for the same bytes and path."""
    now = proof_now(cat, item["id"])
    proved = (item["sha256"], item["size"], item["sha256"], item["size"], item["path"])
    return now is not None and (now["sha256"], now["size"], now["verified_sha256"], now["verified_size"],
                                now["path"]) == proved


def _file_still_proves(dest: Path, item: dict) -> bool:
    """The file, read link-free now, is a regular file of exactly the proved bytes."""
    try:
        found = read_proof(dest, item["path"])
    except OSError:  # gone, a link, a folder, unreadable (NotProvable too): not the verified file
        return False
    return (found.sha256, found.size) == (item["sha256"], item["size"])


async def _delete_one(dest: Path, api: Api, journal: Journal, item: dict) -> str:
    """One item: the last look at the local copy, right before Flickr's goes; then the
    delete, journaled."""
    if not (_catalog_still_proves(journal.cat, item) and await asyncio.to_thread(_file_still_proves, dest, item)):
        journal.cat.update(item["id"], verified_at=None, verified_sha256=None, verified_size=None,
                           verified_facts=None, reason="changed on disk after verify; kept on Flickr")
        return "changed_locally"
    return await journal.change(item["id"], lambda: _call_delete(api, item["id"]),
                                raw={"title": item["title"], "path": item["path"], "sha256": item["sha256"]})


async def _call_delete(api: Api, photo_id: str) -> tuple[str, str | None]:
    try:
        await api.call("flickr.photos.delete", photo_id=photo_id)
        return "deleted", None
    except FlickrError as error:
        if error.code != 1:
            return "refused", str(error)
        # "Not found" after an attempt whose answer was lost: that attempt did it.
        return ("deleted" if error.maybe_sent else "already_gone"), None


@recorded
def run_delete(options: DeleteOptions) -> tuple[int, dict]:
    with change_session(options, "delete-remote", dry_run=certain_dry_run(options.yes)) as session:
        plan = prepare(_prepare(session, options), "deleted")
        bytes_eligible = sum(i["size"] or 0 for i in plan.eligible)
        what = (f"{len(plan.eligible)} items ({bytes_eligible / 1e9:.2f} GB) would be deleted on Flickr; "
                "their files here stay.")
        done: Counter = Counter()
        dry_run = not plan.eligible or not confirmed(plan.username, what, options.yes)
        journal = Journal(session.cat, "delete")
        if not dry_run:
            # Confirmed on the terminal just now: the earlier run's intents are settled first.
            first = None if options.yes else (lambda api: settle_open_intents(api, journal, plan.settled))
            done = carry_out(session, "delete-remote", journal, "delete", "deleting", plan.eligible,
                             functools.partial(_delete_one, options.dest), first)
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
            "journal": journal.settled("deleted", "already_gone"),
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
