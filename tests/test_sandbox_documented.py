"""The sandbox's methods that no recording covers, against Flickr's documentation and what
the clients that call them read; and the paging numbers of every listing, typed as the
recordings of that listing show them (issue 18, "Sandbox fidelity").

No recording exists for flickr.urls.lookupUser, flickr.people.findByUsername or
flickr.galleries.getInfo (their documented samples are quoted below), nor for the
undocumented flickr.video.getStreamInfo (shape: what gallery-dl reads).
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import RECORDINGS, Client, recorded
from flickr_exodus.sandbox import Sandbox, SandboxConfig


def xml(sb: Client, method: str, **params) -> ET.Element:
    response = sb.rest(method, format="rest", **params)
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == "rsp"
    return root


def fails(answer: dict, code: int, message: str) -> bool:
    return (answer["stat"], answer["code"], answer["message"]) == ("fail", code, message)


def owner(sb: Client) -> dict:
    return sb.call("flickr.people.getInfo", user_id="me")["person"]


# --- flickr.urls.lookupUser ------------------------------------------------------------------
# Doc sample: <user id="12037949632@N01"><username>Stewart</username></user>

def test_lookup_user_finds_the_owner_from_the_urls_people_use(sb):
    me = owner(sb)
    expected = {"user": {"id": sb.info["user_nsid"], "username": {"_content": sb.info["username"]}}, "stat": "ok"}
    for url in (f"https://www.flickr.com/photos/{me['path_alias']}", f"https://flickr.com/people/{me['nsid']}/",
                f"https://www.flickr.com/photos/{me['path_alias']}/albums/1", f"{sb.base}/photos/{me['path_alias']}/"):
        assert sb.rest("flickr.urls.lookupUser", anonymous=True, url=url).json() == expected, url
    user = xml(sb, "flickr.urls.lookupUser", url=f"https://www.flickr.com/photos/{me['path_alias']}/").find("user")
    assert (user.get("id"), user.findtext("username")) == (sb.info["user_nsid"], sb.info["username"])


@pytest.mark.parametrize("url", ["https://www.flickr.com/photos/nobody-of-that-name/", "https://example.com/photos/{alias}/",
                                 "https://www.flickr.com/groups/{alias}/", "not a url"])
def test_lookup_user_refuses_what_is_not_a_users_url(sb, url):
    answer = sb.call("flickr.urls.lookupUser", url=url.format(alias=owner(sb)["path_alias"]))
    assert fails(answer, 1, "User not found")


# --- flickr.people.findByUsername ----------------------------------------------------------
# Doc sample: <user nsid="12037949632@N01"><username>Stewart</username></user>

def test_find_by_username_answers_id_and_nsid(sb):
    answer = sb.rest("flickr.people.findByUsername", anonymous=True, username=sb.info["username"]).json()
    nsid = sb.info["user_nsid"]
    assert answer == {"user": {"id": nsid, "nsid": nsid, "username": {"_content": sb.info["username"]}}, "stat": "ok"}
    user = xml(sb, "flickr.people.findByUsername", username=sb.info["username"]).find("user")
    assert (user.get("nsid"), user.findtext("username")) == (nsid, sb.info["username"])


def test_find_by_username_knows_no_stranger_and_no_one_who_left(sb):
    for name in ("nobody-of-that-name", "gone-user"):  # gone-user: a commenter who deleted their account
        assert fails(sb.call("flickr.people.findByUsername", username=name), 1, "User not found")


# --- flickr.galleries.getInfo -----------------------------------------------------------------
# Doc sample: <gallery id="6065-72157617483228192" url="..." owner="35034348999@N01"
#   primary_photo_id="292882708" date_create="1241028772" date_update="1270111667"
#   count_photos="17" count_videos="0" primary_photo_server="112" primary_photo_farm="1"
#   primary_photo_secret="7f29861bc4"><title>...</title><description /></gallery>
DOCUMENTED_GALLERY = {"id", "url", "owner", "primary_photo_id", "date_create", "date_update", "count_photos",
                      "count_videos", "primary_photo_server", "primary_photo_farm", "primary_photo_secret",
                      "title", "description"}


def test_gallery_info_by_either_id_has_the_documented_fields(sb):
    listed = sb.call("flickr.galleries.getList", user_id="me")["galleries"]["gallery"][0]
    by_id = sb.call("flickr.galleries.getInfo", gallery_id=listed["id"])
    by_number = sb.rest("flickr.galleries.getInfo", anonymous=True, gallery_id=listed["gallery_id"]).json()
    assert by_id == by_number and by_id["stat"] == "ok"
    gallery = by_id["gallery"]
    assert DOCUMENTED_GALLERY <= set(gallery)
    assert gallery["title"]["_content"] == listed["title"]["_content"]
    assert gallery["gallery_id"] == listed["gallery_id"]  # gallery-dl names its folder with it
    node = xml(sb, "flickr.galleries.getInfo", gallery_id=listed["id"]).find("gallery")
    assert node.get("id") == listed["id"] and node.find("title") is not None and node.find("description") is not None


def test_gallery_info_refuses_an_unknown_gallery(sb):
    assert fails(sb.call("flickr.galleries.getInfo", gallery_id="72157600000000000"), 1, "Invalid gallery ID")


# --- flickr.video.getStreamInfo (undocumented) ----------------------------------------------

def a_video(sb: Client, public: bool | None = None) -> dict:
    for item in sb.all_photos(extras="media"):
        if item["media"] == "video" and public in (None, bool(item["ispublic"])):
            return item
    pytest.fail(f"the test account has no {'public ' if public else ''}video")


def streams(sb: Client, video: dict, **options) -> dict[str, str]:
    answer = sb.rest("flickr.video.getStreamInfo", photo_id=video["id"], secret=video["secret"], **options).json()
    assert answer["stat"] == "ok", answer
    return {s["type"]: s["_content"] for s in answer["streams"]["stream"]}


def test_stream_info_lists_the_renditions_and_for_the_owner_the_original(sb):
    video = a_video(sb)
    sizes = {s["label"]: s["source"] for s in sb.call("flickr.photos.getSizes", photo_id=video["id"])["sizes"]["size"]
             if s["media"] == "video" and s["label"] != "Video Player"}
    got = streams(sb, video)
    assert got == {("orig" if label == "Video Original" else label): url for label, url in sizes.items()}
    assert "orig" in got


def test_stream_info_urls_serve_the_video_and_the_original_is_the_manifests(sb):
    video = a_video(sb)
    got = streams(sb, video)
    rendition = requests.get(got["360p"], timeout=30)
    assert rendition.status_code == 200 and rendition.headers["Content-Type"] == "video/mp4"
    name, _, value = sb.info["session_cookie"].partition("=")
    original = requests.get(got["orig"], cookies={name: value}, timeout=60)
    assert original.status_code == 200
    assert hashlib.sha256(original.content).hexdigest() == sb.manifest()[video["id"]]["sha256"]
    assert requests.get(got["orig"], timeout=30).status_code == 404  # no browser session: as /play/orig/


def test_stream_info_has_no_original_for_anyone_else(sb):
    video = a_video(sb, public=True)
    got = streams(sb, video, anonymous=True)
    assert got and "orig" not in got


def test_stream_info_wants_the_photos_secret_and_a_video(sb):
    video = a_video(sb)
    wrong = sb.call("flickr.video.getStreamInfo", photo_id=video["id"], secret="0000000002")
    assert fails(wrong, 1, "Video not found")
    assert fails(sb.call("flickr.video.getStreamInfo", photo_id=video["id"]), 1, "Video not found")
    photo = next(p for p in sb.all_photos(extras="media") if p["media"] == "photo")
    assert fails(sb.call("flickr.video.getStreamInfo", photo_id=photo["id"], secret=photo["secret"]), 1,
                 "Video not found")


# --- getSizes: a rendition without a size ----------------------------------------------------

def test_a_rendition_without_a_size_is_null_in_json_and_empty_in_xml(sb):
    """The recordings show the empty size only in XML (width="" height="",
    flickr.photos.getSizes.video.2.xml); JSON carries null, which flickr_api skips."""
    video = a_video(sb)
    sizes = sb.call("flickr.photos.getSizes", photo_id=video["id"])["sizes"]["size"]
    unsized = [s for s in sizes if s["width"] is None]
    assert unsized and all(s["height"] is None and s["media"] == "video" for s in unsized)
    assert all(isinstance(s["width"], (int, str)) for s in sizes if s not in unsized)
    nodes = xml(sb, "flickr.photos.getSizes", photo_id=video["id"]).iter("size")
    empty = {n.get("label") for n in nodes if n.get("width") == "" and n.get("height") == ""}
    assert empty == {s["label"] for s in unsized}
    recorded_empty = re.findall(r'<size label="[^"]+" width="" height=""', (RECORDINGS / "flickr.photos.getSizes.video.2.xml").read_text())
    assert recorded_empty  # the shape the XML side copies


# --- paging numbers ------------------------------------------------------------------------

PAGING_FIELDS = ("page", "pages", "perpage", "per_page", "total")
LISTINGS = {  # method -> (envelope key, parameters)
    "flickr.people.getPhotos": ("photos", {"user_id": "me"}),
    "flickr.photos.search": ("photos", {"user_id": "me"}),
    "flickr.photosets.getList": ("photosets", {}),
    "flickr.photosets.getPhotos": ("photoset", {}),
}
# Listings without a JSON recording, which gallery-dl pages with `page >= pages` (a string
# there is a TypeError: issue 18) or which answer the same "standard photos response".
STANDARD = {
    "flickr.people.getPublicPhotos": ("photos", {"user_id": "me"}),
    "flickr.photos.getNotInSet": ("photos", {}),
    "flickr.photos.recentlyUpdated": ("photos", {"min_date": "1"}),
    "flickr.favorites.getList": ("photos", {}),
    "flickr.galleries.getPhotos": ("photos", {}),
    "flickr.groups.pools.getPhotos": ("photos", {}),
}
SEEDS = range(1, 9)


def tname(value) -> str:
    return "string" if isinstance(value, str) else "number"


def hand_tidied() -> set[str]:
    """Recordings INDEX.md marks as edited by their author: outvoted by verbatim ones."""
    text = (RECORDINGS / "INDEX.md").read_text()
    return {block.split("`", 1)[0] for block in text.split("\n### `")[1:] if "hand-tidied" in block}


def recorded_types() -> dict[str, dict[str, set[str]]]:
    tidied = hand_tidied()
    out = {}
    for method, (key, _) in LISTINGS.items():
        seen = {}
        for path in recorded(f"{method}.*.json"):
            body = json.loads(path.read_text()).get(key)
            if path.name in tidied or not isinstance(body, dict):
                continue
            for field in PAGING_FIELDS:
                if field in body:
                    seen.setdefault(field, set()).add(tname(body[field]))
        out[method] = seen
    return out


@pytest.fixture(scope="module")
def paging_seen():
    """method -> field -> types the sandbox sent, over sandboxes of several seeds."""
    seen = {}
    for seed in SEEDS:
        with Sandbox(SandboxConfig(photos=4, videos=1, albums=1, seed=seed)) as sandbox:
            client = Client(sandbox)
            album = client.call("flickr.photosets.getList")["photosets"]["photoset"][0]["id"]
            gallery = client.call("flickr.galleries.getList", user_id="me")["galleries"]["gallery"][0]["id"]
            group = client.call("flickr.people.getGroups", user_id="me")["groups"]["group"][0]["nsid"]
            extra = {"flickr.photosets.getPhotos": {"photoset_id": album},
                     "flickr.galleries.getPhotos": {"gallery_id": gallery},
                     "flickr.groups.pools.getPhotos": {"group_id": group}}
            for method, (key, params) in {**LISTINGS, **STANDARD}.items():
                body = client.call(method, **params, **extra.get(method, {}))[key]
                for field in PAGING_FIELDS:
                    if field in body:
                        seen.setdefault(method, {}).setdefault(field, set()).add(tname(body[field]))
    return seen


@pytest.mark.parametrize("method", sorted(LISTINGS))
def test_paging_numbers_are_typed_as_the_recordings_of_that_listing(method, paging_seen):
    """Where verbatim recordings disagree, runs of different seeds send each type."""
    assert paging_seen[method] == recorded_types()[method]


@pytest.mark.parametrize("method", sorted(STANDARD))
def test_unrecorded_listings_page_with_numbers(method, paging_seen):
    assert paging_seen[method]["page"] == paging_seen[method]["pages"] == {"number"}


# --- the web page gallery-dl reads its key from ------------------------------------------------

def test_the_photos_page_carries_a_site_key_that_the_api_takes(sb):
    page = requests.get(f"{sb.base}/photos/", timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    key = re.search(r'\.flickr\.api\.site_key = "([^"]+)"', page.text).group(1)
    answer = requests.get(f"{sb.base}/services/rest/", timeout=30, params={
        "method": "flickr.people.findByUsername", "username": sb.info["username"], "api_key": key,
        "format": "json", "nojsoncallback": "1"}).json()
    assert answer["stat"] == "ok"
