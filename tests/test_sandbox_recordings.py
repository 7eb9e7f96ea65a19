"""Fidelity against real Flickr: for every JSON recording in tests/recordings/, the
sandbox's answer to the same call has the same shape. Every key Flickr sent is present at
every level, with a JSON type that some recording of that method shows; a key Flickr never
sent in JSON needs a reason in EXTRA_KEYS."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

import pytest

from conftest import RECORDINGS, Client, recorded
from flickr_exodus.sandbox import Sandbox, SandboxConfig

NAME = re.compile(r"^(?P<method>flickr\.[A-Za-z.]+?)\.(?:(?P<variant>video|video-empty|error-\d+)\.)?\d+\.json$")

# Keys the sandbox sends that no JSON recording shows, each with its reason.
EXTRA_KEYS = {
    ".person.is_deleted": "present in Flickr's 2024 XML (flickr.people.getInfo.2.xml)",
    ".person.pro_badge": "present in Flickr's 2024 XML (flickr.people.getInfo.2.xml)",
    ".comments.comment[].author_is_deleted": "present in Flickr's 2024 XML (flickr.photos.comments.getList.2.xml)",
    ".comments.comment[].path_alias": "present in Flickr's 2024 XML (flickr.photos.comments.getList.2.xml)",
    ".comments.comment[].realname": "present in Flickr's 2024 XML (flickr.photos.comments.getList.2.xml)",
    ".photos.photo[].datetakenunknown": "sent with date_taken since (flickr.people.getPublicPhotos.1.xml, 2024)",
    ".photoset.photo[].datetakenunknown": "sent with date_taken since (flickr.photosets.getPhotos.3.xml, 2025)",
    ".photosets.photoset[].primary_photo_extras.datetakenunknown": "sent with date_taken (2024-25 XML)",
    ".photos.photo[].o_width": "the o_dims answer, as in flickr.photos.search.1.json (2020)",
    ".photos.photo[].o_height": "the o_dims answer, as in flickr.photos.search.1.json (2020)",
    ".photoset.photo[].o_width": "the o_dims answer, as in flickr.photos.search.1.json (2020)",
    ".photoset.photo[].o_height": "the o_dims answer, as in flickr.photos.search.1.json (2020)",
    ".collections.collection[].collection": "nested collections, as in Flickr's documented "
                                            "getTree sample (reference §7); no nested recording exists",
}

# JSON types the sandbox sends where no JSON recording shows them, each with its reason.
EXTRA_TYPES = {
    ".sizes.size[].width": ({"null"}, "a video rendition without a size: \"\" in the XML recordings "
                                      "(getSizes.video.2.xml), null in JSON as flickr_api expects"),
    ".sizes.size[].height": ({"null"}, "as width"),
}


def recordings() -> list[str]:
    return [p.name for p in recorded("flickr.*.json")]


@lru_cache(maxsize=1)
def requests_from_index() -> dict[str, dict]:
    """file -> {"params": {...}, "auth": text} from INDEX.md's per-file sections."""
    out = {}
    text = (RECORDINGS / "INDEX.md").read_text()
    for block in text.split("\n### `")[1:]:
        name = block.split("`", 1)[0]
        entry = {"params": {}, "auth": ""}
        request = re.search(r"\*\*Request:\*\* `(?:GET|POST) ([^`]+)`", block)
        if request:
            entry["params"] = dict(parse_qsl(urlsplit(request.group(1)).query, keep_blank_values=True))
        auth = re.search(r"\*\*Auth / format:\*\* (.*)", block)
        entry["auth"] = auth.group(1) if auth else ""
        out[name] = entry
    return out


def tname(value) -> str:
    return {dict: "object", list: "list", str: "string", bool: "bool", type(None): "null"}.get(type(value), "number")


