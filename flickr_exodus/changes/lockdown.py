"""`exodus lockdown DEST`: out of the scrapers' reach without deleting anything. Every
public or Creative-Commons item (or, with `--ids FILE`, exactly the items listed) becomes
private and All Rights Reserved, with its location hidden from everyone but its owner;
`--tag-no-cv` also tags it no_cv (FFHQ's documented opt-out). `--undo` puts back exactly
what the journal says each item was before, and removes only the no_cv tags it added.

Journaled in `lockdowns` like deletions: the previous values before the calls (intent),
the result after (with the id Flickr gave an added tag). The calls are idempotent
(lock_calls.py), so an open intent is simply carried out again with the values it
recorded. Dry run unless --yes.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import Catalog
from ..catalog.journal import locks_to_undo, proved_ids
from .common import (
    Session, carry_out, certain_dry_run, change_session, confirmed, listed, prepare, whose_token,
)
from .journal import Journal
from .lock_calls import NO_CV, put
from .selection import at_risk, read_ids
from ..flickr import Api
from ..flickr.connect import FlickrAccess
from ..flickr.listing import EXPOSURE_EXTRAS, GEO_FLAGS, Seen
from ..dest import UsageProblem, exit_code_for
from ..records import recorded

# Creative-Commons licenses and public-domain dedications (flickr.photos.licenses.getInfo).
OPEN_LICENSES = frozenset({1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16})
ALL_RIGHTS_RESERVED = 0


@dataclass
class LockdownOptions(FlickrAccess):
    dest: Path
    undo: bool = False
    yes: bool = False
    ids_file: Path | None = None  # --ids FILE: read (and checked against the catalog) into `ids`
    ids: frozenset[str] | None = None  # the selection; None: every public or Creative-Commons item
    risk: str | None = None  # --risk LEVEL: what the last audit ranked there or above
    tag_no_cv: bool = False
    quiet: bool = False


@dataclass
class Step:
    photo_id: str
    before: dict        # lock_calls.py's values
    after: dict
    entry: int | None = None  # an open journal row to carry out
    tag_id: str | None = None  # an undo's: the no_cv its lock added


@dataclass
class Plan:
    username: str = ""
    steps: list[Step] = field(default_factory=list)
    seen: int = 0
    without_backup: int = 0
    already: int = 0  # selected by --ids, and nothing about them to change
    not_on_flickr: int = 0  # selected by --ids, and not in the fresh listing


def exposure(seen: Seen) -> dict:
    """An item's values as the fresh listing shows them."""
    return {"is_public": seen.is_public or 0, "is_friend": seen.is_friend or 0, "is_family": seen.is_family or 0,
            "license": seen.license or 0, "geo": seen.geo, "no_cv": NO_CV in seen.tags}


def locked(before: dict, every_license: bool = False, tag: bool = False) -> dict:
    """Private (friends and family keep what they had), All Rights Reserved (every license when
    the items were named one by one, else the open ones), the location seen by nobody else."""
    license_id = before["license"]
    return {"is_public": 0, "is_friend": before["is_friend"], "is_family": before["is_family"],
            "license": ALL_RIGHTS_RESERVED if every_license or license_id in OPEN_LICENSES else license_id,
            "geo": None if before["geo"] is None else dict.fromkeys(GEO_FLAGS, 0),
            "no_cv": before["no_cv"] or tag}


def plan_lock(cat: Catalog, listing, ids: frozenset[str] | None = None, tag: bool = False) -> Plan:
    plan = Plan(seen=len(listing.items))
    open_ids = set()
    for entry in Journal(cat, "lockdown", action="lock").open_intents():
        plan.steps.append(_carried_on(entry))
        open_ids.add(entry["photo_id"])
    for photo_id, seen in sorted(listing.items.items()):
        if photo_id in open_ids:
            continue
        if ids is None and not (seen.is_public or seen.license in OPEN_LICENSES):
            continue
        if ids is not None and photo_id not in ids:
            continue
        before = exposure(seen)
        after = locked(before, every_license=ids is not None, tag=tag)
        if after == before:
            plan.already += 1
        else:
            plan.steps.append(Step(photo_id, before, after))
    if ids is not None:
        plan.not_on_flickr = len(ids - listing.items.keys() - open_ids)
    saved = proved_ids(cat)
    plan.without_backup = sum(1 for s in plan.steps if s.photo_id not in saved)
    return plan


def _carried_on(entry: dict) -> Step:
    """An open intent of an earlier run, to be carried out again as it was recorded."""
    return Step(entry["photo_id"], json.loads(entry["before"]), json.loads(entry["after"]), entry["id"],
                entry.get("tag_id"))


def _undoing(photo_id: str, locks: list[dict]) -> Step:
    """An item's locks not undone yet (oldest first) undone at once: back to each value as
    the first lock that recorded it found it, from what the last one left; the no_cv is
    removed by the id Flickr gave it when a lock added it."""
    was, now, tag_id = {}, {}, None
    for lock in locks:
        before, after = json.loads(lock["before"]), json.loads(lock["after"])
        for key, value in before.items():
            was.setdefault(key, value)
        now.update(after)
        if after.get("no_cv") and before.get("no_cv") is False:
            tag_id = lock["tag_id"]
    return Step(photo_id, now, was, tag_id=tag_id)


