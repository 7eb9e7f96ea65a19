"""Scale: a synthetic 1,000,000-item backup (catalog and files), and how the commands fare.

    .venv/bin/python benchmarks/scale.py [--items 1000000] [--listing 100000] [--keep DIR]

- builds DEST with the real catalog schema: the items (3% videos), 2,000 albums, one tag
  each, comments on a fifth; a tiny real PNG or MP4 and its sidecar per item on disk;
- times `exodus status` and `exodus verify --fast` on it;
- records every SQL statement those commands run (EXODUS_TRACE_SQL) and asks SQLite for
  each one's plan on the 1,000,000-row catalog: a statement that scans a whole table
  without an index is named, unless it is one of the passes over every item that the
  command is there to make;
- measures the listing ingest rate: `exodus backup` of a --listing-item sandbox at full
  speed, from start to the first download (listing, albums and collections recorded).

Writes benchmarks/results/scale.json (scenario "scale").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from backup import EXODUS, exodus_env, start_sandbox
from common import run_stamp, save_scenario

RESULTS = Path(__file__).parent / "results" / "scale.json"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from flickr_exodus.catalog import Catalog  # noqa: E402  (the real schema, made by the real code)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00")
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free"


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


def timed(command: list[str], env: dict) -> tuple[float, int]:
    started = time.monotonic()
    code = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    return time.monotonic() - started, code


LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")
# Passes over every item (or every row of a table) that a command exists to make.
WHOLE_PASSES = re.compile(r"count\(|sum\(|group by|^select \* from \w+ where \w+ > .* limit|"
                          r"order by id desc limit|from sqlite_master|pragma ", re.I)


def plans(dest: Path, trace: Path) -> dict:
    """Each distinct statement (literals aside) and whether a table is scanned without an index."""
    statements: dict[str, str] = {}
    for line in trace.read_text(encoding="utf-8").splitlines():
        if line.split(" ", 1)[0].upper() in ("SELECT", "UPDATE", "DELETE", "WITH"):
            statements.setdefault(LITERALS.sub("?", line), line)
    conn = sqlite3.connect(f"file:{dest / 'catalog.db'}?mode=ro", uri=True)
    unindexed, checked = [], 0
    for shape, example in statements.items():
        try:
            rows = conn.execute(f"EXPLAIN QUERY PLAN {example}").fetchall()
        except sqlite3.Error:
            continue
        checked += 1
        scans = [r[3] for r in rows if r[3].startswith("SCAN ") and "USING" not in r[3]
                 and not r[3].startswith(("SCAN CONSTANT", "SCAN json_each"))]
        if scans and not WHOLE_PASSES.search(shape):
            unindexed.append({"statement": shape[:300], "plan": scans})
    conn.close()
    return {"statements_checked": checked, "unindexed": unindexed}


def ingest(home: Path, items: int) -> dict:
    proc, info = start_sandbox("--photos", str(items), "--videos", "0", "--albums", "50",
                               "--media-size", "1000-1200", "--seed", "17")
    try:
        env = exodus_env(info, home, EXODUS_DIE_AT="between-items:1")
        seconds, code = timed([*EXODUS, "backup", str(home / "ingest"), "--no-deep", "--json"], env)
    finally:
        proc.terminate()
        proc.wait()
    with sqlite3.connect(home / "ingest" / "catalog.db") as conn:
        listed = conn.execute("SELECT count(*) FROM photos").fetchone()[0]
    return {"listing_items": listed, "seconds_to_first_download": round(seconds, 1),
            "ingest_items_per_s": round(listed / seconds), "killed_at_first_download": code == -9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--listing", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    stamp = run_stamp(quick=args.items < 1_000_000)
    print(f"scale: {args.items:,} items (rerun: benchmarks/scale.py --items {args.items})", flush=True)
    with tempfile.TemporaryDirectory(prefix="exodus-scale-") as tmp:
        home = Path(tmp)
        dest = home / "dest"
        built = build(dest, args.items)
        print(f"built in {built:.0f} s", flush=True)
        trace = home / "sql.txt"
        env = {**os.environ, "XDG_STATE_HOME": str(home / "state"), "EXODUS_TRACE_SQL": str(trace)}
        status_s, status_code = timed([*EXODUS, "status", str(dest), "--json"], env)
        verify_s, verify_code = timed([*EXODUS, "verify", str(dest), "--fast", "--json"], env)
        checked = plans(dest, trace)
        listing = ingest(home, args.listing)
        print("measured; removing the 2,000,000 files takes a few minutes", flush=True)
    result = {"items": args.items, "build_seconds": round(built), "status_seconds": round(status_s, 2),
              "status_exit": status_code, "verify_fast_seconds": round(verify_s, 1), "verify_exit": verify_code,
              "verify_items_per_s": round(args.items / verify_s), **checked, **listing,
              "target": "status and verify --fast answer (seconds reported); no query scans a table "
                        "without an index outside the passes over every item",
              "met": status_code in (0, 3) and verify_code in (0, 3) and not checked["unindexed"]}
    save_scenario(args.out, "scale", result, stamp)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