def shape(value, path: str = "", out=None) -> dict[str, set[str]]:
    """path -> JSON types seen there; list items share the path `path[]`."""
    out = defaultdict(set) if out is None else out
    out[path].add(tname(value))
    if isinstance(value, dict):
        for key, child in value.items():
            shape(child, f"{path}.{key}", out)
    elif isinstance(value, list):
        for child in value:
            shape(child, f"{path}[]", out)
    return out


@lru_cache(maxsize=None)
def allowed_types(method: str) -> dict[str, set[str]]:
    union = defaultdict(set)
    for name in recordings():
        match = NAME.match(name)
        if match and match["method"] == method and not (match["variant"] or "").startswith("error"):
            for path, types in shape(json.loads((RECORDINGS / name).read_text())).items():
                union[path] |= types
    return union


EXTRAS_BY_KEY = {
    "description": "description", "license": "license", "dateupload": "date_upload",
    "lastupdate": "last_update", "datetaken": "date_taken", "ownername": "owner_name",
    "iconserver": "icon_server", "originalsecret": "original_format", "latitude": "geo",
    "tags": "tags", "machine_tags": "machine_tags", "o_width": "o_dims", "views": "views",
    "media": "media", "pathalias": "path_alias", "count_faves": "count_faves",
    "count_comments": "count_comments",
}


def extras_shown(items: list[dict]) -> str:
    """The extras that produce the keys a recorded photo list shows."""
    keys = {k for item in items for k in item}
    wanted = {EXTRAS_BY_KEY[k] for k in keys if k in EXTRAS_BY_KEY}
    wanted |= {k for k in keys if k.startswith("url_")}
    return ",".join(sorted(wanted))


@pytest.fixture(scope="module")
def account():
    with Sandbox(SandboxConfig(photos=40, videos=4, albums=6, seed=11)) as sandbox:
        client = Client(sandbox)
        photos = client.all_photos()
        infos = {p["id"]: client.call("flickr.photos.getInfo", photo_id=p["id"])["photo"] for p in photos}
        contexts = {p["id"]: client.call("flickr.photos.getAllContexts", photo_id=p["id"]) for p in photos}
        yield client, photos, infos, contexts


def pick(account, *, video=False, needs=()) -> str:
    """A sandbox item with the features a recording shows (geo, notes, comments, ...)."""
    client, photos, infos, contexts = account
    tests = {
        "location": lambda i: "location" in infos[i],
        "notes": lambda i: bool(infos[i]["notes"]["note"]),
        "tags": lambda i: bool(infos[i]["tags"]["tag"]),
        "comments": lambda i: int(infos[i]["comments"]["_content"]) > 0,
        "set": lambda i: "set" in contexts[i],
        "pool": lambda i: "pool" in contexts[i],
    }
    for photo in photos:
        pid = photo["id"]
        if (photo["media"] == "video") == video and all(tests[n](pid) for n in needs):
            return pid
    pytest.fail(f"the test account has no {'video' if video else 'photo'} with {needs}")


def features(method: str, recorded: dict) -> tuple[bool, tuple[str, ...]]:
    photo = recorded.get("photo") if isinstance(recorded.get("photo"), dict) else {}
    video = photo.get("media") == "video" or photo.get("camera") == "" and photo.get("exif") == []
    if method == "flickr.photos.getSizes":
        video = any(s.get("media") == "video" for s in recorded["sizes"]["size"])
    needs = []
    if method == "flickr.photos.getInfo":
        needs += [k for k in ("location",) if k in photo]
        needs += ["notes"] if photo.get("notes", {}).get("note") else []
        needs += ["tags"] if photo.get("tags", {}).get("tag") else []
    if method == "flickr.photos.comments.getList":
        needs.append("comments")
    if method == "flickr.photos.getAllContexts":
        needs += [k for k in ("set", "pool") if k in recorded]
    return video, tuple(needs)


