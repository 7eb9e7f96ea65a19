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

from ..knobs import crash_point
from ..catalog import Catalog
from ..catalog.store import dumps, has_file, now_iso
from .common import carry_out, certain_dry_run, change_session, confirmed, prepare, token_allows
from ..flickr import Credentials, FlickrError
from ..flickr import parse
from ..flickr.connect import connect
from ..flickr.listing import list_account
from ..flickr.quota import DEFAULT_RATE
from ..dest import check_same_account, exit_code_for
from ..progress import Progress
from ..records import recorded

# Creative-Commons licenses and public-domain dedications (flickr.photos.licenses.getInfo).
OPEN_LICENSES = frozenset({1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16})
ALL_RIGHTS_RESERVED = 0


@dataclass
class LockdownOptions:
    dest: Path
    undo: bool = False
    yes: bool = False
    quiet: bool = False
    api_rate: tuple[int, float] = DEFAULT_RATE
    api_base: str | None = None
    creds: Credentials | None = None


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
    for entry in cat.rows("SELECT id, photo_id, before, after FROM lockdowns WHERE action = 'lock' "
                          "AND result IS NULL ORDER BY id"):
        plan.steps.append(Step(entry["photo_id"], json.loads(entry["before"]), json.loads(entry["after"]),
                               entry["id"]))
        open_ids.add(entry["photo_id"])
    for photo_id, seen in sorted(listing.items.items()):
        if photo_id in open_ids or not (seen.is_public or seen.license in OPEN_LICENSES):
            continue
        before = {"is_public": seen.is_public or 0, "is_friend": seen.is_friend or 0,
                  "is_family": seen.is_family or 0, "license": seen.license or 0}
        plan.steps.append(Step(photo_id, before, locked(before)))
    saved = {r["id"] for r in cat.rows(f"SELECT id FROM photos WHERE {has_file()} AND verified_sha256 = sha256")}
    plan.without_backup = sum(1 for s in plan.steps if s.photo_id not in saved)
    return plan


def plan_undo(cat: Catalog) -> Plan:
    """Per item, the values from before its first lockdown not undone yet."""
    plan = Plan()
    for entry in cat.rows("SELECT id, photo_id, before, after FROM lockdowns WHERE action = 'undo' "
                          "AND result IS NULL ORDER BY id"):
        plan.steps.append(Step(entry["photo_id"], json.loads(entry["before"]), json.loads(entry["after"]),
                               entry["id"]))
    busy = {s.photo_id for s in plan.steps}
    for entry in cat.rows("SELECT photo_id, after, before FROM lockdowns WHERE action = 'lock' AND result = 'done' "
                          "AND undone = 0 ORDER BY id"):
        if entry["photo_id"] in busy:
            continue
        busy.add(entry["photo_id"])
        plan.steps.append(Step(entry["photo_id"], json.loads(entry["after"]), json.loads(entry["before"])))
    return plan


async def _prepare(cat: Catalog, options: LockdownOptions, creds: Credentials, progress: Progress) -> Plan:
    async with connect(creds, options.api_base, options.api_rate, progress.note) as api:
        login = parse.login(await api.call("flickr.test.login"))
        check_same_account(cat, login)
        if options.yes:
            await token_allows(api, "write")
        if options.undo:
            plan = plan_undo(cat)
        else:
            bar = progress.bar("listing Flickr", unit="page")
            try:
                plan = plan_lock(cat, await list_account(api, bar))
            finally:
                bar.close()
    plan.username = login["username"]
    return plan


async def _apply(cat: Catalog, plan: Plan, options: LockdownOptions, creds: Credentials, progress: Progress,
                 run_id: int) -> Counter:
    action = "undo" if options.undo else "lock"
    done: Counter = Counter()
    bar = progress.bar("undoing" if options.undo else "locking down", total=len(plan.steps), unit="item")
    try:
        async with connect(creds, options.api_base, options.api_rate, progress.note) as api:
            await token_allows(api, "write")
            for step in plan.steps:
                entry = step.entry
                if entry is None:
                    with cat.tx() as conn:
                        entry = conn.execute(
                            "INSERT INTO lockdowns (photo_id, run_id, action, before, after, intent_at) "
                            "VALUES (?, ?, ?, ?, ?, ?)", (step.photo_id, run_id, action, dumps(step.before),
                                                          dumps(step.after), now_iso())).lastrowid
                crash_point("lockdown-intent")
                after = step.after
                try:
                    if (after["is_public"], after["is_friend"], after["is_family"]) != \
                            (step.before["is_public"], step.before["is_friend"], step.before["is_family"]):
                        await api.call("flickr.photos.setPerms", photo_id=step.photo_id,
                                       is_public=after["is_public"], is_friend=after["is_friend"],
                                       is_family=after["is_family"])
                    if after["license"] != step.before["license"]:
                        await api.call("flickr.photos.licenses.setLicense", photo_id=step.photo_id,
                                       license_id=after["license"])
                    result, detail = "done", None
                except FlickrError as error:  # recorded; the next item goes on
                    result, detail = ("gone" if error.code == 1 else "refused"), str(error)
                crash_point("lockdown-call")
                with cat.tx() as conn:
                    conn.execute("UPDATE lockdowns SET result = ?, result_at = ?, detail = ? WHERE id = ?",
                                 (result, now_iso(), detail, entry))
                    if action == "undo" and result in ("done", "gone"):
                        conn.execute("UPDATE lockdowns SET undone = 1 WHERE photo_id = ? AND action = 'lock' "
                                     "AND result = 'done'", (step.photo_id,))
                done[result] += 1
                bar.update(1)
    finally:
        bar.close()
    return done


@recorded
def run_lockdown(options: LockdownOptions) -> tuple[int, dict]:
    command = "lockdown-undo" if options.undo else "lockdown"
    with change_session(options.dest, options.creds, options.quiet, command,
                        dry_run=certain_dry_run(options.yes), api_base=options.api_base) as (cat, creds, progress):
        plan = prepare(_prepare(cat, options, creds, progress), "changed")
        verb = "restored to what they were" if options.undo else "made private and All Rights Reserved"
        dry_run = not plan.steps or not confirmed(plan.username, f"{len(plan.steps)} items would be {verb}.",
                                                  options.yes)
        done: Counter = Counter()
        if not dry_run:
            done = carry_out(cat, command, lambda run_id: _apply(cat, plan, options, creds, progress, run_id),
                             progress)
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
