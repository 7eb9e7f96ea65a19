"""`exodus gallery` against what a hostile review found: links planted where the gallery writes
or sweeps, locations a subset must not publish, headers that cost the whole image, catalogs
crafted to break the pages, tags that share a page, leftovers of a killed build, and the
user's own files at the top of DEST. One small sandbox backup, copied per test."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

from conftest import backed_up, catalog_rows, exodus, private_copy
from flickr_exodus.gallery import draw, exif, owned
from flickr_exodus.gallery.model import slug
from flickr_exodus.sandbox import SandboxConfig
from test_errors import one_line

GPS_IFD = 0x8825


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    config = SandboxConfig(photos=10, videos=1, albums=2, seed=5, media_size=(6_000, 12_000),
                           video_size=(20_000, 30_000), video_access="oauth")
    with backed_up(tmp_path_factory.mktemp("harden"), config) as found:
        yield found


def run(env, *args) -> subprocess.CompletedProcess:
    return exodus(["gallery", *map(str, args), "--json"], env)


def built(env, *args) -> dict:
    done = run(env, *args)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


def sql(dest: Path, statement: str, params=()) -> None:
    with sqlite3.connect(dest / "catalog.db") as conn:
        conn.execute(statement, params)


def located_public(dest: Path) -> list[dict]:
    return [r for r in catalog_rows(dest) if r["is_public"] == 1 and r["media"] == "photo"
            and r["latitude"] is not None and r["sha256"]]


# --- 1. a linked originals folder --------------------------------------------------------
def test_a_linked_originals_folder_is_refused_and_what_it_leads_to_is_kept(account, tmp_path):
    client, env, dest = private_copy(account, tmp_path)
    out, elsewhere = tmp_path / "public", tmp_path / "elsewhere"
    listed = tmp_path / "ids.txt"
    listed.write_text("1\n")  # no such item: nothing to copy, only the sweep would run
    built(env, dest, "--ids", listed, "--out", out)
    elsewhere.mkdir()
    (elsewhere / "precious.jpg").write_bytes(b"not the gallery's")
    if (out / "originals").is_dir():
        os.rmdir(out / "originals")
    os.symlink(elsewhere, out / "originals")
    done = run(env, dest, "--ids", listed, "--out", out)
    assert done.returncode == 2 and "originals" in one_line(done)
    assert (elsewhere / "precious.jpg").read_bytes() == b"not the gallery's"


# --- 2. one symlink-safe write --------------------------------------------------------------
def test_a_link_planted_at_a_temporary_name_is_never_written_through(account, tmp_path):
    client, env, dest = private_copy(account, tmp_path)
    built(env, dest)
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    planted = [dest / "site/data/search/.meta.js.tmp", dest / "site/data/search/meta.js.tmp",
               dest / "site/data/links/.p-00.js.tmp", dest / "site/data/links/p-00.js.tmp",
               dest / "site/.search.html.tmp", dest / "site/search.html.tmp", dest / "site/img/renditions.txt.tmp"]
    for link in planted:
        os.symlink(victim, link)
    for rebuilt in ("site/data/search/meta.js", "site/data/links/p-00.js", "site/search.html",
                    "site/img/renditions.txt"):
        (dest / rebuilt).unlink()
    (dest / "site/data/findable.sha256").unlink()  # the index is made again
    built(env, dest)
    assert victim.read_text() == "mine"
    for rebuilt in ("site/data/search/meta.js", "site/data/links/p-00.js", "site/search.html",
                    "site/img/renditions.txt"):
        assert not (dest / rebuilt).is_symlink() and (dest / rebuilt).stat().st_size > 0
    assert not any(os.path.lexists(link) for link in planted)  # replaced, or swept as leftovers


# --- 3. locations in a subset -------------------------------------------------------------
def test_a_subset_shows_a_location_only_where_flickr_says_it_is_public(account, tmp_path):
    client, env, dest = private_copy(account, tmp_path)
    hidden, shown, unsaid = located_public(dest)[:3]
    sql(dest, "UPDATE photos SET geo_perms = ? WHERE id = ?",
        [json.dumps({"ispublic": 0, "iscontact": 1, "isfriend": 0, "isfamily": 0}), hidden["id"]])
    sql(dest, "UPDATE photos SET geo_perms = ? WHERE id = ?",
        [json.dumps({"ispublic": 1, "iscontact": 0, "isfriend": 0, "isfamily": 0}), shown["id"]])
    sql(dest, "UPDATE photos SET geo_perms = NULL WHERE id = ?", [unsaid["id"]])
    out = tmp_path / "public"
    built(env, dest, "--only", "public", "--out", out)
    sums = (out / "site/SHA256SUMS").read_text()
    assert "location is private" in (out / "README.txt").read_text()
    for row in (hidden, unsaid):
        page = (out / f"site/photos/{row['id']}.html").read_text()
        assert f"{row['latitude']:.6f}" not in page and "openstreetmap" not in page
        assert "stays private" in page and 'class="largest"' in page
        assert not list((out / "originals").glob(f"{row['id']}.*")) and row["id"] not in sums
    page = (out / f"site/photos/{shown['id']}.html").read_text()
    assert f"{shown['latitude']:.6f}" in page and "stays private" not in page
    assert list((out / "originals").glob(f"{shown['id']}.*")) and shown["id"] in sums
    full = built(env, dest)  # the owner's own gallery shows every location
    assert full["ok"] and f"{hidden['latitude']:.6f}" in (dest / f"site/photos/{hidden['id']}.html").read_text()


def jpeg(gps: bool) -> bytes:
    picture = Image.new("RGB", (64, 48), (200, 30, 30))
    found = Image.Exif()
    found[0x010F] = "Camera maker"
    if gps:
        found[GPS_IFD] = {1: "N", 2: (52.0, 22.0, 1.5), 3: "E", 4: (4.0, 53.0, 2.0)}
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", exif=found.tobytes())
    return buffer.getvalue()


def test_gps_in_a_header_is_found_and_renditions_carry_none(tmp_path):
    (tmp_path / "with.jpg").write_bytes(jpeg(gps=True))
    (tmp_path / "without.jpg").write_bytes(jpeg(gps=False))
    assert exif.has_gps(tmp_path, "with.jpg") and not exif.has_gps(tmp_path, "without.jpg")
    draw.renditions(str(tmp_path / "with.jpg"), [(32, str(tmp_path / "small.jpg"))])
    with Image.open(tmp_path / "small.jpg") as small:
        assert small.size[0] == 32 and not small.getexif().get_ifd(GPS_IFD) and GPS_IFD not in small.getexif()
        assert b"Exif" not in (tmp_path / "small.jpg").read_bytes()


# --- 4. EXIF of a PNG without decoding it --------------------------------------------------
def huge_png(path: Path, side: int = 12_000) -> None:
    """A grey PNG of side x side pixels, ~140 KB: written row by row, never held whole."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    squeeze, row = zlib.compressobj(9), b"\0" * (side + 1)
    body = b"".join(squeeze.compress(row) for _ in range(side)) + squeeze.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", body) + chunk(b"IEND", b""))


