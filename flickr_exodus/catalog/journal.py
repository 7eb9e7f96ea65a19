"""The journals of what exodus changes on Flickr (`deletions`, `lockdowns`) and the reads
delete-remote and lockdown plan from: every statement of changes/, here.

A journal row is an intent (written before the call to Flickr) until its result is
settled (after it); the item's consequence (deleted on Flickr, a lockdown undone) is
written in the same transaction as the result, so that the two never disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from .store import has_file, now_iso

if TYPE_CHECKING:
    from .store import Catalog

TABLES = {"delete": "deletions", "lockdown": "lockdowns"}
BATCH = 1000  # photos rows read at a time

# What a settled result does to the item, by name (changes/journal.py picks one per result).
CONSEQUENCES = {
    "deleted_remote": "UPDATE photos SET state = 'deleted_remote', reason = 'deleted on Flickr by exodus' "
                      "WHERE id = ?",
    "undone": "UPDATE lockdowns SET undone = 1 WHERE photo_id = ? AND action = 'lock' AND result = 'done'",
}


def open_intents(cat: "Catalog", kind: str, action: str | None = None) -> list[dict]:
    """Intents without a result, oldest first (lockdowns: of one action)."""
    if action is None:
        return cat.rows(f"SELECT * FROM {TABLES[kind]} WHERE result IS NULL ORDER BY id")
    return cat.rows(f"SELECT * FROM {TABLES[kind]} WHERE action = ? AND result IS NULL ORDER BY id", [action])


def record_intent(cat: "Catalog", kind: str, photo_id: str, run_id: int | None, values: dict) -> int:
    columns = ["photo_id", "run_id", *values, "intent_at"]
    with cat.tx() as conn:
        return conn.execute(f"INSERT INTO {TABLES[kind]} ({', '.join(columns)}) VALUES "
                            f"({', '.join('?' * len(columns))})",
                            (photo_id, run_id, *values.values(), now_iso())).lastrowid


# What a result may carry beyond itself, per journal: the id Flickr gave a tag lockdown added
# (its undo removes exactly that tag).
RESULT_COLUMNS = {"lockdown": ("tag_id",)}


def settle(cat: "Catalog", kind: str, entry: int, result: str, detail: str | None,
           photo_id: str, consequence: str | None, made: dict | None = None) -> None:
    made = {k: v for k, v in (made or {}).items() if k in RESULT_COLUMNS.get(kind, ())}
    columns = "".join(f", {name} = ?" for name in made)
    with cat.tx() as conn:
        conn.execute(f"UPDATE {TABLES[kind]} SET result = ?, result_at = ?, detail = ?{columns} WHERE id = ?",
                     (result, now_iso(), detail, *made.values(), entry))
        if consequence is not None:
            conn.execute(CONSEQUENCES[consequence], (photo_id,))


def settled_count(cat: "Catalog", kind: str, results: tuple[str, ...]) -> int:
    return cat.one(f"SELECT count(*) FROM {TABLES[kind]} WHERE result IN ({', '.join('?' * len(results))})",
                   results)


def locks_to_undo(cat: "Catalog") -> list[dict]:
    """Lockdowns done and not undone yet, oldest first."""
    return cat.rows("SELECT photo_id, after, before, tag_id FROM lockdowns WHERE action = 'lock' "
                    "AND result = 'done' AND undone = 0 ORDER BY id")


# --- what the plans read --------------------------------------------------------------

def album_members(cat: "Catalog", album_id: str) -> set[str]:
    return {r["photo_id"] for r in cat.rows("SELECT photo_id FROM album_photos WHERE album_id = ?", [album_id])}


def pushed_as_they_are(cat: "Catalog", target: str) -> set[str]:
    """Items whose file, as it is in the catalog now, was pushed to this target (its name)."""
    return {r["id"] for r in cat.rows("SELECT p.id FROM photos p JOIN pushes x ON x.key = p.path AND "
                                      "x.sha256 = p.sha256 WHERE x.target = ?", [target])}


def deletion_candidates(cat: "Catalog") -> Iterator[dict]:
    """Every item, by id, with what delete.reason weighs."""
    last = ""
    while True:
        rows = cat.rows("SELECT id, title, state, path, size, sha256, verified_sha256, verified_size, "
                        "verified_facts, deep_done, last_update, original_secret FROM photos WHERE id > ? "
                        "ORDER BY id LIMIT ?", [last, BATCH])
        if not rows:
            return
        last = rows[-1]["id"]
        yield from rows


def proof_now(cat: "Catalog", item_id: str) -> dict | None:
    """The item's bytes and their proof as the catalog holds them now."""
    rows = cat.rows("SELECT sha256, size, verified_sha256, verified_size, path FROM photos WHERE id = ?", [item_id])
    return rows[0] if rows else None


def known_ids(cat: "Catalog", wanted: set[str]) -> set[str]:
    """Those of `wanted` the catalog has an item for."""
    wanted, found = sorted(wanted), set()
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start:start + BATCH]
        found |= {r["id"] for r in cat.rows(f"SELECT id FROM photos WHERE id IN ({', '.join('?' * len(chunk))})",
                                            chunk)}
    return found


def proved_ids(cat: "Catalog") -> set[str]:
    """Items with a file whose bytes verify proved."""
    return {r["id"] for r in cat.rows(f"SELECT id FROM photos WHERE {has_file()} AND verified_sha256 = sha256")}

