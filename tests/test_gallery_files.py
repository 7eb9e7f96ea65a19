"""The gallery's files beside a backup (issue 19): `exodus verify` knows them (never strays,
never moved by --repair) and `exodus push` carries them to a file store, leftovers and
links aside, and sends them again only when they changed. The files are placed here by
the test (the gallery itself is built elsewhere): what matters is where they sit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import backed_up, exodus, private_copy, sha256_file
from flickr_exodus.gallery.datasette import write_metadata
from flickr_exodus.sandbox import SandboxConfig

CONFIG = SandboxConfig(photos=6, videos=0, albums=1, seed=23, media_size=(3_000, 5_000))
# Where the gallery puts things (the shared contract of issue 19), with made-up contents.
GALLERY = {
    "index.html": "<!doctype html><title>My Flickr</title>",
    "README.txt": "What this folder is.\n",
    "audit.html": "<!doctype html><title>Audit</title>",
    "site/style.css": "body { margin: 0 }\n",
    "site/photos/50000000001.html": "<!doctype html><title>A photo</title>",
    "site/albums.html": "<!doctype html><title>Albums</title>",
    "site/data/search-0.js": "register({});\n",
    "site/img/50000000001-ab12cd-320.jpg": "\xff\xd8 not really a JPEG",
}
LEFTOVERS = ("site/img/50000000002-ef34-320.jpg.part", "site/pages.json.tmp")


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    with backed_up(tmp_path_factory.mktemp("galleryfiles"), CONFIG) as done:
        yield done


def place(dest: Path, outside: Path) -> dict[str, str]:
    """The gallery's files, leftovers of an interrupted build, and links leading out of
    DEST; the digests of what belongs on a target."""
    for relative, text in GALLERY.items():
        (dest / relative).parent.mkdir(parents=True, exist_ok=True)
        (dest / relative).write_text(text, encoding="utf-8")
    write_metadata(dest, "someone")
    for relative in LEFTOVERS:
        (dest / relative).write_text("half", encoding="utf-8")
    outside.mkdir()
    (outside / "secret.txt").write_text("not the backup's", encoding="utf-8")
    os.symlink(outside / "secret.txt", dest / "site" / "linked.txt")
    os.symlink(outside, dest / "site" / "linked-folder")
    return {relative: sha256_file(dest / relative) for relative in [*GALLERY, "metadata.yml"]}


def run(env: dict, *args: str) -> tuple[int, dict]:
    done = exodus([*args, "--json"], env)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_verify_never_calls_the_gallery_a_stray_and_repair_leaves_it(account, tmp_path):
    _, env, dest = private_copy(account, tmp_path)
    digests = place(dest, tmp_path / "outside")
    (dest / "photos" / "stray.bin").write_bytes(b"nobody knows me")  # the check does look
    code, report = run(env, "verify", str(dest))
    assert {(p["kind"], p["id"]) for p in report["problems"]} == {("stray", "photos/stray.bin")}, report
    code, report = run(env, "verify", str(dest), "--repair")
    assert not (dest / "photos" / "stray.bin").exists()
    for relative, digest in digests.items():
        assert sha256_file(dest / relative) == digest, relative
    moved = [p.relative_to(dest).as_posix() for p in (dest / "unknown-files").rglob("*") if p.is_file()]
    assert moved and all("site" not in m and "index.html" not in m for m in moved), moved
    code, report = run(env, "verify", str(dest))
    assert code == 0 and report["problems"] == [], report


def test_push_carries_the_gallery_and_sends_only_what_changed(account, tmp_path):
    _, env, dest = private_copy(account, tmp_path)
    digests = place(dest, tmp_path / "outside")
    folder = tmp_path / "store"
    code, report = run(env, "push", str(dest), f"rclone:{folder}")
    assert code == 0, report
    stored = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert set(digests) <= stored
    for relative, digest in digests.items():
        assert sha256_file(folder / relative) == digest, relative
    assert not stored & set(LEFTOVERS)
    assert not {s for s in stored if "linked" in s}  # nothing through a link out of DEST

    code, report = run(env, "push", str(dest), f"rclone:{folder}")
    assert report["counts"]["sent"] == 0, report
    page = dest / "site" / "photos" / "50000000001.html"
    page.write_text(GALLERY["site/photos/50000000001.html"].replace("photo", "PHOTO"), encoding="utf-8")
    assert page.stat().st_size == len(GALLERY["site/photos/50000000001.html"])  # the same size, new bytes
    code, report = run(env, "push", str(dest), f"rclone:{folder}")
    assert report["counts"]["sent"] == 1, report
    assert (folder / "site" / "photos" / "50000000001.html").read_bytes() == page.read_bytes()
