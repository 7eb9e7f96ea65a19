"""`exodus verify --fast` lists each folder once instead of reaching every file by its full
path, and parses no sidecar: what it finds must read exactly as what a full verify finds,
hash mismatches and sidecar contents aside. Also the catalog's walk a folder at a time,
the batched record of a fast check, and status's totals in one pass."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3

import pytest

from conftest import backed_up, catalog_rows, exodus, private_copy
from flickr_exodus.catalog import Catalog
from flickr_exodus.catalog.items import WITH_FILE
from flickr_exodus.sandbox import SandboxConfig
from flickr_exodus.status import status


@pytest.fixture(scope="module")
def backup(tmp_path_factory):
    """One finished backup, made once; each test damages a private copy of it."""
    with backed_up(tmp_path_factory.mktemp("verify-fast"), SandboxConfig(
            photos=30, videos=4, albums=3, seed=67, video_access="oauth", media_size=(5_000, 7_000),
            video_size=(30_000, 50_000))) as account:
        yield account


def verify(dest, env, *args) -> tuple[int, dict]:
    done = exodus(["verify", str(dest), "--json", *args], env)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def found(report) -> set[tuple[str, str, str]]:
    return {(p["id"], p["kind"], p["detail"]) for p in report["problems"]}


def test_fast_finds_what_a_full_verify_finds_but_hashes_and_sidecar_contents(backup, tmp_path):
    _, env, dest = private_copy(backup, tmp_path)
    rows = catalog_rows(dest, "SELECT * FROM photos ORDER BY id")
    photos = [r for r in rows if r["media"] == "photo"]
    videos = [r for r in rows if r["media"] == "video"]
    by_folder: dict[str, list[dict]] = {}
    for row in rows:
        by_folder.setdefault(row["path"].rpartition("/")[0], []).append(row)
    # A folder swapped for a link to a copy of itself: every item in it is reached through a link.
    linked_folder, linked = next((f, members) for f, members in sorted(by_folder.items()) if len(members) >= 2)
    taken = {r["id"] for r in linked}
    photos = [r for r in photos if r["id"] not in taken]
    videos = [r for r in videos if r["id"] not in taken]
    shutil.copytree(dest / linked_folder, dest / "elsewhere")
    shutil.rmtree(dest / linked_folder)
    os.symlink(dest / "elsewhere", dest / linked_folder)

    deleted, flipped, grown, unsidecared, garbled, as_link = photos[:6]
    (dest / deleted["path"]).unlink()
    data = bytearray((dest / flipped["path"]).read_bytes())
    data[len(data) // 2] ^= 0x01  # same size: only a hash tells
    (dest / flipped["path"]).write_bytes(bytes(data))
    with open(dest / grown["path"], "ab") as handle:
        handle.write(b"tail")
    (dest / (unsidecared["path"] + ".json")).unlink()
    (dest / (garbled["path"] + ".json")).write_text("{not json")
    copied = dest / "copied.jpg"
    shutil.copyfile(dest / as_link["path"], copied)
    (dest / as_link["path"]).unlink()
    os.symlink(copied, dest / as_link["path"])  # the very bytes, behind a link
    truncated, renamed = videos[:2]
    video = dest / truncated["path"]
    video.write_bytes(video.read_bytes()[: truncated["size"] // 2])
    (dest / renamed["path"]).write_bytes((dest / photos[6]["path"]).read_bytes())  # a JPEG under a video's name
    folder = dest / photos[7]["path"].rpartition("/")[0]
    (folder / "holiday.jpg").write_bytes(b"\xff\xd8\xff mine")
    (dest / (photos[8]["path"] + ".part")).write_bytes(b"partial")
    dangling, foldered = photos[9], photos[10]  # sidecars: a link to nowhere, a folder
    (dest / (dangling["path"] + ".json")).unlink()
    os.symlink(dest / "nowhere.json", dest / (dangling["path"] + ".json"))
    (dest / (foldered["path"] + ".json")).unlink()
    (dest / (foldered["path"] + ".json")).mkdir()
    link = next(p for p in sorted((dest / "albums").rglob("*")) if p.is_symlink())
    link.unlink()
    os.symlink("../../photos/nowhere.jpg", link)

    fast_code, fast = verify(dest, env, "--fast")
    full_code, full = verify(dest, env)
    assert fast_code == full_code == 1
    kinds = {kind for _, kind, _ in found(fast)}
    assert {"missing", "size_mismatch", "length_mismatch", "truncated", "wrong_format", "not_a_file",
            "sidecar_missing", "stray", "part_leftover", "broken_link"} <= kinds
    assert {(i, k) for i, k, _ in found(fast) if k == "not_a_file"} == \
        {(r["id"], "not_a_file") for r in [*linked, as_link]}
    # Word for word what the full check says, but for what only reading every byte (or
    # parsing the sidecar) can tell.
    assert {p for p in found(fast) if p[1] != "sidecar_invalid"} == \
        {p for p in found(full) if p[1] not in ("hash_mismatch", "sidecar_invalid")}
    # A sidecar that is not a file is found without parsing one; a dangling link is none.
    assert {(i, k) for i, k, _ in found(fast) if k.startswith("sidecar")} == \
        {(unsidecared["id"], "sidecar_missing"), (dangling["id"], "sidecar_missing"),
         (foldered["id"], "sidecar_invalid")}
    assert (flipped["id"], "hash_mismatch") in {(i, k) for i, k, _ in found(full)}
    assert (garbled["id"], "sidecar_invalid") in {(i, k) for i, k, _ in found(full)}
    for key in ("items_with_files", "stray_files", "leftovers", "broken_links", "resumable_parts",
                "not_downloaded", "bytes_checked"):
        assert fast["counts"][key] == full["counts"][key], key


def test_fast_records_its_check_in_batches_and_leaves_a_full_proof_standing(backup, tmp_path):
    _, env, dest = private_copy(backup, tmp_path)
    assert verify(dest, env)[0] == 0
    proved = {r["id"]: r["verified_at"] for r in catalog_rows(dest)}
    code, report = verify(dest, env, "--fast")
    assert code == 0 and report["counts"]["whole"] == len(proved)
    for row in catalog_rows(dest):
        assert row["verified_at"] == proved[row["id"]]  # the full proof stands
        record = json.loads(row["verified"])
        assert record["sha256"] is False and record["structure"] in ("whole", "not_checked_fast", "not_checked")
        assert "content_length" in record["confirmed_by"]


def test_the_catalog_walks_items_a_folder_at_a_time(tmp_path):
    cat = Catalog.open(tmp_path)
    paths = ["photos/2004/01/01/b.jpg", "photos/2004/01/01/a.jpg", "photos/2004/01/02/c.jpg",
             "photos/2004/01/01/sub/d.jpg", "photos/2004/01/01/z.jpg", "top.jpg",
             "photos/2004/01/02/c.jpg"]  # two items on one path (a hostile catalog): both come
    with cat.tx() as conn:
        for n, path in enumerate(paths):
            conn.execute("INSERT INTO photos (id, path, sha256, size, state) VALUES (?, ?, 'aa', 1, 'downloaded')",
                         [str(100 - n), path])
        conn.execute("INSERT INTO photos (id, path, state) VALUES ('1', 'photos/2004/01/01/p.jpg', 'pending')")
    for batch in (1, 2, 3, 100):
        walked = list(cat.by_folder(WITH_FILE, ("id", "path"), batch=batch))
        # A folder of more than `batch` items comes in parts of at most `batch`, in a row.
        runs = [folder for n, (folder, _) in enumerate(walked) if n == 0 or walked[n - 1][0] != folder]
        assert runs == ["photos/2004/01/01", "photos/2004/01/01/sub", "photos/2004/01/01", "photos/2004/01/02", ""]
        assert all(len(items) <= batch for _, items in walked)
        assert (len(walked) == len(runs)) == (batch >= 2), batch  # the biggest run holds 2 items
        assert sorted(item.id for _, items in walked for item in items) == sorted(str(100 - n) for n in range(7))
        for folder, items in walked:
            assert all(item.path.rpartition("/")[0] == folder for item in items)
            assert all(item.title is None and item.state == "pending" for item in items)  # columns not read
    with pytest.raises(ValueError):
        list(cat.by_folder(WITH_FILE, ("id", "path; DROP TABLE photos")))
    cat.close()


def test_status_totals_in_one_pass_agree_with_the_counts(backup, tmp_path, monkeypatch):
    _, _, dest = private_copy(backup, tmp_path)
    conn = sqlite3.connect(dest / "catalog.db")
    ids = [r[0] for r in conn.execute("SELECT id FROM photos ORDER BY id")]
    conn.execute("UPDATE photos SET source = 'export' WHERE id IN (?, ?)", ids[:2])
    conn.execute("UPDATE photos SET state = 'failed', sha256 = NULL WHERE id = ?", [ids[2]])
    conn.execute("UPDATE photos SET state = 'remote_gone', deep_done = 0 WHERE id = ?", [ids[3]])
    conn.execute("UPDATE photos SET verified_sha256 = sha256 WHERE id IN (?, ?, ?)", ids[3:6])
    conn.execute("UPDATE photos SET state = 'pending' WHERE id = ?", [ids[6]])  # bytes, but no finished file
    conn.commit()
    conn.close()
    trace = tmp_path / "sql.txt"
    monkeypatch.setenv("EXODUS_TRACE_SQL", str(trace))
    report = status(dest)
    monkeypatch.delenv("EXODUS_TRACE_SQL")
    # Passes over the items table: the count by state (its index) and one for the rest
    # (the items waiting for the user are looked up by state: few, by the index).
    passes = [line for line in trace.read_text().splitlines()
              if " FROM photos" in line and not line.startswith("SELECT id, media, title, state, reason ")]
    assert len(passes) == 2, passes
    cat = Catalog.open(dest, read_only=True)
    try:
        assert report["with_files"] == cat.count("with_files") == len(ids) - 2
        assert report["verified"] == cat.count("verified") == 3
        assert report["deep_missing"] == cat.count("deep_missing") >= 1
        assert report["bytes_on_disk"] == cat.bytes_on_disk() > 0
        assert report["sources"] == cat.sources() == {"api": len(ids) - 3, "export": 2}
    finally:
        cat.close()


def test_status_counts_sources_no_exodus_writes_too(backup, tmp_path):
    """The one pass counts the sources exodus writes; one it does not know (a newer or
    hostile catalog) is still reported, by a pass of its own."""
    _, _, dest = private_copy(backup, tmp_path)
    conn = sqlite3.connect(dest / "catalog.db")
    ids = [r[0] for r in conn.execute("SELECT id FROM photos ORDER BY id")]
    conn.execute("UPDATE photos SET source = 'adopted' WHERE id = ?", [ids[0]])
    conn.execute("UPDATE photos SET source = 'carrier pigeon' WHERE id IN (?, ?)", ids[1:3])
    conn.execute("UPDATE photos SET source = 'API' WHERE id = ?", [ids[3]])
    conn.commit()
    conn.close()
    report = status(dest)
    assert report["sources"] == {"api": len(ids) - 4, "adopted": 1, "carrier pigeon": 2, "API": 1}
    assert report["with_files"] == len(ids)


def test_reads_by_offset_read_as_a_file_object_does(tmp_path):
    """Preads stands in for a file object in the format checks: every read and seek they
    make must give the same bytes and positions, from its first block and beyond it."""
    from flickr_exodus.verify.preads import FIRST_BLOCK, Preads
    path = tmp_path / "f"
    path.write_bytes(bytes(range(256)) * (3 * FIRST_BLOCK // 256 + 7))
    steps = [("read", 64), ("seek", 0, 0), ("read", 32), ("seek", FIRST_BLOCK - 3, 0), ("read", 8), ("tell",),
             ("seek", 5, 1), ("read", 2), ("seek", 0, 2), ("tell",), ("read", 4), ("seek", -10, 2), ("read", 100),
             ("seek", 10 * FIRST_BLOCK, 0), ("read", 3), ("seek", 0, 0), ("read", -1), ("tell",)]
    fd = os.open(path, os.O_RDONLY)
    with open(path, "rb") as handle, Preads(fd) as preads:
        for name, *args in steps:
            assert getattr(preads, name)(*args) == getattr(handle, name)(*args), (name, args)
        with pytest.raises(OSError):
            handle.seek(-1)
        with pytest.raises(OSError):
            preads.seek(-1)
    assert preads.fd == -1
    with pytest.raises(OSError):
        os.fstat(fd)  # closed with it
