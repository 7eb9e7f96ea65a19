"""The sandbox's flickr.photos.geo.getPerms/setPerms, addTags and removeTag, which no
recording covers: the permissions and errors of Flickr's reflection data, the documented
getPerms sample (`<perms id ispublic iscontact isfriend isfamily/>`), and addTags' answer as
the clients that read it show it (each tag with `full_tag_id`, the id getInfo and removeTag
use). Documented-only shapes, checked here so lockdown's tests stand on them."""

from __future__ import annotations

import pytest


def fails(answer: dict, code: int, message: str) -> bool:
    return (answer["stat"], answer["code"], answer["message"]) == ("fail", code, message)


def items(sb) -> dict[str, dict]:
    return {r["id"]: r for r in sb.http.get(f"{sb.base}/__sandbox__/records").json()["items"] if not r["deleted"]}


@pytest.fixture
def sb(make_sandbox):
    return make_sandbox(photos=10, videos=0, albums=1, seed=196, media_size=(2_000, 3_000))


def test_geo_perms_read_and_set_by_the_owner_only_with_write(sb):
    located = next(i for i, r in items(sb).items() if r["geo"])
    bare = next(i for i, r in items(sb).items() if not r["geo"])
    assert sb.call("flickr.photos.geo.setPerms", photo_id=located, is_public="0", is_contact="1",
                   is_friend="0", is_family="1") == {"stat": "ok"}
    assert sb.call("flickr.photos.geo.getPerms", photo_id=located) == {
        "perms": {"id": located, "ispublic": 0, "iscontact": 1, "isfriend": 0, "isfamily": 1}, "stat": "ok"}
    assert items(sb)[located]["geo"]["is_contact"] == 1
    assert fails(sb.call("flickr.photos.geo.getPerms", photo_id=bare), 2, "Photo has no location information")
    assert fails(sb.call("flickr.photos.geo.setPerms", photo_id=bare, is_public="0", is_contact="0",
                         is_friend="0", is_family="0"), 2, "Photo has no location information")
    assert fails(sb.call("flickr.photos.geo.setPerms", photo_id=located, is_public="0"), 3,
                 "Required arguments missing")
    assert fails(sb.call("flickr.photos.geo.getPerms", photo_id="1"), 1, "Photo not found")
    read = sb.token("read")
    refused = sb.rest("flickr.photos.geo.setPerms", token=read, photo_id=located, is_public="1", is_contact="1",
                      is_friend="1", is_family="1").json()
    assert refused["stat"] == "fail" and refused["code"] == 99
    assert sb.rest("flickr.photos.geo.getPerms", token=read, photo_id=located).json()["stat"] == "ok"
    assert items(sb)[located]["geo"]["is_public"] == 0 and sb.stats()["writes"] == 1


def test_add_tags_answers_the_ids_that_remove_tag_takes(sb):
    photo = sorted(items(sb))[0]
    before = items(sb)[photo]["tags"]
    answer = sb.call("flickr.photos.addTags", photo_id=photo, tags='no_cv "Two Words"')
    added = answer["tags"]["tag"]
    assert [(t["raw"], t["_content"]) for t in added] == [("no_cv", "no_cv"), ("Two Words", "twowords")]
    for tag in added:
        assert tag["full_tag_id"].split("-")[1] == photo and tag["full_tag_id"].endswith("-" + tag["id"])
    info = sb.call("flickr.photos.getInfo", photo_id=photo)["photo"]["tags"]["tag"]
    assert {t["_content"]: t["id"] for t in info}["no_cv"] == added[0]["full_tag_id"]
    again = sb.call("flickr.photos.addTags", photo_id=photo, tags="no_cv")["tags"]["tag"]
    assert again[0]["full_tag_id"] == added[0]["full_tag_id"]  # not added twice
    assert [t["clean"] for t in items(sb)[photo]["tags"]].count("no_cv") == 1

    assert sb.call("flickr.photos.removeTag", tag_id=added[0]["full_tag_id"]) == {"stat": "ok"}
    assert fails(sb.call("flickr.photos.removeTag", tag_id=added[0]["full_tag_id"]), 1, "Tag not found")
    left = items(sb)[photo]["tags"]
    assert [t["id"] for t in left] == [t["id"] for t in before] + [added[1]["full_tag_id"]]
    read = sb.token("read")
    refused = sb.rest("flickr.photos.removeTag", token=read, tag_id=added[1]["full_tag_id"]).json()
    assert refused["stat"] == "fail" and refused["code"] == 99
    refused = sb.rest("flickr.photos.addTags", token=read, photo_id=photo, tags="x").json()
    assert refused["stat"] == "fail" and refused["code"] == 99
    assert items(sb)[photo]["tags"] == left
