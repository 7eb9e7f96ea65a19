"""Scale: a synthetic 1,000,000-item backup (catalog and files), and how the commands fare.

    .venv/bin/python benchmarks/scale.py [--items 1000000] [--listing 100000] [--keep DIR]

- builds DEST with the real catalog schema: the items (3% videos), 2,000 albums, one tag
  each, comments on a fifth; a tiny real PNG or MP4 and its sidecar per item on disk
  (--keep DIR builds it there, or reuses the one of the same size built there before);
- times `exodus verify --fast` on it cold (the page cache dropped, where this user may drop
  it; else the first run after building, and the results say so) and warm (three runs
  after the first; the median counts), and `exodus status` warm;
- records every SQL statement those commands run (EXODUS_TRACE_SQL, in runs of their own
  after the timed ones) and asks SQLite for each one's plan on the 1,000,000-row catalog:
  a statement that scans a whole table without an index is named, unless it says it is a
  pass over every row (the SQL comment /* every row */ in catalog/); a statement that
  cannot be planned is named too;
- measures the listing ingest rate: `exodus backup` of a --listing-item sandbox at full
  speed, from start to the first download (listing, albums and collections recorded).

Every figure is judged against its bound (BOUNDS: the bound, what was measured, met);
a figure without a bound, a bound without its figure, or one missed fails the run (exit 1).
Writes benchmarks/results/scale.json (scenario "scale", with its run: date, commit, machine).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

from backup import EXODUS, exodus_env, start_sandbox
import common
from common import bound, judge, run_stamp, save_scenario

RESULTS = Path(__file__).parent / "results" / "scale.json"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from flickr_exodus.catalog import Catalog  # noqa: E402  (the real schema, made by the real code)
from flickr_exodus.sandbox import media  # noqa: E402

BOUNDS = [
    bound("status, warm, seconds", "status_warm_seconds", "<=", 3.0,
          "exodus status answers interactively at a million items (issue 18)"),
    bound("verify --fast, warm, items/s", "verify_fast_warm_items_per_s", ">=", 10_000,
          "verify --fast at a million items, warm (issue 18)"),
    bound("verify --fast, cold, items/s", "verify_fast_cold_items_per_s", ">=", 2_000,
          "cold: three times the 664 items/s measured before issue 18"),
    bound("listing ingest, items/s", "ingest_items_per_s", ">=", 500,
          "the catalog keeps up with a listing at Flickr's 3,600 calls/h of 500 items (500 items/s)"),
]
WARM_RUNS = 3
RUNS: list[dict] = []  # every timed command: seconds, CPU seconds, the machine's load
DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00")
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


# A whole movie (ftyp, moov, mdat), as the sandbox makes them: verify's box check passes it.
MP4 = media.video("mp4", 1000, 2, 16, 16, seed=1, base=2).bytes()


def build(dest: Path, items: int) -> float:
    started = time.monotonic()
    dest.mkdir(parents=True)
    Catalog.open(dest).close()  # the schema, as exodus makes it
    blobs = {"photo": png(), "video": MP4}
    digests = {k: hashlib.sha256(v).hexdigest() for k, v in blobs.items()}
    conn = sqlite3.connect(dest / "catalog.db")
    conn.execute("PRAGMA journal_mode=WAL")
    albums = 2000
    conn.executemany("INSERT INTO albums (id, title, description, count_photos, gone) VALUES (?, ?, '', ?, 0)",
                     [(str(72157600000000000 + a), f"Album {a}", items // albums) for a in range(albums)])
    made: set[str] = set()
    batch = 10_000
    for start in range(0, items, batch):
        photos, links, tags, comments = [], [], [], []
        for n in range(start, min(items, start + batch)):
            pid = str(50_000_000_000 + n * 7)
            media = "video" if n % 33 == 0 else "photo"
            day = f"{2004 + n % 20}/{1 + n % 12:02d}/{1 + n % 28:02d}"
            path = f"photos/{day}/{pid}_item.{'mp4' if media == 'video' else 'png'}"
            folder = dest / path.rsplit("/", 1)[0]
            if str(folder) not in made:
                folder.mkdir(parents=True, exist_ok=True)
                made.add(str(folder))
            (dest / path).write_bytes(blobs[media])
            (dest / (path + ".json")).write_text(json.dumps({"exodus_sidecar": 2, "id": pid}))
            photos.append((pid, media, f"Item {n}", f"{day.replace('/', '-')} 12:00:00", path, len(blobs[media]),
                           digests[media], "png" if media == "photo" else "mp4", 1, 1, 1, 1, len(blobs[media])))
            links.append((str(72157600000000000 + n % albums), pid, n // albums))
            tags.append((pid, f"tag{n % 500}", 0, json.dumps(f"tag{n % 500}")))
            if n % 5 == 0:
                comments.append((f"c{pid}", pid, "12345@N01", "A comment"))
        conn.executemany("INSERT INTO photos (id, media, title, date_taken, path, size, sha256, original_format, "
                         "state, listed_pass, deep_done, o_width, o_height, expected_size, sidecar_dirty, "
                         "attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'downloaded', ?, ?, ?, ?, ?, 0, 0)", photos)
        conn.executemany("INSERT INTO album_photos (album_id, photo_id, position) VALUES (?, ?, ?)", links)
        conn.executemany("INSERT INTO tags (photo_id, tag, machine, raw) VALUES (?, ?, ?, ?)", tags)
        conn.executemany("INSERT INTO comments (id, photo_id, author, text) VALUES (?, ?, ?, ?)", comments)
        conn.commit()
    for key, value in (("account", {"nsid": "12345678@N00", "username": "scale"}),
                       ("listing", {"done": True, "complete": True, "pass": 1})):
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                     "value = excluded.value", [key, json.dumps(value)])
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.monotonic() - started


def timed(command: list[str], env: dict) -> tuple[float, int, str]:
    """(seconds, exit code, stdout) of one command; its CPU seconds (user and system) and the
    machine's load when it started go to RUNS, since a busy machine stretches the seconds
    and not the CPU."""
    run = common.timed(command, env)
    words = [c for c in command[3:] if c.startswith("-") or c.isalpha()]  # not the paths
    RUNS.append({"command": " ".join(words), "seconds": round(run.seconds, 1),
                 "cpu_seconds": round(run.cpu_seconds, 1), "load_at_start": round(run.load_at_start, 1)})
    return run.seconds, run.code, run.out


def drop_caches() -> bool:
    """Empty the page cache (and dentries, inodes) so that the next run reads the disk;
    False where this user may not."""
    os.sync()
    try:
        DROP_CACHES.write_text("3\n")
    except OSError:
        return False
    return True


LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
EVERY_ROW = "/* every row */"  # marks a pass over every row made on purpose (catalog/queries.py)
# SQLite's and sqlite_utils' own reads of the schema, not exodus's statements.
SCHEMA_READS = re.compile(r"from sqlite_master|^pragma ", re.I)


def plans(dest: Path, trace: Path) -> dict:
    """Each distinct statement (literals aside) and whether a table is scanned without an
    index; statements that cannot be planned are named, not skipped."""
    statements: dict[str, str] = {}
    temporary = set()  # the temporary tables the commands made, made again here to plan against
    for line in trace.read_text(encoding="utf-8").splitlines():
        if line.split(" ", 1)[0].upper() in ("SELECT", "UPDATE", "DELETE", "WITH"):
            statements.setdefault(LITERALS.sub("?", line), line)
        elif line.upper().startswith("CREATE TEMP TABLE"):
            temporary.add(line)
    conn = sqlite3.connect(f"file:{dest / 'catalog.db'}?mode=ro", uri=True)
    for statement in temporary:
        conn.execute(statement)
    unindexed, unplanned, passes, checked = [], [], 0, 0
    for shape, example in statements.items():
        if SCHEMA_READS.search(shape):
            continue
        try:
            rows = conn.execute(f"EXPLAIN QUERY PLAN {example}").fetchall()
        except sqlite3.Error as error:
            unplanned.append({"statement": shape[:300], "error": str(error)})
            continue
        checked += 1
        scans = [r[3] for r in rows if r[3].startswith("SCAN ") and "USING" not in r[3]
                 and not r[3].startswith(("SCAN CONSTANT", "SCAN json_each"))]
        if scans and EVERY_ROW in shape:
            passes += 1
        elif scans:
            unindexed.append({"statement": shape[:300], "plan": scans})
    conn.close()
    return {"statements_checked": checked, "whole_passes": passes, "unindexed": unindexed, "unplanned": unplanned}


def verify_fast(dest: Path, env: dict, items: int) -> float:
    """Seconds of one `exodus verify --fast`; it must have checked every item and found them whole."""
    seconds, code, out = timed([*EXODUS, "verify", str(dest), "--fast", "--json"], env)
    counts = json.loads(out)["counts"] if out.strip() else {}
    if code != 0 or counts.get("items_with_files") != items or counts.get("whole") != items:
        raise SystemExit(f"verify --fast exited {code} and checked {counts.get('items_with_files')} of {items} "
                         f"items ({counts.get('whole')} whole): {out[-1000:]}")
    return seconds


def status(dest: Path, env: dict, items: int) -> float:
    seconds, code, out = timed([*EXODUS, "status", str(dest), "--json"], env)
    if code != 0 or not out.strip() or json.loads(out)["items"] != items:
        raise SystemExit(f"status exited {code}: {out[-1000:]}")
    return seconds


def commands(dest: Path, env: dict, items: int) -> tuple[dict, dict]:
    """verify --fast cold, then status and verify --fast warm: (figures under BOUNDS, what else
    was measured)."""
    cold = drop_caches()
    verify_cold = verify_fast(dest, env, items)
    status_warm = status(dest, env, items)
    warm = [verify_fast(dest, env, items) for _ in range(WARM_RUNS)]
    median = statistics.median(warm)
    figures = {"status_warm_seconds": round(status_warm, 2),
               "verify_fast_cold_items_per_s": round(items / verify_cold),
               "verify_fast_warm_items_per_s": round(items / median)}
    return figures, {
        "cold_means": ("the page cache dropped before the run (echo 3 > /proc/sys/vm/drop_caches)" if cold else
                       "the first run after building DEST: the page cache could not be dropped by this user, "
                       "so the build's own writes may still be cached"),
        "verify_fast_cold_seconds": round(verify_cold, 1),
        "verify_fast_warm_seconds": [round(t, 1) for t in warm],
        "verify_fast_seconds": round(median, 1),  # the warm runs' median
        "timed_runs": list(RUNS)}


def ingest(home: Path, items: int) -> dict:
    proc, info = start_sandbox("--photos", str(items), "--videos", "0", "--albums", "50",
                               "--media-size", "1000-1200", "--seed", "17")
    try:
        env = exodus_env(info, home, EXODUS_DIE_AT="between-items:1")
        seconds, code, _ = timed([*EXODUS, "backup", str(home / "ingest"), "--no-deep", "--json"], env)
    finally:
        proc.terminate()
        proc.wait()
    with sqlite3.connect(home / "ingest" / "catalog.db") as conn:
        listed = conn.execute("SELECT count(*) FROM photos").fetchone()[0]
    whole = listed == items and code == -9  # listed everything, stopped at its first download
    return {"listing_items": listed, "seconds_to_first_download": round(seconds, 1),
            "ingest_items_per_s": round(listed / seconds) if whole else None, "killed_at_first_download": code == -9}


def judged(figures: dict) -> list[dict]:
    """Each bound, what was measured and whether it was met; a figure without a bound (one
    with no limit, so never met) or a bound without its figure is not met."""
    unbound = sorted(set(figures) - {b["figure"] for b in BOUNDS})
    return judge(figures, BOUNDS + [bound(name.replace("_", " "), name, "<=", None,
                                          "no bound: a figure must have one") for name in unbound])


def built(dest: Path, items: int) -> float | None:
    """Seconds to build DEST, or None when a DEST of this size built before is reused (--keep)."""
    if (dest / "catalog.db").exists():
        with sqlite3.connect(dest / "catalog.db") as conn:
            if conn.execute("SELECT count(*) FROM photos").fetchone()[0] == items:
                return None
        raise SystemExit(f"{dest} holds another DEST; remove it or choose another --keep")
    return build(dest, items)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--listing", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="build DEST here and keep it (reused by a rerun of the same size)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    stamp = run_stamp(quick=args.items < 1_000_000 or args.listing < 100_000)
    print(f"scale: {args.items:,} items (rerun: benchmarks/scale.py --items {args.items})", flush=True)
    with tempfile.TemporaryDirectory(prefix="exodus-scale-") as tmp:
        home = Path(tmp)
        dest = (args.keep or home) / "dest"
        build_s = built(dest, args.items)
        print(f"built in {build_s:.0f} s" if build_s is not None else f"reusing {dest}", flush=True)
        env = {**os.environ, "XDG_STATE_HOME": str(home / "state")}
        figures, measured = commands(dest, env, args.items)
        trace = home / "sql.txt"  # the statements, from runs of their own (tracing costs time)
        status(dest, {**env, "EXODUS_TRACE_SQL": str(trace)}, args.items)
        verify_fast(dest, {**env, "EXODUS_TRACE_SQL": str(trace)}, args.items)
        checked = plans(dest, trace)
        listing = ingest(home, args.listing)
        figures["ingest_items_per_s"] = listing.pop("ingest_items_per_s")
        if not args.keep:
            print(f"measured; removing the {2 * args.items:,} files takes a while", flush=True)
    bounds = judged(figures)
    plans_met = checked["statements_checked"] > 0 and not checked["unindexed"] and not checked["unplanned"]
    result = {"items": args.items,
              "build_seconds": round(build_s) if build_s is not None else None,
              **measured, **figures, **checked, **listing,
              "bounds": bounds,
              "target": "every bound met; at least one statement planned, none that scans a table without an "
                        "index unless marked a pass over every row, none that cannot be planned",
              "met": all(b["met"] for b in bounds) and plans_met}
    save_scenario(args.out, "scale", result, stamp)
    print(json.dumps({**result, "run": stamp}, indent=1))
    missed = [b["figure"] for b in bounds if not b["met"]] + ([] if plans_met else ["query plans"])
    if missed:
        print(f"scale: not met: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
