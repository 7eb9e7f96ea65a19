"""`exodus audit DEST` over a real backup of a sandbox account: the sandbox's own records
(visibility, licence, people, location) are the judge of the reasons and levels; dataset
lists are written by the test with some of the account's ids planted among others'; an
original re-encoded with GPS in its EXIF; bad inputs are one line each. Faces are tested
through flickr_exodus.audit.faces once it is there (the faces extra); until then the
audit says that they were not checked."""

from __future__ import annotations

import bz2
import importlib.util
import json
import re
import sqlite3
import time

import pytest
from PIL import Image

from conftest import Client, catalog_rows, exodus, exodus_env, private_copy
from test_audit_datasets import ffhq_entries, others, yfcc_row

from flickr_exodus.catalog import Catalog
from flickr_exodus.catalog import schema
from flickr_exodus.dest import DestLock
from flickr_exodus.sandbox import Sandbox, SandboxConfig

CONFIG = SandboxConfig(photos=36, videos=2, albums=2, seed=251, video_access="oauth",
                       media_size=(5_000, 9_000), video_size=(20_000, 30_000))
# What the test holds a licence that lets anyone copy a photo to be (Flickr's licence ids):
# Creative Commons 2.0 and 4.0, CC0, no known copyright restrictions, US Government work,
# the Public Domain Mark. Everything else, All Rights Reserved (0) among them, does not.
REUSABLE = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
CREATIVE_COMMONS = REUSABLE - {7, 8, 10}
LEVELS = ["exposed", "high", "medium", "low"]
REPORT_KEYS = {"ok", "dest", "faces_checked", "faces_note", "detector", "datasets", "problems", "counts", "items",
               "html"}
ITEM_KEYS = {"id", "title", "media", "risk", "reasons", "faces", "width", "height", "path", "url"}
HAS_FACES = importlib.util.find_spec("flickr_exodus.audit.faces") is not None


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    """A backed-up account in which some public photos with people tagged are CC BY: the
    sandbox's generator tags people only on All Rights Reserved items, so three of its
    public ones are relicensed on the sandbox (its 'edit' endpoint) before the backup."""
    home = tmp_path_factory.mktemp("audit")
    with Sandbox(CONFIG) as sandbox:
        client = Client(sandbox)
        tagged = sorted(i for i, r in records(client).items() if r["is_public"] == 1 and r["people"])
        for item_id in tagged[:3]:
            client.control("edit", id=item_id, license=4)
        env = exodus_env(client, home)
        dest = home / "dest"
        done = exodus(["backup", str(dest), "--json"], env)
        assert done.returncode == 0, done.stderr
        yield client, env, dest


def audit(env, dest, *args) -> tuple[int, dict | None, str]:
    done = exodus(["audit", str(dest), "--json", "--no-faces", *args], env)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else None), done.stderr


def records(client) -> dict[str, dict]:
    items = client.http.get(f"{client.base}/__sandbox__/records", timeout=30).json()["items"]
    return {r["id"]: r for r in items if not r["deleted"]}


def codes(item: dict) -> set[str]:
    return {r["code"] for r in item["reasons"]}


def by_id(report: dict) -> dict[str, dict]:
    return {i["id"]: i for i in report["items"]}


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def owner(dest) -> dict:
    (row,) = catalog_rows(dest, "SELECT value FROM meta WHERE key = 'account'")
    return json.loads(row["value"])


# --- the signals and the levels -----------------------------------------------------------

def test_public_reusable_items_with_people_are_high_and_private_ones_low(account):
    client, env, dest = account
    calls = client.stats()["api_calls_total"]
    code, report, _ = audit(env, dest)
    assert code == 0 and report["ok"] and not report["problems"]
    assert client.stats()["api_calls_total"] == calls  # no call to Flickr
    truth, items = records(client), by_id(report)
    assert set(items) == set(truth)
    high = {i for i, r in truth.items() if r["is_public"] == 1 and r["license"] in REUSABLE and r["people"]}
    private = {i for i, r in truth.items() if not (r["is_public"] or r["is_friend"] or r["is_family"])}
    assert high and private  # the account has both: the checks below are not empty
    assert {i for i, item in items.items() if item["risk"] == "high"} == high
    for item_id in high:
        assert {"public", "reusable licence", "people tagged"} <= codes(items[item_id])
    for item_id in private:
        assert items[item_id]["risk"] == "low" and "private" in codes(items[item_id])
        assert not codes(items[item_id]) & {"public", "location public"}
    assert not any(item["risk"] == "exposed" for item in items.values())  # no list was given


