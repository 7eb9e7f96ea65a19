"""layout/writer.py, the one way a file lands in DEST: the catalog's commit comes before
the name, the name comes only with every byte (fsynced, dated), and a favorite, like any
download, streams through its .part instead of being held whole in memory."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import time

import aiohttp
import pytest
from aiohttp import web

from flickr_exodus.backup.download import cdn_policy
from flickr_exodus.backup.faves import download_faves
from flickr_exodus.catalog import Catalog
from flickr_exodus.layout import paths, writer
from flickr_exodus.net.limits import TooLarge
from flickr_exodus.progress import Progress
from threaded_app import ThreadedApp

JPEG = b"\xff\xd8\xff\xe0" + bytes(300_000)
HALF = 150_000


def test_the_commit_sees_the_part_and_the_name_comes_after_it_dated(tmp_path):
    file = writer.Part(tmp_path, "photos/2019/05/04/1_x.jpg")
    file.pour(io.BytesIO(JPEG))
    assert file.check("photo", "jpg") == "jpg" and file.have == len(JPEG)
    seen = {}

    def commit() -> None:  # the catalog's transition: the file is not under its name yet
        seen.update(part=file.part.exists(), final=file.target.exists(), sha=file.sha256)

    taken = writer.taken_epoch("2019-05-04 10:11:12")
    file.finish(commit, taken)
    assert seen == {"part": True, "final": False, "sha": hashlib.sha256(file.target.read_bytes()).hexdigest()}
    assert file.target.read_bytes() == JPEG and not file.part.exists()
    assert file.target.stat().st_mtime == taken == time.mktime((2019, 5, 4, 10, 11, 12, 0, 0, -1))


def test_the_wrong_format_or_too_many_bytes_leave_nothing_behind(tmp_path):
    file = writer.Part(tmp_path, "photos/undated/2_x.png")
    file.pour(io.BytesIO(JPEG))
    with pytest.raises(writer.WrongFormat, match="jpg"):
        file.check("photo", "png")
    capped = writer.Part(tmp_path, "photos/undated/3_x.jpg", cap=HALF)
    with pytest.raises(TooLarge):
        capped.pour(io.BytesIO(JPEG))
    assert capped.have <= HALF and capped.part.stat().st_size == capped.have
    capped.restart()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    with pytest.raises(paths.OutsideDest):
        writer.Part(tmp_path, "photos/../../escape.jpg")


def test_a_derived_file_is_replaced_whole_or_left_as_it_was(tmp_path):
    (tmp_path / "links.csv").write_text("old\n")
    with writer.replacing(tmp_path, "links.csv") as handle:
        handle.write("new\n")
        assert (tmp_path / "links.csv").read_text() == "old\n"  # not under its name yet
    assert (tmp_path / "links.csv").read_text() == "new\n"
    with pytest.raises(RuntimeError):
        with writer.replacing(tmp_path, "links.csv") as handle:
            handle.write("half")
            raise RuntimeError("killed mid-write")
    assert (tmp_path / "links.csv").read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["links.csv"]  # no .tmp left
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (tmp_path / "linked").symlink_to(outside)
    with pytest.raises(paths.OutsideDest):
        writer.replace_text(tmp_path, "linked/x.json", "{}")
    assert list(outside.iterdir()) == []


def fetch_faves(dest, app: web.Application, faves: list[tuple[str, str, str]], policy=None) -> dict:
    """download_faves over a real session from `app`, served on 127.0.0.1; faves are
    (id, title, path on the server)."""
    server = ThreadedApp(app, "CDN")
    host = server.start()
    cat = Catalog.open(dest)
    try:
        with cat.tx() as conn:
            conn.executemany("INSERT INTO favorites (id, title, url) VALUES (?, ?, ?)",
                             [(fave_id, title, f"http://{host}{path}") for fave_id, title, path in faves])

        async def run() -> dict:
            async with aiohttp.ClientSession() as session:
                return await download_faves(cat, dest, session, lambda url: url, Progress(quiet=True),
                                            policy=policy)

        return asyncio.run(run())
    finally:
        cat.close()
        server.stop()


def test_a_fave_streams_through_its_part_and_a_cut_one_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("EXODUS_BACKOFF", "0.01")
    dest = tmp_path / "dest"
    dest.mkdir()
    seen: dict = {}

    async def whole(request: web.Request) -> web.StreamResponse:  # pauses halfway to look at DEST/faves
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        response.content_length = len(JPEG)
        await response.prepare(request)
        await response.write(JPEG[:HALF])
        await asyncio.sleep(0.5)  # the client has the first half by now
        seen["halfway"] = {p.name: p.stat().st_size for p in (dest / "faves").iterdir()}
        await response.write(JPEG[HALF:])
        return response

    async def short(request: web.Request) -> web.StreamResponse:  # promises more than it sends
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        response.content_length = len(JPEG)
        await response.prepare(request)
        await response.write(JPEG[:HALF])
        request.transport.close()
        return response

    app = web.Application()
    app.router.add_get("/whole.jpg", whole)
    app.router.add_get("/short.jpg", short)
    stats = fetch_faves(dest, app, [("11", "whole", "/whole.jpg"), ("12", "cut", "/short.jpg")])
    assert stats["saved"] == 1 and stats["failed"] == 1, stats
    # Halfway, the fave is only a .part holding what came (never the whole body in memory
    # and nothing yet under its name).
    halfway = seen["halfway"]
    assert "11_whole.jpg" not in halfway and 0 < halfway["11_whole.jpg.part"] <= HALF, halfway
    assert sorted(os.listdir(dest / "faves")) == ["11_whole.jpg"]
    assert (dest / "faves" / "11_whole.jpg").read_bytes() == JPEG


def test_faves_wait_out_the_downloads_cdn_pause_and_their_own_429(tmp_path, monkeypatch):
    """The faves share the downloads' policy: a 429 the downloads heard pauses them too,
    and a 429 of their own is waited out (Retry-After), not a failure."""
    monkeypatch.setenv("EXODUS_BACKOFF", "0.01")
    dest = tmp_path / "dest"
    dest.mkdir()
    asked: list[tuple[str, float]] = []

    async def fave(request: web.Request) -> web.Response:
        asked.append((request.path, time.monotonic()))
        if request.path == "/busy.jpg" and sum(path == "/busy.jpg" for path, _ in asked) == 1:
            return web.Response(status=429, headers={"Retry-After": "1"}, text="slow down")
        return web.Response(body=JPEG, content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/{name}", fave)
    policy = cdn_policy()
    start = time.monotonic()
    policy.pause.throttled(1.0, start, 60.0)  # what a CDN 429 to a download leaves behind
    stats = fetch_faves(dest, app, [("21", "calm", "/calm.jpg"), ("22", "busy", "/busy.jpg")], policy)
    assert stats["saved"] == 2 and stats["failed"] == 0, stats
    assert min(at for _, at in asked) - start >= 0.9, asked  # nothing went out during the pause
    busy = [at for path, at in asked if path == "/busy.jpg"]
    assert len(busy) == 2 and busy[1] - busy[0] >= 0.9, asked  # its own 429's Retry-After, then again
    assert policy.throttled == 1
    assert sorted(os.listdir(dest / "faves")) == ["21_calm.jpg", "22_busy.jpg"]
