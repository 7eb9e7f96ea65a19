"""`exodus lockdown DEST`: out of the scrapers' reach without deleting anything. Every
public or Creative-Commons item becomes private and All Rights Reserved; `--undo` puts
back exactly what the journal says each item was before.

Journaled in `lockdowns` like deletions: the previous values before the calls (intent),
the result after. Both calls are idempotent, so an open intent is simply carried out
again with the values it recorded. Dry run unless --yes.
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
from ..flickr import Api, FlickrError
from ..flickr.connect import FlickrAccess
from ..dest import exit_code_for
from ..records import recorded

# Creative-Commons licenses and public-domain dedications (flickr.photos.licenses.getInfo).
OPEN_LICENSES = frozenset({1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16})
ALL_RIGHTS_RESERVED = 0


@dataclass
class LockdownOptions(FlickrAccess):
    dest: Path
    undo: bool = False
    yes: bool = False
    quiet: bool = False


@dataclass
class Step:
    photo_id: str
    before: dict        # is_public, is_friend, is_family, license
    after: dict
    entry: int | None = None  # an open journal row to carry out


@dataclass
class Plan:
    username: str = ""
    steps: list[Step] = field(default_factory=list)
    seen: int = 0
    without_backup: int = 0


def locked(before: dict) -> dict:
    return {"is_public": 0, "is_friend": before["is_friend"], "is_family": before["is_family"],
            "license": ALL_RIGHTS_RESERVED if before["license"] in OPEN_LICENSES else before["license"]}


def plan_lock(cat: Catalog, listing) -> Plan:
    plan = Plan(seen=len(listing.items))
    open_ids = set()
    for entry in Journal(cat, "lockdown", action="lock").open_intents():
        plan.steps.append(_carried_on(entry))
        open_ids.add(entry["photo_id"])
    for photo_id, seen in sorted(listing.items.items()):
        if photo_id in open_ids or not (seen.is_public or seen.license in OPEN_LICENSES):
            continue
        before = {"is_public": seen.is_public or 0, "is_friend": seen.is_friend or 0,
                  "is_family": seen.is_family or 0, "license": seen.license or 0}
        plan.steps.append(Step(photo_id, before, locked(before)))
    saved = proved_ids(cat)
    plan.without_backup = sum(1 for s in plan.steps if s.photo_id not in saved)
    return plan


def _carried_on(entry: dict) -> Step:
    """An open intent of an earlier run, to be carried out again as it was recorded."""
    return Step(entry["photo_id"], json.loads(entry["before"]), json.loads(entry["after"]), entry["id"])


def plan_undo(cat: Catalog) -> Plan:
    """Per item, the values from before its first lockdown not undone yet."""
    plan = Plan(steps=[_carried_on(entry) for entry in Journal(cat, "lockdown", action="undo").open_intents()])
    busy = {s.photo_id for s in plan.steps}
    for entry in locks_to_undo(cat):
        if entry["photo_id"] in busy:
            continue
        busy.add(entry["photo_id"])
        plan.steps.append(Step(entry["photo_id"], json.loads(entry["after"]), json.loads(entry["before"])))
    return plan


async def _prepare(session: Session, options: LockdownOptions) -> Plan:
    async with session.connect() as api:
        username = await whose_token(api, session.cat, "write" if options.yes else None)
        plan = plan_undo(session.cat) if options.undo else plan_lock(session.cat, await listed(api, session))
    plan.username = username
    return plan


async def _apply(api: Api, journal: Journal, step: Step) -> str:
    """One item's visibility and license set as planned, journaled."""
    return await journal.change(step.photo_id, lambda: _set(api, step), entry=step.entry,
                                before=step.before, after=step.after)


async def _set(api: Api, step: Step) -> tuple[str, str | None]:
    after = step.after
    try:
        if (after["is_public"], after["is_friend"], after["is_family"]) != \
                (step.before["is_public"], step.before["is_friend"], step.before["is_family"]):
            await api.call("flickr.photos.setPerms", photo_id=step.photo_id, is_public=after["is_public"],
                           is_friend=after["is_friend"], is_family=after["is_family"])
        if after["license"] != step.before["license"]:
            await api.call("flickr.photos.licenses.setLicense", photo_id=step.photo_id, license_id=after["license"])
        return "done", None
    except FlickrError as error:  # recorded; the next item goes on
        return ("gone" if error.code == 1 else "refused"), str(error)


@recorded
def run_lockdown(options: LockdownOptions) -> tuple[int, dict]:
    command = "lockdown-undo" if options.undo else "lockdown"
    with change_session(options, command, dry_run=certain_dry_run(options.yes)) as session:
        plan = prepare(_prepare(session, options), "changed")
        verb = "restored to what they were" if options.undo else "made private and All Rights Reserved"
        dry_run = not plan.steps or not confirmed(plan.username, f"{len(plan.steps)} items would be {verb}.",
                                                  options.yes)
        done: Counter = Counter()
        if not dry_run:
            journal = Journal(session.cat, "lockdown", action="undo" if options.undo else "lock")
            done = carry_out(session, command, journal, "write", "undoing" if options.undo else "locking down",
                             plan.steps, _apply)
        report = {
            "ok": not done["refused"], "dry_run": dry_run, "undo": options.undo, "account": plan.username,
            "counts": {"items": len(plan.steps), "changed": done["done"], "gone": done["gone"],
                       "refused": done["refused"], "listed": plan.seen,
                       "without_verified_backup": plan.without_backup},
            "sample": [{"id": s.photo_id, "before": s.before, "after": s.after} for s in plan.steps[:10]],
        }
        return exit_code_for(not report["ok"]), report


def render(report: dict) -> str:
    c = report["counts"]
    what = "restored to their earlier visibility and license" if report["undo"] else \
        "public or Creative-Commons: to be made private and All Rights Reserved"
    lines = [f"{report['account']}: {c['items']} items {what}."]
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