def plan_undo(cat: Catalog, ids: frozenset[str] | None = None) -> Plan:
    """Per item (of `ids` when given), the values from before its first lockdown not undone yet."""
    plan = Plan(steps=[_carried_on(entry) for entry in Journal(cat, "lockdown", action="undo").open_intents()])
    busy = {s.photo_id for s in plan.steps}
    locks: dict[str, list[dict]] = {}
    for entry in locks_to_undo(cat):
        if entry["photo_id"] not in busy and (ids is None or entry["photo_id"] in ids):
            locks.setdefault(entry["photo_id"], []).append(entry)
    plan.steps += [_undoing(photo_id, rows) for photo_id, rows in locks.items()]
    return plan


def selection(cat: Catalog, options: LockdownOptions) -> frozenset[str] | None:
    """The items asked for: --ids FILE (every id one of this backup's), --risk LEVEL (what the
    last audit ranked there or above), the ids the caller set; those in all that are given,
    or None for every public or Creative-Commons item."""
    chosen = options.ids
    for asked in ([read_ids(cat, options.ids_file)] if options.ids_file is not None else []) + \
                 ([at_risk(cat, options.risk)] if options.risk is not None else []):
        chosen = asked if chosen is None else chosen & asked
    return chosen


async def _prepare(session: Session, options: LockdownOptions, ids: frozenset[str] | None) -> Plan:
    async with session.connect() as api:
        username = await whose_token(api, session.cat, "write" if options.yes else None)
        if options.undo:
            plan = plan_undo(session.cat, ids)
        else:
            plan = plan_lock(session.cat, await listed(api, session, EXPOSURE_EXTRAS), ids, options.tag_no_cv)
    plan.username = username
    return plan


async def _apply(api: Api, journal: Journal, step: Step) -> str:
    """One item's values set as planned, journaled."""
    values = {"before": step.before, "after": step.after}
    if step.entry is None and step.tag_id:
        values["tag_id"] = step.tag_id  # an undo's intent names the tag it removes
    return await journal.change(step.photo_id, lambda: put(api, step.photo_id, step.before, step.after, step.tag_id),
                                entry=step.entry, **values)


def _what(options: LockdownOptions) -> str:
    if options.undo:
        return "restored to what they were"
    return "made private, All Rights Reserved, location hidden" + (", tagged no_cv" if options.tag_no_cv else "")


@recorded
def run_lockdown(options: LockdownOptions) -> tuple[int, dict]:
    if options.undo and options.tag_no_cv:
        raise UsageProblem("--tag-no-cv adds the tag; --undo removes every no_cv a lockdown added (and no other): "
                           "give one of them")
    command = "lockdown-undo" if options.undo else "lockdown"
    with change_session(options, command, dry_run=certain_dry_run(options.yes)) as session:
        ids = selection(session.cat, options)
        plan = prepare(_prepare(session, options, ids), "changed")
        dry_run = not plan.steps or not confirmed(plan.username, f"{len(plan.steps)} items would be "
                                                  f"{_what(options)}.", options.yes)
        done: Counter = Counter()
        if not dry_run:
            journal = Journal(session.cat, "lockdown", action="undo" if options.undo else "lock")
            done = carry_out(session, command, journal, "write", "undoing" if options.undo else "locking down",
                             plan.steps, _apply)
        report = {
            "ok": not done["refused"], "dry_run": dry_run, "undo": options.undo, "account": plan.username,
            "selection": "ids" if ids is not None else "public_or_cc", "tag_no_cv": options.tag_no_cv,
            "counts": {"items": len(plan.steps), "changed": done["done"], "gone": done["gone"],
                       "refused": done["refused"], "listed": plan.seen,
                       "without_verified_backup": plan.without_backup, "selected": None if ids is None else len(ids),
                       "already_locked": plan.already, "not_on_flickr": plan.not_on_flickr},
            "sample": [{"id": s.photo_id, "before": s.before, "after": s.after} for s in plan.steps[:10]],
        }
        return exit_code_for(not report["ok"]), report


def render(report: dict) -> str:
    c = report["counts"]
    if report["undo"]:
        what = "restored to their earlier visibility, license and location settings (no_cv tags added removed)"
    else:
        what = ("public or Creative-Commons: " if report["selection"] != "ids" else
                f"of the {c['selected']} listed: ") + "to be made private, All Rights Reserved, location hidden" + \
            (", tagged no_cv" if report["tag_no_cv"] else "")
    lines = [f"{report['account']}: {c['items']} items {what}."]
    if c["already_locked"]:
        lines.append(f"  {c['already_locked']} listed items are that way already.")
    if c["not_on_flickr"]:
        lines.append(f"  {c['not_on_flickr']} listed items are not on Flickr any more (nothing to change).")
    if not report["undo"] and c["without_verified_backup"]:
        lines.append(f"  {c['without_verified_backup']} of them have no verified backup here (lockdown deletes "
                     "nothing, so that is safe; 'exodus backup' and 'exodus verify' would fix it).")
    if report["dry_run"]:
        if c["items"]:
            lines.append("Dry run: nothing was changed. Add --yes to go ahead (or confirm on a terminal).")
    else:
        lines.append(f"Changed {c['changed']}; gone from Flickr {c['gone']}; refused {c['refused']}. "
                     + ("'exodus lockdown --undo' puts everything back." if not report["undo"] else ""))
    return "\n".join(lines)
