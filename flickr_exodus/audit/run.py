"""`exodus audit DEST`: which photos expose people, which a dataset already holds, ranked.

Reads the backup (no call to Flickr): the catalog's account of each item, its original's
EXIF and (with the faces extra) the faces in it, and the published dataset lists given
with --dataset. Writes only its own tables in the catalog (face_cache, audit), and with
--html the contact sheet, under DEST's lock like every command that writes the catalog.
A dataset list or an original that cannot be read is one line each; the rest goes on,
and the run ends with exit 1.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog.audits import TAG_SEPARATOR
from ..dest import exit_code_for, open_backup
from ..flickr import ids
from ..layout import paths, tree
from ..progress import plural
from ..records import recorded
from . import datasets, face_pass, gps, risk, signals, words

log = logging.getLogger("exodus")


@dataclass
class AuditOptions:
    dest: Path
    faces: bool | None = None          # None: when detection can run here
    datasets: tuple[Path, ...] = ()
    words: Path | None = None          # replaces the package's list of words about people
    html: bool = False
    quiet: bool = False


@dataclass
class Survey:
    """The first pass over the catalog: what the lists and the face detector are asked about."""
    items: int = 0
    photo_ids: set[str] = field(default_factory=set)
    pictures: dict[str, Path] = field(default_factory=dict)  # sha256 -> its original, confined to DEST
    problems: list[str] = field(default_factory=list)


@recorded
def run_audit(options: AuditOptions) -> tuple[int, dict]:
    people_words = words.load(options.words)  # a bad list stops the run before DEST is touched
    module, note = face_pass.detector(options.faces)
    with open_backup(options.dest, options.quiet, "audit", changes=True) as (cat, progress):
        account = cat.get("account") or {}
        survey = _survey(cat, options.dest)
        found = _match(options.datasets, survey.photo_ids, account, progress)
        faces = face_pass.find(module, note, cat, survey.pictures, progress)
        problems = survey.problems + [str(p) for p in found.problems] + faces.problems
        items = _weigh(cat, account, people_words, found, faces, survey, problems, progress)
        cat.replace_audit((i["id"], i["risk"], i["reasons"], i["faces"]) for i in items)
        _own_listings(found, survey.photo_ids)
        report = {
            "ok": not problems, "dest": str(options.dest), "faces_checked": faces.checked, "faces_note": faces.note,
            "detector": faces.detector,
            "datasets": [{"file": r.file, "dataset": r.dataset, "compression": r.compression, "rows": r.rows}
                         for r in found.files],
            "problems": problems, "counts": _counts(items), "items": items, "html": None,
        }
        if options.html:
            report["html"] = _sheet(options.dest, report, problems)
    report["ok"] = not problems
    return exit_code_for(bool(problems)), report


def _counts(items: list[dict]) -> dict[str, int]:
    counts = dict.fromkeys(risk.LEVELS, 0)
    for item in items:
        counts[item["risk"]] += 1
    return counts


def _survey(cat, dest: Path) -> Survey:
    survey = Survey()
    for row in cat.audit_items():
        survey.items += 1
        if ids.is_photo_id(row["id"]):  # a catalog's id is hostile until checked, as any input
            survey.photo_ids.add(row["id"])
        if not row["saved"] or row["media"] == "video" or row["sha256"] in survey.pictures:
            continue
        try:
            survey.pictures[row["sha256"]] = paths.inside(dest, row["path"], mkdir=False)
        except paths.OutsideDest as error:
            survey.problems.append(f"item {ids.shown(row['id'])}: {error}; its original was not read")
    return survey


def _match(files: tuple[Path, ...], photo_ids: set[str], account: dict, progress) -> datasets.Matches:
    """The lists read with one progress bar, in bytes of the files as they are on disk."""
    nsid, alias = account.get("nsid"), account.get("path_alias")
    total, seen = 0, {}
    for path in files:
        try:
            total += os.stat(path).st_size
        except OSError:
            pass  # said by match(), in its turn
    bar = progress.bar("dataset lists", total=total, bytes=True) if files else None

    def tell(path: Path, done: int, size: int) -> None:
        bar.update(done - seen.get(path, 0))
        seen[path] = done

    try:
        return datasets.match(files, photo_ids, {nsid} if ids.is_nsid(nsid) else set(), tell,
                              [alias] if ids.is_path_alias(alias) else [])
    finally:
        if bar is not None:
            bar.close()


def _weigh(cat, account: dict, people_words: words.Words, found: datasets.Matches, faces: face_pass.Faces,
           survey: Survey, problems: list[str], progress) -> list[dict]:
    """Every item with its reasons and level, the riskiest first."""
    owner = {"owner": account.get("nsid"), "path_alias": account.get("path_alias")}
    bar = progress.bar("items", total=survey.items, unit="item")
    items = []
    try:
        for row in cat.audit_items():
            reasons = signals.flickr_reasons(row, people_words.found(
                row["title"], row["description"], (row["tags"] or "").split(TAG_SEPARATOR)))
            if row["id"] in found.photos:
                reasons.append(signals.dataset_reason(found.photos[row["id"]]))
            seen = _original(row, survey.pictures, faces, reasons, problems)
            reasons.sort(key=lambda r: risk.ORDER.index(r["code"]))
            width, height, boxes = seen or (None, None, None)
            items.append({"id": row["id"], "title": row["title"], "media": row["media"],
                          "risk": risk.level({r["code"] for r in reasons}), "reasons": reasons, "faces": boxes,
                          "width": width, "height": height, "path": row["path"] if row["saved"] else None,
                          "url": tree.photo_page(owner, row["id"])})
            bar.update(1)
    finally:
        bar.close()
    items.sort(key=lambda i: (risk.LEVELS.index(i["risk"]), -len(i["reasons"]), i["id"]))
    return items


def _original(row: dict, pictures: dict[str, Path], faces: face_pass.Faces, reasons: list[dict],
              problems: list[str]) -> tuple | None:
    """What the item's original says (GPS in its EXIF, faces), added to its reasons; the
    faces found ((width, height, boxes)), or None when none were looked for."""
    where = pictures.get(row["sha256"]) if row["saved"] and row["media"] != "video" else None
    if where is None:
        return None
    try:
        located = gps.location(where)
    except gps.Unreadable as why:
        problems.append(f"{row['path']} (item {row['id']}): {why}; its EXIF and faces were not checked")
        return None
    if located is not None:
        reasons.append(signals.exif_reason(row, located))
    seen = faces.found.get(row["sha256"])
    if seen is None or seen[0] is None:
        return None
    if reason := signals.faces_reason(seen[1], seen[2]):
        reasons.append(reason)
    return seen


def _own_listings(found: datasets.Matches, photo_ids: set[str]) -> None:
    """What the lists say of the account beyond its items in this backup: kept in the log."""
    for account, listings in sorted(found.accounts.items()):
        log.info("the account %s is named in %s", account, ", ".join(sorted({f"{x.dataset} ({x.file})"
                                                                             for x in listings})))
    elsewhere = sorted(set(found.photos) - photo_ids)
    if elsewhere:
        log.info("%s of the account in the lists are not in this backup: %s", plural(len(elsewhere), "photo"),
                 " ".join(elsewhere[:50]))


def _sheet(dest: Path, report: dict, problems: list[str]) -> str | None:
    """DEST/audit.html (imported here: the pages' machinery only when asked for); a report the
    sheet refuses to show (values a hostile catalog gave) is one problem line, not a traceback."""
    from . import sheet

    try:
        return str(sheet.write(dest, report))
    except ValueError as error:
        problems.append(f"--html: {error}; DEST/audit.html was not written")
        return None


def render(report: dict, shown: int = 10) -> str:
    """The terminal's summary: counts per level, the reasons met most, the riskiest items."""
    items = report["items"]
    note = report["faces_note"] or ""
    lines = [f"{report['dest']}: {plural(len(items), 'item')} audited; "
             + (f"faces checked: {note}" if report["faces_checked"] else note)]
    width = max(len(str(n)) for n in report["counts"].values())
    lines += [f"  {level:<7} {report['counts'][level]:>{width}}" for level in risk.LEVELS]
    met = Counter(r["code"] for i in items for r in i["reasons"] if r["code"] != risk.PRIVATE)
    if met:
        lines.append("Reasons met most: " + ", ".join(f"{code} {n}" for code, n in met.most_common(6)))
    riskiest = [i for i in items if i["risk"] in ("exposed", "high")]
    if riskiest:
        lines.append("Riskiest:")
        lines += [f"  {i['risk']:<7} {i['id']} {(i['title'] or '')[:40]!r}: "
                  + ", ".join(r["code"] for r in i["reasons"]) for i in riskiest[:shown]]
        if len(riskiest) > shown:
            lines.append(f"  ... and {len(riskiest) - shown} more ('exodus audit --json' lists every item)")
    lines += [f"Dataset list {d['file']}: {d['dataset']} ({d['compression']}), {plural(d['rows'], 'row')} read"
              for d in report["datasets"] if d["dataset"]]
    lines += [f"problem: {line}" for line in report["problems"]]
    if report["html"]:
        lines.append(f"Contact sheet: {report['html']}")
    return "\n".join(lines)
