"""Flickr's secrets go only to Flickr: when Flickr names a media URL on another host, or
redirects there, that host receives no cookie, no OAuth header and no API key. The other
host is a hostile server on 127.0.0.1 reached by another name ("localhost") and another
port; it logs every request it gets and the tests read the log."""

from __future__ import annotations

import json
import struct

import pytest
from aiohttp import web

from conftest import catalog_rows, exodus, exodus_env
from flickr_exodus.flickr import Endpoints
from test_backup_originals import cookies_file
from threaded_app import ThreadedApp

# A structurally whole MP4 (its top-level boxes add up to the file): what the other host
# serves, so that a video fetched from it is kept, without credentials.
FOREIGN_VIDEO = (struct.pack(">I", 24) + b"ftypmp42" + bytes(4) + b"mp42isom"
                 + struct.pack(">I", 8 + 4000) + b"mdat" + bytes(4000))


class OtherHost:
    """Logs each request (host, path, headers, query, body); serves the MP4, or first
    redirects once to a path of its own (a chain that stays foreign)."""

    def __init__(self):
        self.log: list[dict] = []
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.server = ThreadedApp(app, "other host")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.log.append({"host": request.host, "path": request.path_qs, "headers": dict(request.headers),
                         "query": dict(request.query), "body": (await request.read()).decode("latin-1")})
        if request.path.startswith("/video/") and "hop" not in request.query:
            raise web.HTTPFound(f"{request.path_qs}{'&' if request.query else '?'}hop=1")
        return web.Response(body=FOREIGN_VIDEO, content_type="video/mp4",
                            headers={"Content-Disposition": 'attachment; filename="clip.mp4"'})

    def __enter__(self) -> "OtherHost":
        port = self.server.start().rsplit(":", 1)[1]
        self.base = f"http://localhost:{port}"  # another name and another port than the sandbox's
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()


def secrets_of(client) -> dict[str, str]:
    info = client.info
    return {"api key": info["api_key"], "api secret": info["api_secret"], "token": info["oauth_token"],
            "token secret": info["oauth_token_secret"],
            "session cookie": info["session_cookie"].partition("=")[2]}


def assert_nothing_secret(log: list[dict], secrets: dict[str, str]) -> None:
    assert log, "the other host was never asked: the test proves nothing"
    for entry in log:
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        assert "authorization" not in headers, entry
        assert "cookie" not in headers, entry
        assert not any(k.startswith("oauth_") or k == "api_key" for k in entry["query"]), entry
        text = json.dumps(entry)
        for name, value in secrets.items():
            assert value not in text, f"the other host received the {name}: {entry}"


def backup_with_cookies(client, tmp_path):
    env = exodus_env(client, tmp_path)
    jar = cookies_file(tmp_path / "cookies.txt", client.info["session_cookie"])
    dest = tmp_path / "dest"
    done = exodus(["backup", str(dest), "--json", "--cookies", str(jar)], env, timeout=100)
    assert "Traceback" not in done.stderr, done.stderr
    return dest, done


def test_a_video_original_named_on_another_host_gets_no_credentials(make_sandbox, tmp_path):
    with OtherHost() as other:
        # Video originals need the owner's browser session (as on Flickr), and getSizes
        # names them on the other host.
        client = make_sandbox(photos=2, videos=2, albums=1, seed=151, media_size=(2_000, 3_000),
                              video_size=(20_000, 30_000), video_access="cookie",
                              foreign_video_base=other.base)
        dest, done = backup_with_cookies(client, tmp_path)
        assert_nothing_secret(other.log, secrets_of(client))
        assert {e["host"] for e in other.log} == {other.base.removeprefix("http://")}
        assert all("/play/orig/" in e["path"] for e in other.log)
    # Fetched without credentials (the README's choice): what the other host served is kept.
    videos = catalog_rows(dest, "SELECT state, size FROM photos WHERE media = 'video'")
    assert [v["state"] for v in videos] == ["downloaded", "downloaded"], done.stdout
    assert {v["size"] for v in videos} == {len(FOREIGN_VIDEO)}


def test_a_redirect_to_another_host_carries_no_credentials(make_sandbox, tmp_path):
    with OtherHost() as other:
        # The sandbox's /play/orig/ opens only with the cookie, then redirects to the other
        # host, which redirects again within itself.
        client = make_sandbox(photos=2, videos=2, albums=1, seed=152, media_size=(2_000, 3_000),
                              video_size=(20_000, 30_000), video_access="cookie",
                              foreign_redirect_base=other.base)
        dest, done = backup_with_cookies(client, tmp_path)
        assert_nothing_secret(other.log, secrets_of(client))
        hops = [e["path"] for e in other.log]
        assert any("hop=1" in p for p in hops) and any("hop=1" not in p for p in hops), hops
    # The session did reach the sandbox (the trusted host): without it /play/orig/ is a 404
    # and nothing would have been redirected.
    assert client.stats()["video_refused"] == 0
    assert {v["state"] for v in catalog_rows(dest, "SELECT state FROM photos WHERE media = 'video'")} \
        == {"downloaded"}, done.stdout


@pytest.mark.parametrize("url, trusted", [
    ("https://www.flickr.com/photos/x/1/play/orig/ab/", True),
    ("https://api.flickr.com/services/rest/", True),
    ("https://flickr.com/x", True),
    ("http://www.flickr.com/x", False),            # no secret in clear text
    ("https://www.flickr.com:8443/x", False),
    ("https://live.staticflickr.com/1/2_a_o.jpg", False),  # the CDN needs none
    ("https://evilflickr.com/x", False),
    ("https://www.flickr.com.evil.org/x", False),
    ("https://www.flickr.com@evil.org/x", False),
    ("https://evil.org\\@www.flickr.com/x", False),
    ("https://user@www.flickr.com/x", False),
    ("//www.flickr.com/x", False),
    ("not a url", False),
])
def test_only_flickrs_own_hosts_are_trusted(url, trusted):
    assert Endpoints().trusts(url) is trusted


@pytest.mark.parametrize("url, trusted", [
    ("http://127.0.0.1:9/photos/x/1/play/orig/ab/", True),
    ("http://127.0.0.1:10/x", False),   # another port
    ("http://localhost:9/x", False),    # another name for the same address
    ("https://127.0.0.1:9/x", False),
    ("https://www.flickr.com/x", False),  # with --api-base, Flickr itself is elsewhere
])
def test_with_api_base_only_its_origin_is_trusted(url, trusted):
    assert Endpoints("http://127.0.0.1:9").trusts(url) is trusted
