"""The real flickrapi 2.4 client, unmodified, against the sandbox: the out-of-band OAuth
flow, token_valid(), and every implemented method in both parsed-json and etree."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import flickrapi
import pytest
import requests
from requests_oauthlib import OAuth1

from conftest import pointed


def approve_in_browser(base: str, authorize_url: str) -> str:
    """What the user does: open the authorize page, click OK, read the verifier."""
    page = requests.get(authorize_url, timeout=30)
    assert page.status_code == 200
    form = dict(re.findall(r'name="(oauth_token|perms)" value="([^"]*)"', page.text))
    done = requests.post(f"{base}/services/oauth/authorize", data={**form, "decision": "yes"}, timeout=30)
    return re.search(r'id="verifier">(\d{3}-\d{3}-\d{3})<', done.text).group(1)


@pytest.mark.parametrize("perms", ["read", "delete"])
def test_out_of_band_oauth_flow_then_token_valid(sb, tmp_path, perms):
    api = pointed(flickrapi.FlickrAPI(sb.info["api_key"], sb.info["api_secret"],
                                      token_cache_location=str(tmp_path), format="parsed-json"), sb.base)
    assert not api.token_valid(perms=perms)
    api.get_request_token(oauth_callback="oob")
    verifier = approve_in_browser(sb.base, api.auth_url(perms=perms))
    api.get_access_token(verifier)

    assert api.token_valid(perms=perms)  # checkToken over XML, as flickrapi asks
    token = api.token_cache.token
    assert (token.access_level, token.username, token.user_nsid) == (perms, "sandbox-owner", sb.info["user_nsid"])
    assert api.test.login()["user"]["id"] == sb.info["user_nsid"]


def request_token(sb, callback: str) -> dict:
    answer = requests.post(f"{sb.base}/services/oauth/request_token", timeout=30,
                           auth=OAuth1(sb.info["api_key"], sb.info["api_secret"], callback_uri=callback))
    assert answer.status_code == 200, answer.text
    return dict(parse_qsl(answer.text))


def test_callback_flow_redirects_with_token_and_verifier(sb):
    pending = request_token(sb, "http://127.0.0.1:9/callback")
    assert pending["oauth_callback_confirmed"] == "true"
    answer = requests.post(f"{sb.base}/services/oauth/authorize", allow_redirects=False, timeout=30,
                           data={"oauth_token": pending["oauth_token"], "perms": "write"})
    assert answer.status_code == 302
    assert re.fullmatch(r"http://127\.0\.0\.1:9/callback\?oauth_token=[^&]+&oauth_verifier=\d{3}-\d{3}-\d{3}",
                        answer.headers["Location"])


def test_a_request_token_is_exchanged_once_and_only_with_its_verifier(sb):
    pending = request_token(sb, "oob")
    url = f"{sb.base}/services/oauth/authorize?oauth_token={pending['oauth_token']}&perms=read"
    verifier = approve_in_browser(sb.base, url)

    def exchange(code: str) -> requests.Response:
        return requests.post(f"{sb.base}/services/oauth/access_token", timeout=30, auth=OAuth1(
            sb.info["api_key"], sb.info["api_secret"], pending["oauth_token"],
            pending["oauth_token_secret"], verifier=code))

    wrong = exchange("000-000-000")
    assert (wrong.status_code, wrong.text) == (401, "oauth_problem=token_rejected")
    first = exchange(verifier)
    assert first.status_code == 200
    fields = dict(parse_qsl(first.text))
    assert set(fields) == {"fullname", "oauth_token", "oauth_token_secret", "user_nsid", "username"}
    again = exchange(verifier)
    assert (again.status_code, again.text) == (401, "oauth_problem=token_rejected")


def method_calls(sb) -> list[tuple[str, dict]]:
    photos = sb.all_photos()
    photo = next(p for p in photos if p["media"] == "photo" and int(p["count_comments"]) > 0)
    video = next(p for p in photos if p["media"] == "video")
    album = sb.call("flickr.photosets.getList")["photosets"]["photoset"][0]["id"]
    me = sb.info["user_nsid"]
    gallery = sb.call("flickr.galleries.getList", user_id=me)["galleries"]["gallery"][0]["id"]
    return [
        ("flickr.test.login", {}),
        ("flickr.test.echo", {"foo": "bar"}),
        ("flickr.auth.oauth.checkToken", {}),
        ("flickr.people.getInfo", {"user_id": me}),
        ("flickr.people.getPhotos", {"user_id": "me", "extras": "url_o,original_format,media"}),
        ("flickr.people.getPublicPhotos", {"user_id": me}),
        ("flickr.photos.getInfo", {"photo_id": photo["id"]}),
        ("flickr.photos.getInfo", {"photo_id": video["id"]}),
        ("flickr.photos.getSizes", {"photo_id": photo["id"]}),
        ("flickr.photos.getSizes", {"photo_id": video["id"]}),
        ("flickr.photos.getExif", {"photo_id": photo["id"]}),
        ("flickr.photos.getAllContexts", {"photo_id": photo["id"]}),
        ("flickr.photos.getNotInSet", {"extras": "media"}),
        ("flickr.photos.recentlyUpdated", {"min_date": "1"}),
        ("flickr.photos.search", {"user_id": "me", "text": "a"}),
        ("flickr.photos.comments.getList", {"photo_id": photo["id"]}),
        ("flickr.photos.people.getList", {"photo_id": photo["id"]}),
        ("flickr.photos.getPerms", {"photo_id": photo["id"]}),
        ("flickr.photos.setPerms", {"photo_id": photo["id"], "is_public": "1", "is_friend": "0",
                                    "is_family": "0"}),
        ("flickr.photos.licenses.getInfo", {}),
        ("flickr.photos.licenses.setLicense", {"photo_id": photo["id"], "license_id": "4"}),
        ("flickr.photosets.getList", {"primary_photo_extras": "url_o"}),
        ("flickr.photosets.getPhotos", {"photoset_id": album, "user_id": me, "extras": "media"}),
        ("flickr.photosets.getInfo", {"photoset_id": album}),
        ("flickr.photosets.comments.getList", {"photoset_id": album}),
        ("flickr.collections.getTree", {}),
        ("flickr.favorites.getList", {}),
        ("flickr.galleries.getList", {"user_id": me}),
        ("flickr.galleries.getInfo", {"gallery_id": gallery}),
        ("flickr.urls.lookupUser", {"url": f"https://www.flickr.com/photos/{me}/"}),
        ("flickr.people.findByUsername", {"username": sb.info["username"]}),
        ("flickr.video.getStreamInfo", {"photo_id": video["id"], "secret": video["secret"]}),
    ]


@pytest.mark.parametrize("fmt", ["parsed-json", "etree"])
def test_every_method_in_both_formats(sb, fmt):
    api = sb.flickrapi(fmt)
    for name, params in method_calls(sb):
        fn = api
        for part in name.split(".")[1:]:
            fn = getattr(fn, part)
        answer = fn(**params)
        if fmt == "parsed-json":
            assert answer["stat"] == "ok", name
        else:
            assert answer.tag == "rsp" and answer.get("stat") == "ok", name
    # The photo deleted last, so the loop above ran on a whole account.
    victim = sb.all_photos()[-1]["id"]
    answer = api.photos.delete(photo_id=victim)
    assert (answer["stat"] if fmt == "parsed-json" else answer.get("stat")) == "ok"
    with pytest.raises(flickrapi.FlickrError) as error:
        api.photos.getInfo(photo_id=victim)
    assert error.value.code == 1


def test_etree_answers_carry_the_data(sb):
    api = sb.flickrapi("etree")
    rsp = api.people.getPhotos(user_id="me", per_page=5, extras="url_o,media")
    photos = rsp.findall("photos/photo")
    assert len(photos) == 5 and all(p.get("id") and p.get("media") for p in photos)
    assert api.auth.oauth.checkToken().findtext("oauth/perms") == "delete"


def test_api_errors_surface_as_flickr_errors_with_codes(sb):
    api = sb.flickrapi()
    with pytest.raises(flickrapi.FlickrError) as error:
        api.photos.getInfo(photo_id="1")
    assert error.value.code == 1 and 'Photo "1" not found (invalid ID)' in str(error.value)
    with pytest.raises(flickrapi.FlickrError) as error:
        api.photos.doesNotExist()
    assert error.value.code == 112