def call_for(name: str, recorded: dict, account) -> tuple[dict, dict]:
    """(params, options) that ask the sandbox what the recording asked Flickr."""
    client, photos, _, _ = account
    match = NAME.match(name)
    method, variant = match["method"], match["variant"] or ""
    entry = requests_from_index().get(name, {"params": {}, "auth": ""})
    params = {k: v for k, v in entry["params"].items()
              if k not in ("api_key", "format", "nojsoncallback", "method") and not k.startswith("oauth_")}
    options = {}
    if variant == "error-100":
        return {"api_key": ""}, {"anonymous": True}
    if "API key only" in entry["auth"]:
        options["anonymous"] = True
    body = next((v for k, v in recorded.items() if isinstance(v, dict)), {})
    listed = body.get("photo") if isinstance(body.get("photo"), list) else None
    if listed is not None and "extras" not in params:
        params["extras"] = extras_shown(listed)
    if method.startswith("flickr.photos.") and method not in ("flickr.photos.search", "flickr.photos.delete",
                                                                 "flickr.photos.licenses.getInfo"):
        video, needs = features(method, recorded)
        params["photo_id"] = pick(account, video=video, needs=needs)
    if method == "flickr.photos.delete":
        params["photo_id"] = client.control("add", media="photo")["items"][0]["id"]
    if method.startswith("flickr.photosets."):
        sets = client.call("flickr.photosets.getList")["photosets"]["photoset"]
        params["photoset_id"] = max(sets, key=lambda s: int(s["photos"]) + int(s["videos"]))["id"]
        if method == "flickr.photosets.comments.getList":
            params["photoset_id"] = next(s["id"] for s in sets if int(s["count_comments"]) > 0)
        if method == "flickr.photosets.getList" and any("primary_photo_extras" in s for s in body.get("photoset", [])):
            params["primary_photo_extras"] = extras_shown(
                [s["primary_photo_extras"] for s in body["photoset"] if "primary_photo_extras" in s]) + ",url_sq,url_t,url_s,url_m,url_o"
    if "user_id" in params or method in ("flickr.people.getInfo", "flickr.people.getPhotos"):
        params["user_id"] = client.info["user_nsid"]
    if variant == "error-1" and method == "flickr.people.getPhotos":
        params.pop("user_id")  # the recorded call had no user_id
    if method == "flickr.photos.search" and options.get("anonymous"):
        params = {k: v for k, v in params.items() if k in ("extras", "per_page", "page")}
    return params, options


@pytest.mark.parametrize("name", recordings())
def test_sandbox_answers_in_the_recorded_shape(name, account):
    client = account[0]
    match = NAME.match(name)
    assert match, f"unexpected recording name {name}"
    recorded = json.loads((RECORDINGS / name).read_text())
    params, options = call_for(name, recorded, account)
    response = client.rest(match["method"], **options, **params)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer.get("code") != 112, f"{match['method']} is not implemented"

    if recorded["stat"] == "fail":
        assert (answer["stat"], answer["code"], answer["message"]) == (
            "fail", recorded["code"], recorded["message"])
        return

    assert answer["stat"] == "ok", answer
    allowed = allowed_types(match["method"])
    got = shape(answer)
    missing = sorted(p for p in shape(recorded) if p not in got)
    assert not missing, f"keys Flickr sends that the sandbox lacks: {missing}"
    extra = {p: types for p, (types, _) in EXTRA_TYPES.items()}
    wrong = {p: (sorted(got[p]), sorted(allowed[p])) for p in got
             if p in allowed and not got[p] <= allowed[p] | extra.get(p, set())}
    assert not wrong, f"types no recording shows (sandbox, recordings): {wrong}"
    unexplained = sorted(p for p in got if p not in allowed and p not in EXTRA_KEYS
                         and not p.startswith(tuple(k + sep for k in EXTRA_KEYS for sep in ".[")))
    assert not unexplained, f"keys no JSON recording shows, without a reason in EXTRA_KEYS: {unexplained}"
