"""The catalog Datasette-ready (issue 19): full-text indexes kept current by triggers that
cost nothing on the updates exodus makes all day, DEST/metadata.yml, and each canned query
answering what the catalog holds, served by Datasette in-process over a real backup of a
sandbox account. Expectations are computed here from the catalog's rows (or the sandbox),
never from the queries' text."""

from __future__ import annotations

import asyncio
import hashlib
import re
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
import yaml
from datasette.app import Datasette

from conftest import backed_up, catalog_rows, exodus, private_copy
from flickr_exodus.catalog import Catalog, canned, fts, schema
from flickr_exodus.catalog.items import FILE_STATES
from flickr_exodus.gallery.datasette import METADATA, metadata, write_metadata
from flickr_exodus.sandbox import SandboxConfig
from flickr_exodus.sandbox.render import LICENSES

CONFIG = SandboxConfig(photos=30, videos=2, albums=3, seed=191, video_access="oauth",
                       media_size=(5_000, 9_000), video_size=(20_000, 30_000))


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    with backed_up(tmp_path_factory.mktemp("browse"), CONFIG) as done:
        yield done


def served(dest: Path, *paths: str) -> list:
    """Datasette over DEST's catalog with DEST's metadata.yml: the JSON rows of each path."""
    meta = yaml.safe_load((dest / METADATA).read_text(encoding="utf-8"))

    async def ask() -> list:
        ds = Datasette(files=[str(dest / "catalog.db")], metadata=meta)
        await ds.invoke_startup()
        answers = []
        for path in paths:
            response = await ds.client.get(path + ("&" if "?" in path else "?") + "_shape=array")
            assert response.status_code == 200, (path, response.text[:500])
            answers.append(response.json())
        return answers

    return asyncio.run(ask())


def ids(rows: list[dict], key: str = "id") -> list[str]:
    return [row[key] for row in rows]


def words(text: str | None) -> set[str]:
    """Tokens as FTS5's unicode61 tokenizer cuts them (letters and digits), folded."""
    return {w.casefold() for w in re.findall(r"[^\W_]+", text or "")}


def fts_state(db: Path, table: str) -> str:
    """A digest of an index's own storage: any write to the index changes it."""
    conn = sqlite3.connect(db)
    try:
        blocks = conn.execute(f"SELECT id, block FROM {fts.fts_table(table)}_data ORDER BY id").fetchall()
    finally:
        conn.close()
    return hashlib.sha256(repr(blocks).encode()).hexdigest()