@pytest.mark.parametrize("side", [12_000, 9_000])  # beyond Pillow's bomb limit, and within it
def test_reading_a_pngs_exif_never_decodes_its_pixels(tmp_path, side):
    huge_png(tmp_path / "huge.png", side)
    assert (tmp_path / "huge.png").stat().st_size < 400_000
    probe = ("import resource, sys; from pathlib import Path; from flickr_exodus.gallery import exif; "
             "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
             "found = (exif.summary(Path(sys.argv[1])), exif.has_gps(Path(sys.argv[1]).parent, 'huge.png')); "
             "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, found)")
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "huge.png")], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert done.returncode == 0, done.stderr
    grown_kib, found = done.stdout.split(" ", 1)
    assert found.strip() == "([], False)"
    assert int(grown_kib) < 40_000  # decoding its pixels would take 80 to 140 MB


# --- 5. a crafted catalog ------------------------------------------------------------------
def photo_ids(dest: Path) -> list[str]:
    return [r["id"] for r in catalog_rows(dest) if r["media"] == "photo" and r["sha256"]]


def craft_size(dest: Path) -> str:
    pid = photo_ids(dest)[0]
    sql(dest, "UPDATE photos SET size = 'big' WHERE id = ?", [pid])
    return pid


def craft_version_size(dest: Path) -> str:
    row = next(r for r in catalog_rows(dest) if r["media"] == "photo" and r["sha256"])
    sql(dest, "INSERT INTO versions (photo_id, path, size, sha256, replaced_at) VALUES (?, ?, 'big', ?, ?)",
        [row["id"], row["path"], row["sha256"], "2020-01-01T00:00:00"])
    return row["id"]


def craft_album_dates(dest: Path) -> str:
    albums = catalog_rows(dest, "SELECT id FROM albums")
    sql(dest, "UPDATE albums SET date_create = 'yesterday' WHERE id = ?", [albums[0]["id"]])
    sql(dest, "UPDATE albums SET date_create = 1500000000 WHERE id = ?", [albums[1]["id"]])
    return photo_ids(dest)[0]


def craft_blobs(dest: Path) -> str:
    first, second, third = photo_ids(dest)[:3]
    sql(dest, "UPDATE photos SET date_taken = X'323031302d30312d3031' WHERE id = ?", [first])
    sql(dest, "UPDATE photos SET path = CAST(path AS BLOB) WHERE id = ?", [second])
    sql(dest, "UPDATE photos SET sha256 = CAST(sha256 AS BLOB) WHERE id = ?", [third])
    return first


def craft_deep_collections(dest: Path) -> str:
    album = catalog_rows(dest, "SELECT id FROM albums")[0]["id"]
    with sqlite3.connect(dest / "catalog.db") as conn:
        conn.execute("DELETE FROM collections")
        conn.executemany("INSERT INTO collections (id, parent_id, position, title) VALUES (?, ?, ?, ?)",
                         [(f"1-7{n:05d}", f"1-7{n - 1:05d}" if n else None, n, f"level {n}") for n in range(3000)])
        conn.execute("INSERT INTO collection_albums (collection_id, album_id, position) VALUES (?, ?, 0)",
                     ["1-702999", album])
        conn.execute("INSERT INTO collection_albums (collection_id, album_id, position) VALUES (?, ?, 0)",
                     ["1-700003", album])
    return photo_ids(dest)[0]


