"""A slow, endless or bloated answer cannot hold a run, its memory or its disk: the
sandbox trickles bodies a byte at a time, sends bodies without end and descriptions
beyond the API cap, and an export carries a zip bomb. Each run ends within a bound
(the subprocess timeout, with the knobs small), the items are failed by name, and no
file grows past its cap."""

from __future__ import annotations

import json
import zipfile

from conftest import catalog_rows, exodus, exodus_env
from test_import_export import export, run_import

# A stall: under 1000 bytes within half a second (the trickle sends 20 bytes a second).
STALL = {"EXODUS_STALL_SECONDS": "0.5", "EXODUS_STALL_BYTES": "1000"}
BOUND = 75  # seconds: far beyond what the runs need with these knobs, far below a trickle's end


def backup(client, tmp_path, *args, **env):
    dest = tmp_path / "dest"
    done = exodus(["backup", str(dest), "--json", *args], exodus_env(client, tmp_path, **env), timeout=BOUND)
    assert "Traceback" not in done.stderr, done.stderr
    return dest, done


def failed_reasons(done) -> dict[str, str]:
    return {f["id"]: f["reason"] for f in json.loads(done.stdout)["failed"]}


def test_a_trickling_cdn_fails_its_items_by_name_and_the_run_ends(make_sandbox, tmp_path):
    client = make_sandbox(photos=3, videos=0, albums=1, seed=161, media_size=(3_000, 4_000),
                          trickle=0.05, trickle_on=["cdn"])
    dest, done = backup(client, tmp_path, "--no-deep", **STALL)
    assert done.returncode == 1, done.stderr
    reasons = failed_reasons(done)
    assert set(reasons) == set(client.manifest()), reasons
    assert all("stalled" in reason for reason in reasons.values()), reasons
    # What trickled in stays as a .part to resume from, a few bytes, never the file.
    assert all(p.stat().st_size < 3_000 for p in dest.rglob("*.part"))
    assert client.stats()["trickled"] >= 3


def test_a_cdn_steady_under_the_average_floor_fails_its_items_as_stalled(make_sandbox, tmp_path):
    """About 2 KB/s, steadily: far above the window rule here (50 bytes in half a second),
    so only the average floor (8,000 bytes/s here) stops it. Without the floor this run
    downloads every file, at 2 KB/s; a hostile CDN so declaring 4 GiB holds an item weeks."""
    client = make_sandbox(photos=2, videos=1, albums=1, seed=168, media_size=(20_000, 25_000),
                          video_size=(20_000, 25_000), video_access="open", trickle=0.0005, trickle_on=["cdn"])
    dest, done = backup(client, tmp_path, "--no-deep", EXODUS_STALL_SECONDS="0.5", EXODUS_STALL_BYTES="50",
                        EXODUS_MIN_RATE="8000")
    assert done.returncode == 1, done.stderr
    reasons = failed_reasons(done)
    assert set(reasons) == set(client.manifest()), reasons
    assert all("stalled" in r and "EXODUS_MIN_RATE" in r for r in reasons.values()), reasons
    rows = catalog_rows(dest)
    assert rows and all(r["state"] == "failed" and r["sha256"] is None for r in rows), rows
    # Each attempt resumed the .part, never past what the CDN declared.
    assert all(p.stat().st_size < 25_000 for p in dest.rglob("*.part"))


def test_a_trickling_api_method_fails_its_item_and_the_run_goes_on(make_sandbox, tmp_path):
    client = make_sandbox(photos=3, videos=1, albums=1, seed=162, media_size=(3_000, 4_000),
                          video_size=(20_000, 30_000), video_access="open",
                          trickle=0.05, trickle_on=["flickr.photos.getSizes"])
    dest, done = backup(client, tmp_path, "--no-deep", **STALL)
    assert done.returncode == 1, done.stderr
    rows = {r["id"]: r for r in catalog_rows(dest)}
    videos = {i for i, r in rows.items() if r["media"] == "video"}
    reasons = failed_reasons(done)
    assert set(reasons) == videos and "stalled" in reasons.popitem()[1]
    assert all(r["state"] == "downloaded" for i, r in rows.items() if i not in videos)


def test_a_trickling_api_ends_the_run_with_one_line(make_sandbox, tmp_path):
    client = make_sandbox(photos=2, videos=0, albums=1, seed=163, trickle=0.05, trickle_on=["api"])
    _, done = backup(client, tmp_path, **STALL)
    assert done.returncode == 1
    problem = json.loads(done.stdout)["notes"][-1]
    assert "stalled" in problem and "again to resume" in problem, problem


