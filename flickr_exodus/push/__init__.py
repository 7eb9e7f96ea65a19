"""`exodus push DEST TARGET`: the backup to its new home, idempotently. A file store gets
the tree as it is (mirror.py); a photo library gets the items as assets with their
metadata, albums and tags (library.py). Both record each upload in `pushes` only once it
is checked, so a rerun sends only what is new or changed."""

from __future__ import annotations

import asyncio
import time

from ..dest import UsageProblem, exit_code_for, open_backup
from ..records import recorded
from ..targets import LibraryTarget, TargetProblem, open_target
from .common import PushOptions

COUNTS = ("sent", "bytes", "unchanged", "failed", "changed_on_disk", "would_send", "would_send_bytes")
LIBRARY_COUNTS = ("described", "albums", "tags", "trashed")


@recorded
def run_push(options: PushOptions) -> tuple[int, dict]:
    try:
        target = open_target(options.target)
    except TargetProblem as error:
        raise UsageProblem(str(error)) from None
    library = isinstance(target, LibraryTarget)
    if library:  # imported for their kind only: a push of small files feels every 0.1 s
        from .library import LibraryPush as Job
    else:
        from .mirror import MirrorPush as Job
    with open_backup(options.dest, options.quiet, "push") as (cat, progress):
        job = Job(cat, target, options, progress)
        started = time.monotonic()
        try:
            asyncio.run(job.run())
        except TargetProblem as error:
            raise UsageProblem(f"{error}; nothing more was recorded as pushed") from None
        counts = job.counts
        report = {"ok": not job.failed, "target": target.name, "dry_run": options.dry_run,
                  "counts": {k: counts[k] for k in COUNTS + (LIBRARY_COUNTS if library else ())},
                  # files (albums and tags of libraries have rows without a size)
                  "pushed_in_all": cat.count_pushed_files(target.name),
                  "seconds": round(time.monotonic() - started, 2), "failed": job.failed[:1000]}
        return exit_code_for(not report["ok"]), report


def render(report: dict) -> str:
    c = report["counts"]
    if report["dry_run"]:
        return (f"{report['target']}: would send {c['would_send']} files ({c['would_send_bytes'] / 1e6:.1f} MB); "
                f"{c['unchanged']} already there. Dry run: nothing was sent.")
    lines = [f"{report['target']}: sent {c['sent']} files ({c['bytes'] / 1e6:.1f} MB), {c['unchanged']} already "
             f"there and unchanged, {c['failed']} failed; {report['pushed_in_all']} recorded there in all."]
    if "albums" in c:
        lines.append(f"  metadata set on {c['described']} assets; {c['albums']} albums and {c['tags']} tags "
                     "brought up to date.")
        if c["trashed"]:
            lines.append(f"  {c['trashed']} items are in Immich's trash and were left there: restore them in "
                         "Immich and push again to have them back.")
    lines += [f"  {f['key']}: {f['reason']}" for f in report["failed"][:20]]
    return "\n".join(lines)
