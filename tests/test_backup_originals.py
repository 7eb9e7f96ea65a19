"""The true original or an honest account of why not: video originals through the owner's
browser session (--cookies), a poster JPEG never taken for a video, and free accounts
(the largest allowed size kept, marked original_unavailable)."""

from __future__ import annotations

import json

from conftest import catalog_rows, exodus, exodus_env, sha256_file


def cookies_file(path, session_cookie: str, domain: str = ".flickr.com", expires: int = 0):
    name, _, value = session_cookie.partition("=")
    path.write_text("# Netscape HTTP Cookie File\n# exported by a browser extension\n\n"
                    f"#HttpOnly_.www.example.com\tTRUE\t/\tTRUE\t0\tother\tnot-flickr\n"
                    f"{domain}\tTRUE\t/\tTRUE\t{expires}\t{name}\t{value}\n", encoding="utf-8")
    return path


def test_video_originals_need_the_session_and_come_whole_with_it(make_sandbox, tmp_path):
    # The sandbox's default, as on Flickr: /play/orig/ only for the owner's browser session.
    client = make_sandbox(photos=6, videos=3, albums=1, seed=51, media_size=(2_000, 3_000),
                          video_size=(30_000, 60_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    first = exodus(["backup", str(dest), "--json"], env)
    assert first.returncode == 3, first.stderr
    summary = json.loads(first.stdout)
    assert summary["counts"]["needs_manual"] == 3
    assert any("--cookies" in note for note in summary["notes"])
    status = exodus(["status", str(dest)], env)
    assert status.returncode == 3 and "--cookies" in status.stdout
    # Each such video is listed with its Flickr page.
    for video in catalog_rows(dest, "SELECT id FROM photos WHERE media = 'video'"):
        line = next(line for line in status.stdout.splitlines() if video["id"] in line)
        assert "needs_manual" in line and "/photos/" in line and line.rstrip().endswith(f"/{video['id']}/")

    jar = cookies_file(tmp_path / "cookies.txt", client.info["session_cookie"])
    second = exodus(["backup", str(dest), "--json", "--cookies", str(jar)], env)
    assert second.returncode == 0, second.stderr
    manifest = client.manifest()
    for row in catalog_rows(dest, "SELECT * FROM photos WHERE media = 'video'"):
        assert row["state"] == "downloaded"
        assert row["sha256"] == manifest[row["id"]]["sha256"] == sha256_file(dest / row["path"])
        assert row["path"].endswith("." + manifest[row["id"]]["original_format"])
    # The session cookie's value never reaches the output or the logs.
    secret = client.info["session_cookie"].partition("=")[2]
    assert secret not in second.stdout + second.stderr
    assert not [p for p in (dest / "logs").iterdir() if secret in p.read_text(errors="replace")]


def test_a_poster_jpeg_served_as_the_video_is_caught(make_sandbox, tmp_path):
    client = make_sandbox(photos=4, videos=2, albums=1, seed=52, video_access="open", poster_as_video=True,
                          media_size=(2_000, 3_000))
    dest = tmp_path / "dest"
    done = exodus(["backup", str(dest), "--json"], exodus_env(client, tmp_path))
    assert done.returncode == 1, done.stderr
    failed = {f["id"]: f["reason"] for f in json.loads(done.stdout)["failed"]}
    videos = {r["id"] for r in catalog_rows(dest, "SELECT id FROM photos WHERE media = 'video'")}
    assert set(failed) == videos
    assert all("jpg" in reason and "video" in reason for reason in failed.values())
    assert not [p for p in dest.rglob("*") if p.suffix in (".mp4", ".mov", ".part")]


def test_bad_cookies_files_are_one_line_usage_errors(sb, tmp_path):
    env = exodus_env(sb, tmp_path)
    cases = {
        "missing": tmp_path / "nope.txt",
        "not a cookies file": tmp_path / "notes.txt",
        "no flickr cookies": cookies_file(tmp_path / "other.txt", "a=b", domain=".example.org"),
        "expired": cookies_file(tmp_path / "old.txt", sb.info["session_cookie"], expires=1_000_000_000),
    }
    cases["not a cookies file"].write_text("hello\nworld\n")
    for case, path in cases.items():
        done = exodus(["backup", str(tmp_path / "dest"), "--cookies", str(path)], env)
        assert done.returncode == 2, (case, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr, case
        assert str(path) in done.stderr, case
    assert "expired" in done.stderr


def test_free_account_keeps_the_largest_allowed_size_and_says_what_to_do(make_sandbox, tmp_path):
    client = make_sandbox(photos=30, videos=2, albums=2, seed=53, free_account=True,
                          media_size=(3_000, 6_000), video_size=(20_000, 30_000))
    dest = tmp_path / "dest"
    done = exodus(["backup", str(dest), "--json"], exodus_env(client, tmp_path))
    assert done.returncode == 3, done.stderr
    summary = json.loads(done.stdout)
    assert any("account export" in note for note in summary["notes"])
    records = {r["id"]: r for r in client.http.get(f"{client.base}/__sandbox__/records").json()["items"]}
    manifest = client.manifest()
    cc = {1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16}
    kept = originals = 0
    for row in catalog_rows(dest):
        want = records[row["id"]]
        path = dest / row["path"]
        assert sha256_file(path) == row["sha256"]
        if row["state"] == "downloaded":
            # Creative-Commons photos (and photos no larger than 1024 px) keep their originals.
            assert row["media"] == "photo"
            assert want["license"] in cc or max(row["o_width"], row["o_height"]) <= 1024
            assert row["sha256"] == manifest[row["id"]]["sha256"]
            originals += 1
        else:
            assert row["state"] == "original_unavailable", row
            assert row["kept_size"] and ".size-" in row["path"] and row["reason"]
            # Byte for byte what Flickr serves at that size, and never the original.
            served = client.http.get(row["fallback_url"], timeout=30)
            assert served.status_code == 200 and served.content == path.read_bytes()
            assert row["sha256"] != manifest[row["id"]]["sha256"]
            head = path.read_bytes()[:12]
            assert head[4:8] == b"ftyp" if row["media"] == "video" else head[:3] == b"\xff\xd8\xff"
            kept += 1
    assert kept and originals
    assert summary["counts"]["original_unavailable"] == kept