def test_each_reason_follows_the_sandbox_record(account):
    client, env, dest = account
    _, report, _ = audit(env, dest)
    truth, items = records(client), by_id(report)
    for item_id, record in truth.items():
        found = codes(items[item_id])
        assert ("reusable licence" in found) == (record["license"] in REUSABLE), item_id
        assert ("people tagged" in found) == bool(record["people"]), item_id
        assert ("notes" in found) == bool(record["notes"]), item_id
        located = record["is_public"] == 1 and record["geo"] is not None
        assert ("location public" in found) == located, item_id
        shared = not record["is_public"] and (record["is_friend"] or record["is_family"])
        assert ("friends or family" in found) == bool(shared), item_id
        # Uploaded as the datasets' photos were: FFHQ took reusable ones up to 2018, YFCC100M
        # Creative-Commons ones of 2004 to 2014.
        year = time.gmtime(record["date_upload"]).tm_year
        window = [r["text"] for r in items[item_id]["reasons"] if r["code"] == "crawl window"]
        assert bool(window) == (record["license"] in REUSABLE and year < 2019), item_id
        assert any("YFCC100M" in w for w in window) == (record["license"] in CREATIVE_COMMONS and
                                                         2004 <= year <= 2014), item_id
    people = next(i for i, r in truth.items() if len(r["people"]) > 1)
    text = next(r["text"] for r in items[people]["reasons"] if r["code"] == "people tagged")
    assert text.startswith(f"{len(truth[people]['people'])} people")


def test_the_report_document_has_the_agreed_shape(account):
    client, env, dest = account
    _, report, _ = audit(env, dest)
    assert set(report) == REPORT_KEYS
    assert report["dest"] == str(dest) and report["html"] is None and report["datasets"] == []
    assert report["faces_checked"] is False and report["detector"] is None
    assert "faces not checked" in report["faces_note"] and "--no-faces" in report["faces_note"]
    assert set(report["counts"]) == set(LEVELS) and sum(report["counts"].values()) == len(report["items"])
    nsid = owner(dest)["path_alias"] or owner(dest)["nsid"]
    rows = {r["id"]: r for r in catalog_rows(dest)}
    for item in report["items"]:
        assert set(item) == ITEM_KEYS
        assert item["risk"] in LEVELS and item["reasons"]
        assert all(set(r) == {"code", "text"} and r["text"] for r in item["reasons"])
        assert item["faces"] is None and item["width"] is None and item["height"] is None
        assert item["path"] == rows[item["id"]]["path"] and item["path"].startswith("photos/")
        assert item["url"] == f"https://www.flickr.com/photos/{nsid}/{item['id']}/"
        assert item["title"] == rows[item["id"]]["title"] and item["media"] == rows[item["id"]]["media"]
    order = [LEVELS.index(i["risk"]) for i in report["items"]]
    assert order == sorted(order)  # the riskiest first
    # What the catalog keeps of it: every item's level and reasons, and the selection by level.
    kept = {r["photo_id"]: r for r in catalog_rows(dest, "SELECT * FROM audit")}
    assert {i: (k["risk"], json.loads(k["reasons"])) for i, k in kept.items()} == \
        {i["id"]: (i["risk"], i["reasons"]) for i in report["items"]}
    cat = Catalog.open(dest, read_only=True)
    try:
        assert cat.audit_ids(["high", "medium"]) == {i["id"] for i in report["items"]
                                                     if i["risk"] in ("high", "medium")} != set()
        assert cat.audit_ids([]) == set()
    finally:
        cat.close()


def test_the_terminal_gets_a_summary_without_control_characters(account):
    client, env, dest = account
    _, report, _ = audit(env, dest)
    done = exodus(["audit", str(dest), "--no-faces"], env)
    assert done.returncode == 0, done.stderr
    for level in LEVELS:
        assert re.search(rf"^  {level} +{report['counts'][level]}$", done.stdout, re.M), done.stdout
    assert "faces not checked" in done.stdout and "Riskiest:" in done.stdout
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout  # the sandbox's hostile titles


