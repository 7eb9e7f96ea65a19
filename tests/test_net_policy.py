"""net/'s one HTTP policy as a command meets it, against servers gone wrong (hostile
aiohttp servers on 127.0.0.1): a Flickr that answers 429s, whose pause every call of the
client waits out once; a push target whose failures are told apart by the target,
a 503 tried again and a 413 not."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter

from aiohttp import web

from conftest import catalog_rows
from test_push import copy, expected_keys, finished, push  # noqa: F401 - fixtures
from threaded_app import ThreadedApp
from flickr_exodus.flickr import Credentials
from flickr_exodus.flickr.connect import connect
from flickr_exodus.flickr.errors import FlickrError
from flickr_exodus.net.errors import Transient

PAUSE_S = 1.0


class OverQuota:
    """Answers 429 (Retry-After: PAUSE_S) from the first request until PAUSE_S after it,
    then {"stat": "ok"}; keeps when each request came and what it was answered."""

    def __init__(self):
        self.first: float | None = None
        self.heard: list[tuple[float, int]] = []

    async def rest(self, request: web.Request) -> web.Response:
        await request.read()
        now = time.monotonic()
        self.first = now if self.first is None else self.first
        status = 429 if now < self.first + PAUSE_S else 200
        self.heard.append((now, status))
        if status == 429:
            return web.Response(status=429, text="slow down", headers={"Retry-After": f"{PAUSE_S:g}"})
        return web.json_response({"stat": "ok"})


def test_a_429_pauses_every_call_of_the_client_once(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    server = OverQuota()
    app = web.Application()
    app.router.add_post("/services/rest/", server.rest)
    served = ThreadedApp(app, "over-quota Flickr")
    host = served.start()
    notes: list[str] = []

    async def two_calls() -> list[dict]:
        heard_429 = asyncio.Event()

        def note(line: str) -> None:
            notes.append(line)
            heard_429.set()

        creds = Credentials("k" * 32, "s" * 16, "1-t", "ts")
        async with connect(creds, f"http://{host}", (100000, 1.0), note) as api:
            first = asyncio.create_task(api.call("flickr.test.echo"))
            await heard_429.wait()  # the second call starts once the first was told 429
            second = asyncio.create_task(api.call("flickr.test.echo"))
            return await asyncio.gather(first, second)

    try:
        answers = asyncio.run(asyncio.wait_for(two_calls(), 30))
    finally:
        served.stop()
    assert answers == [{"stat": "ok"}, {"stat": "ok"}]
    # One 429 in all: the second call waited on the pause the first one heard, and no
    # request reached the server before the pause it asked for was over.
    statuses = [status for _, status in server.heard]
    assert statuses == [429, 200, 200], server.heard
    assert all(at >= server.first + PAUSE_S for at, status in server.heard if status == 200), server.heard
    waiting = [line for line in notes if line.startswith("waiting for Flickr")]
    assert waiting == ["waiting for Flickr (attempt 1, next in 1.0 s): HTTP 429 (over Flickr's quota)"], notes


class Failing:
    """A Flickr whose every answer to flickr.test.echo is a 503, and whose answer to
    flickr.photos.delete is a 503 the first time, then a definite refusal."""

    def __init__(self):
        self.heard: Counter = Counter()

    async def rest(self, request: web.Request) -> web.Response:
        method = (await request.post()).get("method")
        self.heard[method] += 1
        if method == "flickr.photos.delete" and self.heard[method] > 1:
            return web.json_response({"stat": "fail", "code": 1, "message": "Photo not found"})
        return web.Response(status=503, text="busy")


def test_a_call_is_tried_its_attempts_and_a_refusal_after_a_lost_try_may_have_been_done(
        tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("EXODUS_BACKOFF", "0.01")
    server = Failing()
    app = web.Application()
    app.router.add_post("/services/rest/", server.rest)
    served = ThreadedApp(app, "failing Flickr")
    host = served.start()

    async def calls() -> tuple[int, BaseException, BaseException]:
        creds = Credentials("k" * 32, "s" * 16, "1-t", "ts")
        async with connect(creds, f"http://{host}", (100000, 1.0), lambda line: None) as api:
            errors = await asyncio.gather(api.call("flickr.test.echo"),
                                          api.call("flickr.photos.delete", photo_id="1"),
                                          return_exceptions=True)
            return api.attempts, *errors

    try:
        attempts, echo, delete = asyncio.run(asyncio.wait_for(calls(), 60))
    finally:
        served.stop()
    assert isinstance(echo, Transient) and "503" in str(echo), repr(echo)
    assert server.heard["flickr.test.echo"] == attempts > 1  # every try, and not one more
    assert isinstance(delete, FlickrError) and delete.code == 1, repr(delete)
    assert server.heard["flickr.photos.delete"] == 2
    assert delete.maybe_sent  # the 503 may have come after the delete was done


class BusyDav:
    """A WebDAV store that answers the first PUT of every file 503 and stores the next
    (answering the MD5 of what it got, as Nextcloud's X-Hash-MD5 does), but refuses
    links.csv as too large (413), every time."""

    def __init__(self):
        self.puts: Counter = Counter()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.method == "MKCOL":
            return web.Response(status=201)
        if request.method == "PROPFIND":
            return web.Response(status=207, content_type="application/xml",
                                text='<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"/>')
        if request.method != "PUT":
            return web.Response(status=405)
        key = request.path.removeprefix("/b/")
        self.puts[key] += 1
        if key == "links.csv":
            return web.Response(status=413)
        if self.puts[key] == 1:
            return web.Response(status=503)
        return web.Response(status=201, headers={"X-Hash-MD5": hashlib.md5(body).hexdigest()})


def test_a_push_tries_a_503_again_and_a_413_once(copy):
    _, env, dest = copy
    dav = BusyDav()
    app = web.Application(client_max_size=1 << 30)
    app.router.add_route("*", "/{tail:.*}", dav.handle)
    served = ThreadedApp(app, "busy WebDAV")
    host = served.start()
    try:
        code, report, done = push(env, dest, f"webdav://u:p@{host}/b")
    finally:
        served.stop()
    assert code == 1, done.stderr
    assert [f["key"] for f in report["failed"]] == ["links.csv"], report["failed"]
    assert "HTTP 413" in report["failed"][0]["reason"], report["failed"]
    # The store's own words decided: every 503 tried once more, the 413 never again.
    others = expected_keys(dest) - {"links.csv"}
    assert dav.puts == Counter({**{key: 2 for key in others}, "links.csv": 1}), dav.puts
    recorded = {r["key"] for r in catalog_rows(dest, "SELECT key FROM pushes WHERE target = ?", [f"webdav://{host}/b"])}
    assert recorded == others


def test_a_retry_after_is_obeyed_within_an_hour_and_never_longer():
    """A hostile or broken server cannot hold a run for ever with one header."""
    from flickr_exodus.net.errors import parse_retry_after

    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("1e9") == 3600.0
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("nan") is None and parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None
