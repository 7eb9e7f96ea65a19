"""What the catalog's full-text indexes (catalog/fts.py) cost, on a catalog of N items.

    .venv/bin/python benchmarks/fts_cost.py [--items 100000]

- builds a catalog of the current schema without the indexes, as an older exodus left it
  (titles, descriptions of ~200 characters, 1-3 tags per item, comments on a fifth);
- times the one-time filling of the indexes (the first open for writing, `Catalog.open`,
  after the schema bump), then, in rounds that alternate with and without the index
  triggers, N state updates (what downloads and verify do all day: `state`,
  `verified_at`) and a listing recorded again over every item unchanged
  (`record_listing`: title and description named in every upsert, tags compared).

Times are CPU seconds of this process (SQLite works in it): on a shared machine the wall
clock measures the neighbours. Prints one JSON document; writes nothing else (a scratch
folder, removed).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flickr_exodus.catalog import Catalog, fts, schema  # noqa: E402
from flickr_exodus.catalog.account import LISTED_COLUMNS  # noqa: E402

WORDS = ("sunset harbour tokyo 東京タワー bridge family picnic snow mountain river café night market "
         "street portrait garden festival train station beach 夕焼け lighthouse").split()
BATCH = 1000  # updates per transaction, as the commands commit their steps


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def build(dest: Path, items: int) -> None:
    Catalog.open(dest).close()  # the real schema, then the indexes taken away: an older catalog
    conn = sqlite3.connect(dest / "catalog.db", isolation_level=None)
    for table in fts.SEARCHED:
        for suffix in fts.SUFFIXES:
            conn.execute(f"DROP TRIGGER {table}{suffix}")
        conn.execute(f"DROP TABLE {fts.fts_table(table)}")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    rng = random.Random(1)
    conn.execute("BEGIN")
    for n in range(items):
        pid = str(50_000_000_000 + n * 7)
        conn.execute("INSERT INTO photos (id, media, title, description, state, listed_pass) "
                     "VALUES (?, 'photo', ?, ?, 'downloaded', 1)", (pid, text(rng, 4), text(rng, 30)))
        for k in range(1 + n % 3):
            conn.execute("INSERT INTO tags (photo_id, tag, machine) VALUES (?, ?, 0)", (pid, f"tag{(n + k) % 500}"))
        if n % 5 == 0:
            conn.execute("INSERT INTO comments (id, photo_id, authorname, text) VALUES (?, ?, 'a friend', ?)",
                         (f"c{pid}", pid, text(rng, 12)))
    conn.execute("COMMIT")
    conn.close()


def state_updates(dest: Path, items: int, label: str) -> float:
    conn = sqlite3.connect(dest / "catalog.db", isolation_level=None)
    conn.execute("PRAGMA recursive_triggers=ON")  # as the catalog's own connections
    ids = [str(50_000_000_000 + n * 7) for n in range(items)]
    started = time.process_time()
    for start in range(0, items, BATCH):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("UPDATE photos SET state = 'downloaded', verified_at = ? WHERE id = ?",
                         [(label, pid) for pid in ids[start:start + BATCH]])
        conn.execute("COMMIT")
    elapsed = time.process_time() - started
    conn.close()
    return elapsed


def relisting(cat: Catalog) -> float:
    """Every item listed again as it is (500 a page, as Flickr sends them)."""
    cols = ("id",) + LISTED_COLUMNS
    rows = cat.rows(f"SELECT {', '.join(cols)} FROM photos")
    tags: dict[str, list] = {}
    for row in cat.rows("SELECT photo_id, tag, machine FROM tags"):
        tags.setdefault(row["photo_id"], []).append((row["tag"], row["machine"]))
    started = time.process_time()
    for start in range(0, len(rows), 500):
        page = rows[start:start + 500]
        cat.record_listing(page, {r["id"]: tags.get(r["id"], []) for r in page}, {"page": start})
    return time.process_time() - started


def triggers(dest: Path, on: bool) -> None:
    """The index triggers made again (ensure: the indexes stay as they are) or dropped."""
    cat = Catalog.open(dest)
    if on:
        with cat.tx():
            fts.ensure(cat.db)
    else:
        for table in fts.SEARCHED:
            for suffix in fts.SUFFIXES:
                cat.db.execute(f"DROP TRIGGER IF EXISTS {table}{suffix}")
    cat.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    items, rounds = parser.parse_args().items, parser.parse_args().rounds
    timed: dict[str, list[float]] = {"state_updates_without_fts": [], "state_updates_with_fts": [],
                                     "relisting_without_fts": [], "relisting_with_fts": []}
    with tempfile.TemporaryDirectory(prefix="exodus-fts-") as folder:
        dest = Path(folder)
        build(dest, items)
        timed["state_updates_without_fts"].append(state_updates(dest, items, "a"))
        started = time.process_time()
        cat = Catalog.open(dest)  # the schema bump: the indexes made and filled, once
        filling = time.process_time() - started
        assert schema.version_of(cat.db) == schema.SCHEMA_VERSION and not fts.missing(cat.db)
        cat.close()
        # Rounds alternate with and without the triggers, so that the machine's load and
        # the catalog's growth weigh on both alike.
        for n in range(rounds):
            for on in (True, False):
                if on or n:
                    triggers(dest, on)
                    timed[f"state_updates_{'with' if on else 'without'}_fts"].append(
                        state_updates(dest, items, f"{n}{on}"))
                cat = Catalog.open(dest)
                timed[f"relisting_{'with' if on else 'without'}_fts"].append(relisting(cat))
                cat.close()
        triggers(dest, True)
        size = (dest / "catalog.db").stat().st_size
    print(json.dumps({
        "items": items, "sqlite": sqlite3.sqlite_version, "clock": "cpu", "filling_seconds": round(filling, 3),
        **{f"{k}_seconds": [round(v, 3) for v in values] for k, values in timed.items()},
        "catalog_bytes_with_fts": size,
    }, indent=1))


if __name__ == "__main__":
    main()