def test_an_endless_body_fails_its_item_and_fills_no_disk(make_sandbox, tmp_path):
    # bandwidth keeps a client without caps from filling this machine's disk quickly.
    client = make_sandbox(photos=3, videos=1, albums=1, seed=164, media_size=(3_000, 4_000),
                          video_size=(20_000, 30_000), video_access="open", endless_cdn=True,
                          bandwidth=8_000_000)
    dest, done = backup(client, tmp_path, "--no-deep", EXODUS_PHOTO_MAX_BYTES="200000",
                        EXODUS_VIDEO_MAX_BYTES="400000")
    assert done.returncode == 1, done.stderr
    reasons = failed_reasons(done)
    assert set(reasons) == set(client.manifest()), reasons
    assert all("went past" in reason and "no length declared" in reason for reason in reasons.values())
    assert not list(dest.rglob("*.part"))
    assert sum(p.stat().st_size for p in (dest / "photos").rglob("*") if p.is_file()) < 100_000
    assert client.stats()["endless"] >= 4


def test_an_api_answer_over_the_cap_is_one_clear_line(make_sandbox, tmp_path):
    client = make_sandbox(photos=3, videos=0, albums=1, seed=165)
    for item_id in client.manifest():  # 3 x 600 kB of description in one listing page
        client.control("edit", id=item_id, description="long " * 120_000)
    _, done = backup(client, tmp_path, EXODUS_API_MAX_BYTES="1000000")
    assert done.returncode == 2, done.stderr
    problem = json.loads(done.stdout)["notes"][-1]
    assert "EXODUS_API_MAX_BYTES" in problem and "1000000" in problem and "\n" not in problem, problem


def _bomb(zip_path, name: str, head: bytes, size: int, fill: bytes = b"\0") -> None:
    """An entry of `size` bytes that deflates to about a thousandth of that."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(zip_path, "a") as archive:
        with archive.open(info, "w", force_zip64=True) as out:
            out.write(head)
            block = fill * (1 << 20)
            for _ in range(size >> 20):
                out.write(block)


def test_a_zip_bomb_entry_is_refused_for_that_entry(make_sandbox, tmp_path):
    client = make_sandbox(photos=4, videos=0, albums=1, seed=166, media_size=(3_000, 4_000))
    env = exodus_env(client, tmp_path)
    written = export(client, tmp_path / "export")
    media = tmp_path / "export" / written["media"][0]
    with zipfile.ZipFile(media) as archive:
        victim = next(n for n in archive.namelist() if n.endswith("_o.jpg"))
        kept = [(info, archive.read(info)) for info in archive.infolist() if info.filename != victim]
    with zipfile.ZipFile(media, "w") as archive:
        for info, data in kept:
            archive.writestr(info, data)
    _bomb(media, victim, b"\xff\xd8\xff\xe0", 200 << 20)  # a JPEG's start, then 200 MB of zeros
    assert media.stat().st_size < 2 << 20
    dest = tmp_path / "dest"
    code, report, done = run_import(env, dest, tmp_path / "export")
    assert code == 1, done.stderr
    bad = [p for p in report["problems"] if p["kind"] == "bad_media"]
    assert len(bad) == 1 and "zip bomb" in bad[0]["detail"] and victim in bad[0]["detail"], report["problems"]
    row = catalog_rows(dest, "SELECT state FROM photos WHERE id = ?", [bad[0]["id"]])[0]
    assert row["state"] == "pending"
    assert max(p.stat().st_size for p in dest.rglob("*") if p.is_file()) < 10 << 20
    assert report["counts"]["filled"] == 3


def test_a_zip_bomb_among_the_metadata_ends_the_import_with_one_line(make_sandbox, tmp_path):
    client = make_sandbox(photos=2, videos=0, albums=1, seed=167, media_size=(3_000, 4_000))
    env = exodus_env(client, tmp_path)
    export(client, tmp_path / "export")
    _bomb(tmp_path / "export" / "zz-bomb.zip", "photo_1.json", b"{}", 64 << 20, b" ")  # valid JSON, 64 MB
    done = exodus(["import-export", str(tmp_path / "dest"), *map(str, sorted((tmp_path / "export").iterdir()))],
                  env, timeout=BOUND)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "zip bomb" in done.stderr, done.stderr
