"""The client layer on its own: tolerant parsing of every recorded Flickr answer, how each
answer is classified (retry, wait, give up), the shared quota ledger, and sign-in."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import time

import pytest

from conftest import EXODUS, exodus_env, recorded, sign_in
from flickr_exodus.flickr import FlickrError, Quota, Throttled, Transient
from flickr_exodus.flickr import parse
from flickr_exodus.flickr.client import Endpoints, interpret

JSON_RECORDINGS = recorded("flickr.*.json")
OTHER_RECORDINGS = sorted(recorded("flickr.*.xml") + recorded("flickr.*.txt"))


def parsed(path) -> object:
    """Run the parser exodus uses for this method over a recording."""
    data = interpret(200, path.read_bytes())
    method = path.name.split(".")[1:3]
    name = ".".join(method)
    if name in ("people.getPhotos", "photos.search"):
        page = parse.page(data, "photos", "photo")
        return page, [parse.Listed.from_dict(r) for r in page.rows]
    if name == "photosets.getPhotos":
        page = parse.page(data, "photoset", "photo")
        return page, [parse.Listed.from_dict(r) for r in page.rows]
    if name == "photosets.getList":
        page = parse.page(data, "photosets", "photoset")
        return page, [parse.album(r) for r in page.rows]
    if name == "photos.getSizes":
        return parse.sizes(data), parse.video_original(data)
    if name in ("photos.comments", "photosets.comments"):
        return parse.comments(data)
    if name == "collections.getTree":
        return parse.collection_tree(data)
    if name == "people.getInfo":
        return parse.person(data)
    if name in ("test.login", "auth.oauth"):
        return parse.login(data)
    return data


@pytest.mark.parametrize("path", JSON_RECORDINGS, ids=lambda p: p.name)
def test_every_json_recording_parses_or_is_classified(path):
    body = json.loads(path.read_bytes())
    if body.get("stat") == "fail":
        with pytest.raises(FlickrError) as caught:
            interpret(200, path.read_bytes())
        assert caught.value.code == int(body["code"])
        return
    result = parsed(path)
    name = path.name
    if ".getPhotos." in name or ".search." in name:
        page, items = result
        assert page.total >= len(items) and items and all(i.id and i.media in ("photo", "video") for i in items)
        if ".video." in name:
            assert items[0].media == "video"
    elif "comments" in name:
        assert all(c["id"] and c["text"] for c in result)
    elif "photosets.getList" in name:
        _, albums = result
        assert albums and all(a["id"] and isinstance(a["count_photos"], int) for a in albums)
    elif "getSizes" in name:
        sizes, original = result
        assert sizes and all(s.source.startswith("http") for s in sizes)
        assert (original is not None) == ("Video Original" in path.read_text())
    elif "getTree" in name:
        assert result and all(n.id for n in result)
    elif "people.getInfo" in name:
        assert result["nsid"] and isinstance(result["count"], int)
    elif "login" in name or "checkToken" in name:
        assert result["username"]


@pytest.mark.parametrize("path", OTHER_RECORDINGS, ids=lambda p: p.name)
def test_non_json_recordings_are_never_taken_for_data(path):
    status = 401 if "oauth-401" in path.name else 200
    expected = FlickrError if status == 401 else Transient  # XML where JSON was asked: retry
    with pytest.raises(expected):
        interpret(status, path.read_bytes())


def test_answers_are_classified_by_what_to_do():
    with pytest.raises(Throttled) as throttled:
        interpret(429, b"<html>429</html>", retry_after=7)
    assert throttled.value.retry_after == 7
    for status in (500, 502, 503):
        with pytest.raises(Transient):
            interpret(status, b"")
    for code in (105, 106, 201):
        with pytest.raises(Transient):
            interpret(200, json.dumps({"stat": "fail", "code": code, "message": "x"}).encode())
    for code in (1, 99, 100, 112):
        with pytest.raises(FlickrError):
            interpret(200, json.dumps({"stat": "fail", "code": str(code), "message": "x"}).encode())
    with pytest.raises(Transient):
        interpret(200, b'{"photos": {"page": 1, "pho')  # a cut body
    with pytest.raises(FlickrError) as refused:
        interpret(401, b"oauth_problem=token_rejected")
    assert "token_rejected" in str(refused.value)


def test_tolerant_values():
    assert parse.num("12") == parse.num(12) == parse.num({"_content": "12"}) == 12
    assert parse.num("") is None and parse.num(None, 0) == 0
    assert parse.text({"_content": "x"}) == "x" and parse.text(None) == "" and parse.text(3) == "3"
    assert parse.as_list({"id": "1"}) == [{"id": "1"}] and parse.as_list(None) == []
    bare = parse.Listed.from_dict({"id": 5})
    assert bare.id == "5" and bare.media == "photo" and bare.url_o is None and bare.tags == []
    assert parse.page({}, "photos", "photo").rows == []


def test_endpoints_move_every_flickr_url_to_the_base():
    here = Endpoints("http://127.0.0.1:9")
    assert here.rest == "http://127.0.0.1:9/services/rest/"
    assert here.rebase("https://live.staticflickr.com/65535/1_a_o.jpg") == "http://127.0.0.1:9/65535/1_a_o.jpg"
    assert here.rebase("https://example.org/x") == "https://example.org/x"
    assert Endpoints().rest == "https://api.flickr.com/services/rest/"


def test_ledger_is_shared_by_every_process_using_the_key(tmp_path):
    async def spend(quota, n):
        for _ in range(n):
            async with quota.slot():
                pass

    first = Quota("key", (5, 1.0), tmp_path)
    second = Quota("key", (5, 1.0), tmp_path)  # another process, same key
    other = Quota("other-key", (5, 1.0), tmp_path)
    first.burst = first.tokens = second.burst = second.tokens = 5  # no pacing: the window alone
    asyncio.run(spend(first, 5))
    assert second.used() == 5 and other.used() == 0
    started = time.monotonic()
    asyncio.run(spend(second, 1))  # the window is full: it must wait for the first call to age
    assert time.monotonic() - started >= 0.5
    assert second.waited > 0


def test_auth_stores_the_token_0600_and_never_prints_secrets(sb, tmp_path):
    env = exodus_env(sb, tmp_path)
    for name in ("FLICKR_OAUTH_TOKEN", "FLICKR_OAUTH_TOKEN_SECRET"):
        env.pop(name)
    signed = sign_in(sb, env, "read")
    assert signed.returncode == 0, signed.stderr
    out, err = signed.stdout, signed.stderr
    token_file = tmp_path / "config" / "flickr-exodus" / "token.json"
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    saved = json.loads(token_file.read_text())["hosts"][sb.base.split("//")[1]]
    assert saved["perms"] == "read" and saved["oauth_token"]
    for secret in (saved["oauth_token_secret"], env["FLICKR_API_SECRET"]):
        assert secret not in out + err
    # The stored token now serves a backup with no token in the environment.
    done = subprocess.run([*EXODUS, "status", str(tmp_path)], env=env, capture_output=True, text=True)
    assert done.returncode == 2  # no backup there yet: a clear usage error, not a crash