def consistent(db: Path) -> None:
    """FTS5's own check of each index against its table (raises if they disagree)."""
    conn = sqlite3.connect(db)
    try:
        for table in fts.SEARCHED:
            name = fts.fts_table(table)
            conn.execute(f"INSERT INTO {name} ({name}, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.close()


# --- the indexes ---------------------------------------------------------------------------

def test_a_backup_has_consistent_indexes_and_metadata_datasette_reads(account, tmp_path):
    _, _, dest = private_copy(account, tmp_path)
    consistent(dest / "catalog.db")
    path = write_metadata(dest, "東京 <b>user</b>")
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert document == {**metadata("東京 <b>user</b>")}
    queries = document["databases"]["catalog"]["queries"]
    assert {"public_creative_commons", "most_commented", "not_verified", "people_tagged"} <= set(queries)
    (about,) = served(dest, "/-/metadata.json?")
    assert about["title"] == "Flickr backup of 東京 <b>user</b>"


def test_search_finds_a_comments_word_and_a_titles_word(account, tmp_path):
    _, _, dest = private_copy(account, tmp_path)
    write_metadata(dest)
    comments = catalog_rows(dest, "SELECT id, text FROM comments")
    photos = catalog_rows(dest, "SELECT id, title FROM photos")
    comment_word = next(w for c in comments for w in sorted(words(c["text"])) if w.isascii() and len(w) > 4)
    title_word = next(w for p in photos for w in sorted(words(p["title"])) if w.isascii() and len(w) > 4)
    found_comments, found_photos, tokyo = served(
        dest, f"/catalog/comments.json?_search={comment_word}", f"/catalog/photos.json?_search={title_word}",
        "/catalog/photos.json?_search=東京タワー")
    assert set(ids(found_comments)) == {c["id"] for c in comments if comment_word in words(c["text"])} != set()
    assert set(ids(found_photos)) == {p["id"] for p in photos if title_word in words(p["title"])} != set()
    assert set(ids(tokyo)) == {p["id"] for p in photos if "東京タワー" in (p["title"] or "")} != set()


def test_state_updates_leave_the_indexes_alone_and_only_new_text_is_indexed(account, tmp_path):
    _, _, dest = private_copy(account, tmp_path)
    db = dest / "catalog.db"
    before = fts_state(db, "photos")
    cat = Catalog.open(dest)
    some = catalog_rows(dest, "SELECT id, title, description FROM photos ORDER BY id LIMIT 1")[0]
    with cat.tx() as conn:  # what downloads and verify do all day, and a listing naming the same text
        conn.execute("UPDATE photos SET state = 'downloaded', verified_at = 'now', sidecar_dirty = 1")
        conn.execute("UPDATE photos SET title = title, description = description")
    cat.close()
    assert fts_state(db, "photos") == before
    cat = Catalog.open(dest)
    with cat.tx() as conn:
        conn.execute("UPDATE photos SET title = 'quokka on a bench' WHERE id = ?", (some["id"],))
    cat.close()
    assert fts_state(db, "photos") != before
    consistent(db)
    conn = sqlite3.connect(db)
    found = [r[0] for r in conn.execute("SELECT p.id FROM photos p WHERE p.rowid IN "
                                        "(SELECT rowid FROM photos_fts WHERE photos_fts MATCH 'quokka')")]
    conn.close()
    assert found == [some["id"]]


def test_a_replaced_comment_forgets_its_old_text(account, tmp_path):
    """INSERT OR REPLACE deletes the old row without delete triggers unless recursive
    triggers are on: the index would keep the old words."""
    _, _, dest = private_copy(account, tmp_path)
    comment = catalog_rows(dest, "SELECT id, album_id FROM comments WHERE album_id IS NOT NULL LIMIT 1") or \
        catalog_rows(dest, "SELECT id, photo_id AS album_id FROM comments LIMIT 1")
    cat = Catalog.open(dest)
    cat.add_album_comments([(comment[0]["id"], comment[0]["album_id"], 1, "wombat first", "{}")])
    cat.add_album_comments([(comment[0]["id"], comment[0]["album_id"], 1, "numbat second", "{}")])
    cat.close()
    consistent(dest / "catalog.db")
    conn = sqlite3.connect(dest / "catalog.db")
    assert conn.execute("SELECT rowid FROM comments_fts WHERE comments_fts MATCH 'wombat'").fetchall() == []
    assert len(conn.execute("SELECT rowid FROM comments_fts WHERE comments_fts MATCH 'numbat'").fetchall()) == 1
    conn.close()


def older(dest: Path) -> None:
    """DEST's catalog as exodus 3 left it: no indexes, schema version 3."""
    conn = sqlite3.connect(dest / "catalog.db")
    for table in fts.SEARCHED:
        for suffix in fts.SUFFIXES:
            conn.execute(f"DROP TRIGGER {table}{suffix}")
        conn.execute(f"DROP TABLE {fts.fts_table(table)}")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()


def test_an_older_catalog_gets_its_indexes_once_and_never_when_read_only(account, tmp_path):
    _, _, dest = private_copy(account, tmp_path)
    older(dest)
    digest = hashlib.sha256((dest / "catalog.db").read_bytes()).hexdigest()
    Catalog.open(dest, read_only=True).close()
    assert hashlib.sha256((dest / "catalog.db").read_bytes()).hexdigest() == digest
    assert not (dest / "catalog.db-wal").exists()
    write_metadata(dest)  # Datasette takes it before the indexes exist, the canned queries that need none run
    (most,) = served(dest, "/catalog/most_commented.json?")
    assert most
    cat = Catalog.open(dest)
    assert schema.version_of(cat.db) == schema.SCHEMA_VERSION and not fts.missing(cat.db)
    cat.close()
    consistent(dest / "catalog.db")
    photos = catalog_rows(dest, "SELECT id, title FROM photos")
    title_word = next(w for p in photos for w in sorted(words(p["title"])) if w.isascii() and len(w) > 4)
    (found,) = served(dest, f"/catalog/photos.json?_search={title_word}")
    assert set(ids(found)) == {p["id"] for p in photos if title_word in words(p["title"])} != set()


def test_the_indexes_follow_a_backup_after_edits_on_flickr(tmp_path):
    with backed_up(tmp_path, SandboxConfig(photos=8, videos=0, albums=1, seed=5)) as (client, env, dest):
        item = sorted(client.manifest())[2]
        kept = [t["tag"] for t in catalog_rows(dest, "SELECT tag FROM tags WHERE photo_id = ?", (item,))][:1]
        for animal in ("wombat", "numbat"):
            client.control("edit", id=item, title=f"{animal} crossing", tags=[*kept, f"{animal}tag"])
            comment = client.control("comment", id=item, text=f"a {animal}ish comment")
            done = exodus(["backup", str(dest), "--json"], env)
            assert done.returncode == 0, done.stderr
            tags = {t["tag"] for t in catalog_rows(dest, "SELECT tag FROM tags WHERE photo_id = ?", (item,))}
            assert tags == {*kept, f"{animal}tag"}  # the tag no longer on Flickr is gone
        consistent(dest / "catalog.db")
        write_metadata(dest)
        old, new, said, old_tag, new_tag = served(
            dest, "/catalog/photos.json?_search=wombat", "/catalog/photos.json?_search=numbat",
            "/catalog/comments.json?_search=numbatish", "/catalog/tags.json?_search=wombattag",
            "/catalog/tags.json?_search=numbattag")
        assert ids(old) == [] and ids(new) == [item]
        assert ids(said) == [comment["id"]]
        assert ids(old_tag, "photo_id") == [] and ids(new_tag, "photo_id") == [item]


# --- the canned queries --------------------------------------------------------------------

def run_canned(dest: Path, name: str, **params: str) -> list[dict]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return served(dest, f"/catalog/{name}.json?{query}")[0]


def test_each_canned_query_only_reads(account, tmp_path):
    _, _, dest = private_copy(account, tmp_path)
    conn = sqlite3.connect(f"file:{dest / 'catalog.db'}?mode=ro", uri=True)
    conn.execute("PRAGMA query_only=ON")
    for query in canned.QUERIES:
        assert re.match(r"\s*(SELECT|WITH)\b", query.sql, re.I), query.name
        conn.execute(query.sql, {"q": "lovely", "album": "1"}).fetchall()
    conn.close()


def test_canned_queries_answer_what_the_catalog_holds(account, tmp_path):
    _, _, dest = private_copy(account, tmp_path)
    write_metadata(dest)
    photos = catalog_rows(dest)
    comments = catalog_rows(dest, "SELECT * FROM comments")
    people = catalog_rows(dest, "SELECT * FROM people")
    creative = {i for i, name, _ in LICENSES if "Attribution" in name or "CC0" in name}

    cc = run_canned(dest, "public_creative_commons")
    assert set(ids(cc)) == {p["id"] for p in photos if p["is_public"] == 1 and p["license"] in creative} != set()

    counts = Counter(c["photo_id"] for c in comments if c["photo_id"])
    most = run_canned(dest, "most_commented")
    assert [(r["id"], r["comments"]) for r in most] == sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:100]
    manifest = account[0].manifest()
    assert all(manifest[r["id"]]["count_comments"] == r["comments"] for r in most)

    tagged = run_canned(dest, "people_tagged")
    assert {r["id"]: r["people"] for r in tagged} == dict(Counter(p["photo_id"] for p in people)) != {}

    with_file = {p["id"] for p in photos if p["state"] in FILE_STATES and p["path"] and p["sha256"]}
    assert set(ids(run_canned(dest, "not_verified"))) == with_file != set()  # no verify has run yet
    assert ids(run_canned(dest, "not_saved")) == sorted(p["id"] for p in photos if p["id"] not in with_file)
    assert ids(run_canned(dest, "gone_from_flickr")) == []
    assert set(ids(run_canned(dest, "private_items"))) == {
        p["id"] for p in photos if not (p["is_public"] or p["is_friend"] or p["is_family"])} != set()
    geo = run_canned(dest, "geotagged")
    assert set(ids(geo)) == {p["id"] for p in photos if p["latitude"] is not None} != set()
    assert all(r["map"].startswith("https://www.openstreetmap.org/?mlat=") for r in geo)

    for album in catalog_rows(dest, "SELECT id FROM albums"):
        listed = account[0].call("flickr.photosets.getPhotos", photoset_id=album["id"])["photoset"]["photo"]
        order = [str(photo["id"]) for photo in listed]
        assert ids(run_canned(dest, "album_in_order", album=album["id"])) == order != []

    word = "lovely"
    expected = {c["photo_id"] for c in comments if c["photo_id"] and word in words(c["text"])}
    expected |= {p["id"] for p in photos if word in words(p["title"]) | words(p["description"])}
    assert set(ids(run_canned(dest, "search_everything", q=word))) == expected != set()


def test_not_verified_names_what_a_verify_could_not_prove(account, tmp_path):
    _, env, dest = private_copy(account, tmp_path)
    write_metadata(dest)
    damaged = catalog_rows(dest, "SELECT id, path FROM photos WHERE media = 'photo' ORDER BY id LIMIT 1")[0]
    with open(dest / damaged["path"], "r+b") as handle:  # the same size, other bytes
        handle.seek(200)
        handle.write(b"\xff" * 64)
    done = exodus(["verify", str(dest), "--json"], env)
    assert done.returncode == 1, done.stdout
    assert ids(run_canned(dest, "not_verified")) == [damaged["id"]]
