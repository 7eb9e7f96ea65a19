"""Flickr's wire quirks, the generated account's variety, and the mutations tests rely on."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET

import requests

from conftest import RECORDINGS


def test_xml_errors_are_byte_identical_to_flickrs(sb):
    answer = sb.rest("flickr.photos.getInfo", photo_id="1", format="rest")
    assert answer.content == (RECORDINGS / "flickr.photos.getInfo.error-1.1.xml").read_bytes()
    bad_key = sb.rest("flickr.people.getInfo", anonymous=True, api_key="x", user_id="1", format="rest")
    assert bad_key.content == (RECORDINGS / "flickr.people.getInfo.error-100.1.xml").read_bytes()
    missing = sb.rest("flickr.people.getPhotos", format="json")
    assert missing.content == (RECORDINGS / "flickr.people.getPhotos.error-1.1.json").read_bytes().strip()


def test_json_escapes_slashes_and_non_ascii_and_jsonp_without_nojsoncallback(sb):
    raw = sb.rest("flickr.people.getPhotos", user_id="me", extras="url_o", safe_search="3").text
    assert '"url_o":"http:\\/\\/127.0.0.1' in raw and "://" not in raw
    assert all(ord(c) < 128 for c in raw)
    wrapped = sb.rest("flickr.test.echo", nojsoncallback="0").text
    assert wrapped.startswith("jsonFlickrApi({") and wrapped.endswith("})")


def test_path_alias_comes_back_as_pathalias(sb):
    photo = sb.call("flickr.people.getPhotos", user_id="me", extras="path_alias", per_page="1")["photos"]["photo"][0]
    assert photo["pathalias"] == "sandboxowner" and "path_alias" not in photo


def test_per_page_is_capped_at_500(make_sandbox):
    sb = make_sandbox(photos=700, videos=0, albums=1, media_size=(3000, 3000))
    body = sb.call("flickr.people.getPhotos", user_id="me", per_page="1000", safe_search="3")["photos"]
    assert (body["perpage"], len(body["photo"]), int(body["pages"])) == (500, 500, 2)
    # photosets.getPhotos defaults to, and caps at, 500 (reference §7).
    album = max(sb.call("flickr.photosets.getList")["photosets"]["photoset"], key=lambda s: int(s["photos"]))
    first = sb.call("flickr.photosets.getPhotos", photoset_id=album["id"])["photoset"]
    assert first["perpage"] == 500 and len(first["photo"]) == 500 and first["pages"] == 2


def test_search_returns_at_most_the_first_4000(make_sandbox):
    sb = make_sandbox(photos=4100, videos=0, albums=1, media_size=(3000, 3000))
    body = sb.call("flickr.photos.search", user_id="me", per_page="500", page="9", safe_search="3")["photos"]
    assert int(body["total"]) > 4000 and body["page"] == 8  # page 9 would start past result 4000
    listed = sb.call("flickr.people.getPhotos", user_id="me", per_page="500", page="9", safe_search="3")
    assert listed["photos"]["page"] == 9  # the photostream has no such cap


def test_safe_search_hides_restricted_items_unless_asked(sb):
    default = sb.call("flickr.people.getPhotos", user_id="me", per_page="500")["photos"]
    everything = sb.call("flickr.people.getPhotos", user_id="me", per_page="500", safe_search="3")["photos"]
    assert int(default["total"]) < int(everything["total"])
    anonymous = sb.rest("flickr.people.getPhotos", anonymous=True, user_id=sb.info["user_nsid"],
                        extras="safety_level", per_page="500").json()["photos"]
    assert {p["safety_level"] for p in anonymous["photo"]} == {"0"}
    assert all(p["ispublic"] == 1 for p in anonymous["photo"])


def test_the_account_has_the_variety_a_backup_must_survive(sb):
    photos = sb.all_photos(extras="media,license,date_taken,geo,tags,machine_tags,original_format,count_comments")
    titles = {p["title"] for p in photos}
    assert {"../../x", "a/b", "CON", "x" * 300} <= titles
    assert any("\x00" in t for t in titles) and any("\u05e9" in t for t in titles)  # NUL, Hebrew
    assert any(ord(c) > 0xFFFF for t in titles for c in t)  # emoji
    assert {(p["ispublic"], p["isfriend"], p["isfamily"]) for p in photos} == {
        (1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 1), (0, 0, 0)}
    assert len({int(p["license"]) for p in photos}) >= 10
    assert {int(p["datetakengranularity"]) for p in photos} >= {0, 4, 6}
    assert any(p["datetakenunknown"] == "1" for p in photos)
    assert any(p["latitude"] != 0 for p in photos) and any(p["latitude"] == 0 for p in photos)
    assert any(p["machine_tags"] for p in photos)
    assert any(any(ord(c) > 0x400 for c in p["tags"]) for p in photos)
    assert {p["media"] for p in photos} == {"photo", "video"}
    assert {p["originalformat"] for p in photos} == {"jpg", "png"}
    in_albums = [set(sb.call("flickr.photosets.getPhotos", photoset_id=s["id"])["photoset"]["photo"][i]["id"]
                     for i in range(int(s["photos"]) + int(s["videos"])))
                 for s in sb.call("flickr.photosets.getList")["photosets"]["photoset"]]
    assert sum(len(a) for a in in_albums) > len(set().union(*in_albums))  # some photo in two albums
    not_in_set = sb.call("flickr.photos.getNotInSet", per_page="500")["photos"]["photo"]
    assert not_in_set
    tree = sb.call("flickr.collections.getTree")["collections"]["collection"]
    assert any("collection" in c for c in tree) and any("set" in c for c in tree)
    infos = [sb.call("flickr.photos.getInfo", photo_id=p["id"])["photo"] for p in photos]
    assert any(i["notes"]["note"] for i in infos) and any(i["people"]["haspeople"] for i in infos)
    assert sb.stats()["account"]["albums_with_comments"] > 0


def test_hostile_titles_survive_both_formats(sb):
    photo = next(p for p in sb.all_photos() if "\x00" in p["title"])
    xml = sb.rest("flickr.photos.getInfo", photo_id=photo["id"], format="rest").content
    title = ET.fromstring(xml).find("photo/title").text
    assert title == photo["title"].replace("\x00", "").replace("\x07", "").replace("\x1b", "")


def test_replace_changes_secrets_bytes_and_lastupdate(make_sandbox):
    sb = make_sandbox(photos=3, videos=0, albums=1)
    photo = sb.all_photos(extras="url_o,last_update,original_format")[0]
    before = sb.manifest()[photo["id"]]
    sb.control("replace", id=photo["id"])
    after_listing = next(p for p in sb.all_photos(extras="url_o,last_update,original_format") if p["id"] == photo["id"])
    after = sb.manifest()[photo["id"]]
    assert after["sha256"] != before["sha256"] and after["version"] == before["version"] + 1
    assert after_listing["originalsecret"] != photo["originalsecret"]
    assert int(after_listing["lastupdate"]) > int(photo["lastupdate"])
    assert requests.get(photo["url_o"], timeout=30).status_code == 404
    assert hashlib.sha256(requests.get(after_listing["url_o"], timeout=30).content).hexdigest() == after["sha256"]


def test_edit_comment_add_delete_and_album_moves(make_sandbox):
    sb = make_sandbox(photos=6, videos=0, albums=2)
    photos = sb.all_photos(extras="last_update,count_comments")
    first = photos[0]
    sb.control("edit", id=first["id"], title="New title", tags=["fresh", "ns:pred=val"])
    sb.control("comment", id=first["id"], text="Nice")
    info = sb.call("flickr.photos.getInfo", photo_id=first["id"])["photo"]
    assert info["title"]["_content"] == "New title" and int(info["dates"]["lastupdate"]) > int(first["lastupdate"])
    assert [t["raw"] for t in info["tags"]["tag"]] == ["fresh", "ns:pred=val"]
    comments = sb.call("flickr.photos.comments.getList", photo_id=first["id"])["comments"]["comment"]
    assert comments[-1]["_content"] == "Nice"

    added = sb.control("add", media="video", count=2)["items"]
    assert len(sb.all_photos()) == len(photos) + 2 and all(i["media"] == "video" for i in added)

    album = sb.call("flickr.photosets.getList")["photosets"]["photoset"][0]["id"]
    members = [p["id"] for p in sb.call("flickr.photosets.getPhotos", photoset_id=album)["photoset"]["photo"]]
    victim = members[0]
    sb.control("delete", id=victim)
    assert sb.rest("flickr.photos.getInfo", photo_id=victim).json()["code"] == 1
    assert victim not in [p["id"] for p in sb.call("flickr.photosets.getPhotos", photoset_id=album)["photoset"]["photo"]]
    assert sb.manifest()[victim]["deleted"] is True
    assert sb.stats()["deleted"] == 0  # deleted on the website, not through the API

    outsider = next(p["id"] for p in sb.all_photos() if p["id"] not in members)
    sb.control("album", id=album, add=[outsider])
    assert outsider in [p["id"] for p in sb.call("flickr.photosets.getPhotos", photoset_id=album)["photoset"]["photo"]]
    assert album in sb.manifest()[outsider]["albums"]


def test_album_comments(sb):
    sets = sb.call("flickr.photosets.getList")["photosets"]["photoset"]
    commented = next(s for s in sets if int(s["count_comments"]) > 0)
    comments = sb.call("flickr.photosets.comments.getList", photoset_id=commented["id"])["comments"]
    assert comments["photoset_id"] == commented["id"] and comments["comment"]


def test_stats_and_manifest_contract(sb):
    stats = sb.stats()
    assert {"api_calls", "api_calls_total", "bytes_served", "cdn_requests", "rate_limited", "faults",
            "deleted", "account"} <= set(stats)
    assert set(stats["account"]) >= {"photos", "videos", "albums", "collections", "photos_with_comments",
                                     "albums_with_comments"}
    item = next(iter(sb.manifest().values()))
    assert {"id", "media", "original_format", "size", "sha256", "deleted", "count_comments", "albums"} <= set(item)
    assert len(item["id"]) == 11 and all(len(a) == 17 for a in item["albums"])
    json.dumps(stats)