def test_words_replace_the_default_list(account, tmp_path):
    client, env, dest = account
    truth = records(client)
    _, report, _ = audit(env, dest)
    words = {i["id"]: r["text"] for i in report["items"] for r in i["reasons"] if r["code"] == "people words"}
    # "family" is one of the sandbox's tags and one of exodus's words; "garden" is neither's.
    family = {i for i, r in truth.items() if any(t["clean"] == "family" for t in r["tags"] if not t["machine"])}
    assert family and all('"family"' in words[i] for i in family)
    assert not any('"garden"' in text for text in words.values())
    mine = tmp_path / "words.txt"
    mine.write_text("# only this\nGarden\n", encoding="utf-8")
    _, report, _ = audit(env, dest, "--words", str(mine))
    words = {i["id"]: r["text"] for i in report["items"] for r in i["reasons"] if r["code"] == "people words"}
    garden = {i for i, r in truth.items() if re.search(r"\bgarden\b", r["title"] or "", re.I)
              or re.search(r"\bgarden\b", r["description"] or "", re.I)}
    assert garden and set(words) == garden
    assert all(text == 'words about people: "garden"' for text in words.values())


# --- the original's own EXIF ----------------------------------------------------------------

def with_gps(path, lat: tuple, lon: tuple) -> None:
    """The original re-encoded by Pillow with a GPS block in its EXIF (north, west)."""
    with Image.open(path) as image:
        exif = image.getexif()
        exif.get_ifd(0x8825).update({1: "N", 2: lat, 3: "W", 4: lon})
        image.load()
        image.save(path, "JPEG", exif=exif, quality=90)


def test_gps_in_the_original_is_found_where_flickr_hides_the_location(account, tmp_path):
    client, env, dest = private_copy(account, tmp_path)
    truth = records(client)
    _, report, _ = audit(env, dest)
    assert not any("exif gps" in codes(i) for i in report["items"])  # the sandbox writes no GPS
    rows = {r["id"]: r for r in catalog_rows(dest)}
    hidden = sorted(i for i, r in truth.items() if r["media"] == "photo" and rows[i]["path"].endswith(".jpg")
                    and r["is_public"] == 1 and r["geo"] is None)
    assert hidden
    with_gps(dest / rows[hidden[0]]["path"], (45.0, 48.0, 36.0), (15.0, 58.0, 12.0))
    code, report, _ = audit(env, dest)
    assert code == 0, report["problems"]
    found = {i["id"]: r["text"] for i in report["items"] for r in i["reasons"] if r["code"] == "exif gps"}
    assert list(found) == [hidden[0]]
    assert "(45.81000, -15.97000)" in found[hidden[0]] and "Flickr does not show it" in found[hidden[0]]
    assert by_id(report)[hidden[0]]["risk"] in ("high", "medium")  # public, and the file says where


def test_an_original_pillow_cannot_open_is_one_line_and_the_audit_goes_on(account, tmp_path):
    client, env, dest = private_copy(account, tmp_path)
    rows = [r for r in catalog_rows(dest) if r["media"] == "photo"]
    broken = rows[0]
    (dest / broken["path"]).write_bytes(b"not a picture at all" * 100)
    code, report, stderr = audit(env, dest)
    assert code == 1 and not report["ok"]
    (line,) = report["problems"]
    assert line.startswith(f"{broken['path']} (item {broken['id']}): Pillow cannot open it") and "\n" not in line
    assert len(report["items"]) == len(catalog_rows(dest))  # every item still audited


# --- dataset lists --------------------------------------------------------------------------