CRAFTED = {"size as text": craft_size, "version size as text": craft_version_size,
           "album dates mixed": craft_album_dates, "blobs": craft_blobs,
           "3000 levels of collections": craft_deep_collections}


@pytest.mark.parametrize("case", CRAFTED)
def test_a_crafted_catalog_gives_pages_not_a_traceback(account, tmp_path, case):
    client, env, dest = private_copy(account, tmp_path)
    pid = CRAFTED[case](dest)
    report = built(env, dest)
    assert report["ok"] and (dest / f"site/photos/{pid}.html").is_file()
    if case == "blobs":
        assert "<dt>Taken</dt><dd>unknown" in (dest / f"site/photos/{pid}.html").read_text()
    if case == "3000 levels of collections":
        page = (dest / "site/collections.html").read_text()
        assert "level 3<" in page and "level 2999<" not in page


def test_only_an_is_public_of_exactly_1_is_public(account, tmp_path):
    client, env, dest = private_copy(account, tmp_path)
    public = [r["id"] for r in catalog_rows(dest) if r["is_public"] == 1]
    sql(dest, "UPDATE photos SET is_public = 2 WHERE id = ?", [public[0]])
    sql(dest, "UPDATE photos SET is_public = 'yes' WHERE id = ?", [public[1]])
    out = tmp_path / "public"
    report = built(env, dest, "--only", "public", "--out", out)
    assert report["items"] == len(public) - 2
    assert not (out / f"site/photos/{public[0]}.html").exists()
    assert not (out / f"site/photos/{public[1]}.html").exists()


# --- 6. a subset's originals are copies, readable by all -----------------------------------
def test_a_subsets_originals_are_copies_and_its_files_are_published_modes(account, tmp_path):
    client, env, dest = private_copy(account, tmp_path)
    out = tmp_path / "public"
    built(env, dest, "--only", "public", "--out", out)
    originals = sorted((out / "originals").iterdir())
    assert originals
    first = originals[0]
    source = dest / next(r["path"] for r in catalog_rows(dest) if r["id"] == first.stem)
    assert not os.path.samefile(first, source)
    kept = source.read_bytes()
    first.unlink()
    os.link(source, first)  # as an earlier exodus left it
    built(env, dest, "--only", "public", "--out", out)
    assert not os.path.samefile(first, source) and first.read_bytes() == kept
    with open(first, "r+b") as f:  # an edit of the published copy
        f.write(b"XX")
    assert source.read_bytes() == kept
    for path in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))


# --- 7. tags never share a page --------------------------------------------------------------
def test_a_tag_that_looks_like_a_digested_name_gets_its_own_page():
    assert slug("foo-201a6b3053") != slug("Foo")
    assert slug("Foo").startswith("foo-") and slug("foo") == "foo" and slug("2024") == "2024"
    tags = ("foo", "Foo", "FOO", "foo-201a6b3053", "new york", "new-york")
    assert len({slug(t) for t in tags}) == len(tags)


# --- 8. leftovers of a killed build ---------------------------------------------------------
def test_a_rerun_removes_what_a_killed_build_left_half_written(account, tmp_path):
    client, env, dest = private_copy(account, tmp_path)
    built(env, dest)
    left = [dest / "site/photos/1.html.tmp", dest / "site/data/contexts/album-1.js.tmp",
            dest / "site/data/search/.t-00000000.js.tmp", dest / "site/stream/2020-01.html.tmp",
            dest / "index.html.tmp", dest / "site/style.css.tmp"]
    for path in left:
        path.write_text("half")
    users = [dest / "notes.tmp", dest / "photos" / "draft.tmp"]
    for path in users:
        path.parent.mkdir(exist_ok=True)
        path.write_text("the user's")
    built(env, dest)
    assert [path for path in left if path.exists()] == []
    assert all(path.read_text() == "the user's" for path in users)


# --- 9. the user's own files at the top of DEST -----------------------------------------------
def test_a_users_own_top_file_stops_the_gallery(account, tmp_path):
    client, env, dest = private_copy(account, tmp_path)
    built(env, dest)
    marks = {"index.html": owned.INDEX_MARK, "README.txt": owned.README_MARK, "metadata.yml": owned.METADATA_MARK}
    for name, mark in marks.items():
        ours = (dest / name).read_text()
        assert mark in ours
        (dest / name).write_text("my own notes\n")
        done = run(env, dest)
        assert done.returncode == 2 and name in one_line(done)
        assert (dest / name).read_text() == "my own notes\n"
        (dest / name).write_text(ours)
    (dest / "README.txt").unlink()
    built(env, dest)  # absent: the gallery writes it again
    assert (dest / "README.txt").read_text().startswith(owned.README_MARK)