def test_dataset_matches_rank_exposed_and_bad_lists_are_one_line_each(account, tmp_path):
    client, env, dest = account
    me = owner(dest)
    truth = records(client)
    private = sorted(i for i, r in truth.items() if not (r["is_public"] or r["is_friend"] or r["is_family"]))
    public = sorted(i for i, r in truth.items() if r["is_public"] == 1)
    in_ffhq, in_yfcc, cut_off = [private[0], public[0]], public[1], public[2]
    ffhq = tmp_path / "ffhq-dataset-v2.json"
    rows = others(400, 11)
    # Two of the account's items, and a photo of the account that this backup does not hold.
    rows[100:100] = [(in_ffhq[0], me["nsid"]), (in_ffhq[1], me["nsid"]), ("41000000707", me["nsid"])]
    entries = ffhq_entries(rows)
    ffhq.write_text(json.dumps(entries, indent=2))
    yfcc = tmp_path / "yfcc100m_dataset.bz2"
    rows = others(600, 12)
    rows.insert(300, (in_yfcc, me["nsid"]))
    with bz2.open(yfcc, "wt") as out:
        out.writelines(yfcc_row(n, photo, nsid, single=True) for n, (photo, nsid) in enumerate(rows))
    yfcc_rows = len(rows)
    prose = tmp_path / "notes.txt"
    prose.write_text("My notes about the datasets.\nNothing here is a list.\n" * 20)
    truncated = tmp_path / "yfcc100m_dataset-1.bz2"
    rows = others(900, 13) + [(cut_off, me["nsid"])]
    whole = bz2.compress("".join(yfcc_row(n, p, o, single=True) for n, (p, o) in enumerate(rows)).encode())
    truncated.write_bytes(whole[:len(whole) // 2])

    code, report, _ = audit(env, dest, "--dataset", str(ffhq), "--dataset", str(prose), "--dataset", str(yfcc),
                            "--dataset", str(truncated))
    assert code == 1 and not report["ok"]
    exposed = {i["id"]: i for i in report["items"] if i["risk"] == "exposed"}
    assert set(exposed) == {*in_ffhq, in_yfcc} and report["counts"]["exposed"] == 3
    assert {i["id"] for i in report["items"][:3]} == set(exposed)  # the riskiest first
    for item_id, dataset, where in ((in_ffhq[0], "FFHQ", ffhq), (in_ffhq[1], "FFHQ", ffhq),
                                    (in_yfcc, "YFCC100M", yfcc)):
        (text,) = [r["text"] for r in exposed[item_id]["reasons"] if r["code"] == "dataset"]
        assert text == f"in a dataset list: {dataset} ({where}, by photo id)"
        assert exposed[item_id]["reasons"][0]["code"] == "dataset"  # the strongest reason first
    assert [(d["file"], d["dataset"], d["compression"]) for d in report["datasets"][:3]] == \
        [(str(ffhq), "FFHQ", "plain"), (str(prose), None, "plain"), (str(yfcc), "YFCC100M", "bz2")]
    assert report["datasets"][0]["rows"] == len(entries) and report["datasets"][2]["rows"] == yfcc_rows
    unknown, ended = report["problems"]
    assert unknown.startswith(f"{prose}: ") and "format exodus does not know" in unknown
    assert ended.startswith(f"{truncated}: ") and "ends early" in ended
    assert {r["photo_id"] for r in catalog_rows(dest, "SELECT photo_id FROM audit WHERE risk = 'exposed'")} == \
        set(exposed)


def test_a_missing_dataset_file_does_not_stop_the_audit(account, tmp_path):
    client, env, dest = account
    code, report, _ = audit(env, dest, "--dataset", str(tmp_path / "nowhere.json"))
    assert code == 1 and len(report["items"]) == len(records(client))
    (line,) = report["problems"]
    assert line.startswith(f"{tmp_path / 'nowhere.json'}: cannot be read")


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("content, says", [
    (b"", "names no word"), (b"# nothing but a comment\n\n", "names no word"),
    (b"family\n\xff\xfe broken\n", "is not UTF-8"), (b"\x00\x01\x02", "binary"),
    (b"family\n!!!\n", "line 2"), (b"x" * 200 + b"\n", "line 1"), (None, "cannot read"),
])
def test_a_bad_words_file_is_one_line_and_exit_2(account, tmp_path, content, says):
    client, env, dest = account
    words = tmp_path / "words.txt"
    if content is not None:
        words.write_bytes(content)
    before = catalog_rows(dest, "SELECT count(*) AS n FROM runs")
    code, report, stderr = audit(env, dest, "--words", str(words))
    assert code == 2 and report is None
    line = one_line(stderr)
    assert line.startswith("exodus: ") and f"--words {words}" in line and says in line
    assert catalog_rows(dest, "SELECT count(*) AS n FROM runs") == before  # stopped before DEST


@pytest.mark.parametrize("made, says", [(False, "is not a folder with an exodus backup"),
                                        (True, "holds no exodus backup")])
def test_a_folder_that_is_no_backup_is_one_line(account, tmp_path, made, says):
    dest = tmp_path / "elsewhere"
    if made:
        dest.mkdir()
    code, report, stderr = audit(account[1], dest)
    assert code == 2 and report is None and says in one_line(stderr)
    assert not (dest / "catalog.db").exists()


def test_a_catalog_of_a_newer_exodus_is_refused(account, tmp_path):
    _, env, dest = private_copy(account, tmp_path)
    conn = sqlite3.connect(dest / "catalog.db")
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    before = (dest / "catalog.db").read_bytes()
    code, report, stderr = audit(env, dest)
    assert code == 2 and "newer exodus" in one_line(stderr)
    assert (dest / "catalog.db").read_bytes() == before


def test_an_older_catalog_gains_the_audit_tables(account, tmp_path):
    _, env, dest = private_copy(account, tmp_path)
    conn = sqlite3.connect(dest / "catalog.db")
    conn.execute("DROP TABLE audit")
    conn.execute("DROP TABLE face_cache")
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    code, report, _ = audit(env, dest)
    assert code == 0
    assert len(catalog_rows(dest, "SELECT * FROM audit")) == len(report["items"])
    (version,) = catalog_rows(dest, "SELECT value FROM meta WHERE key = 'schema_version'")
    assert int(version["value"]) == schema.SCHEMA_VERSION == 5


def test_the_audit_takes_the_dest_lock(account):
    _, env, dest = account
    with DestLock(dest):
        code, report, stderr = audit(env, dest)
    assert code == 2 and "another exodus" in one_line(stderr)


@pytest.mark.skipif(HAS_FACES, reason="the faces module is here: --faces runs")
def test_faces_asked_for_without_the_detector_is_one_line(account):
    _, env, dest = account
    done = exodus(["audit", str(dest), "--json", "--faces"], env)
    assert done.returncode == 2 and "--faces: " in one_line(done.stderr) and not done.stdout


def test_html_writes_the_sheet(account):
    _, env, dest = account
    code, report, _ = audit(env, dest, "--html")
    assert code == 0 and report["html"] == str(dest / "audit.html") and (dest / "audit.html").is_file()


# --- the face cache -------------------------------------------------------------------------

def test_a_cache_row_of_a_hostile_catalog_is_only_a_miss(account, tmp_path):
    _, _, dest = private_copy(account, tmp_path)
    cat = Catalog.open(dest)
    try:
        cat.remember_faces("d@1", [("a" * 64, 640, 480, [[1, 2, 30, 40]])])
        bad = {"b": ("not json", 640, 480), "c": ('[[1, 2, "x", 4]]', 640, 480), "d": ("[[1, 2, 3, 4]]", "wide", 480),
               "e": ('{"x": 1}', 640, 480), "f": ("[[1, 2, 3]]", 640, 480), "g": ("[[1, 2, 3, 4]]", -1, 480)}
        with cat.tx() as conn:
            conn.executemany("INSERT INTO face_cache (sha256, detector, width, height, boxes) VALUES (?, 'd@1', ?, ?, ?)",
                             [(k * 64, w, h, boxes) for k, (boxes, w, h) in bad.items()])
        assert cat.known_faces("d@1", [k * 64 for k in "abcdefg"]) == {"a" * 64: (640, 480, [[1, 2, 30, 40]])}
    finally:
        cat.close()


def test_faces_found_are_remembered_per_file_and_detector(account, tmp_path):
    """The catalog's half of the cache, on its own: what is remembered is what is known."""
    _, _, dest = private_copy(account, tmp_path)
    cat = Catalog.open(dest)
    try:
        cat.remember_faces("d@1", [("a" * 64, 640, 480, [[1, 2, 30, 40]]), ("b" * 64, None, None, None)])
        cat.remember_faces("d@2", [("a" * 64, 640, 480, [])])
        assert cat.known_faces("d@1", ["a" * 64, "b" * 64, "c" * 64]) == {
            "a" * 64: (640, 480, [[1, 2, 30, 40]]), "b" * 64: (None, None, None)}
        assert cat.known_faces("d@2", ["a" * 64, "b" * 64]) == {"a" * 64: (640, 480, [])}
    finally:
        cat.close()


@pytest.mark.skipif(not HAS_FACES, reason="needs flickr_exodus.audit.faces (part 'faces' of issue 20)")
def test_a_second_run_looks_only_at_new_files(account, tmp_path):
    from flickr_exodus.audit import faces
    if faces.missing():
        pytest.skip(faces.missing())
    _, env, dest = private_copy(account, tmp_path)
    pictures = len({r["sha256"] for r in catalog_rows(dest) if r["media"] == "photo"})
    runs = []
    for _ in range(2):
        done = exodus(["audit", str(dest), "--json", "--faces"], env)
        assert done.returncode == 0, done.stderr
        runs.append(json.loads(done.stdout))
    assert runs[0]["faces_checked"] and runs[0]["detector"] == faces.DETECTOR
    assert runs[0]["faces_note"].startswith(f"{pictures} pictures looked at, 0 known")
    assert runs[1]["faces_note"].startswith(f"0 pictures looked at, {pictures} known")
    assert [i["faces"] for i in runs[0]["items"]] == [i["faces"] for i in runs[1]["items"]]
