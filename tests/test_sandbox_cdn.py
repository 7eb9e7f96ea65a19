"""The CDN: exact byte ranges, originals that hash to the manifest, real media, videos
behind /play/orig/ and a signed redirect, and the free-account refusals."""

from __future__ import annotations

import hashlib
import io
import struct

import pytest
import requests
from PIL import Image


def test_every_original_served_hashes_to_the_manifest(sb):
    manifest = sb.manifest()
    photos = [p for p in sb.all_photos() if p["media"] == "photo"]
    assert len(photos) == sum(1 for i in manifest.values() if i["media"] == "photo")
    for photo in photos:
        body = requests.get(photo["url_o"], timeout=30).content
        assert len(body) == manifest[photo["id"]]["size"]
        assert hashlib.sha256(body).hexdigest() == manifest[photo["id"]]["sha256"], photo["id"]


def test_range_requests_return_exactly_the_requested_bytes(sb):
    photo = max((p for p in sb.all_photos() if p["media"] == "photo"), key=lambda p: sb.manifest()[p["id"]]["size"])
    full = requests.get(photo["url_o"], timeout=30)
    size = len(full.content)
    assert full.headers["Accept-Ranges"] == "bytes" and int(full.headers["Content-Length"]) == size
    for header, (start, end) in {
        "bytes=0-0": (0, 1), "bytes=10-99": (10, 100), f"bytes={size - 7}-": (size - 7, size),
        "bytes=-300": (size - 300, size), f"bytes=65530-{size + 50}": (65530, size),
    }.items():
        part = requests.get(photo["url_o"], headers={"Range": header}, timeout=30)
        assert part.status_code == 206, header
        assert part.content == full.content[start:end], header
        assert part.headers["Content-Range"] == f"bytes {start}-{end - 1}/{size}"
    beyond = requests.get(photo["url_o"], headers={"Range": f"bytes={size}-"}, timeout=30)
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{size}"


def test_if_range_with_a_stale_etag_sends_the_whole_file(sb):
    photo = next(p for p in sb.all_photos() if p["media"] == "photo")
    etag = requests.head(photo["url_o"], timeout=30).headers["ETag"]
    fresh = requests.get(photo["url_o"], headers={"Range": "bytes=5-", "If-Range": etag}, timeout=30)
    stale = requests.get(photo["url_o"], headers={"Range": "bytes=5-", "If-Range": '"old"'}, timeout=30)
    assert fresh.status_code == 206 and stale.status_code == 200


def test_originals_are_real_images_with_exif_matching_the_api(sb):
    photos = [p for p in sb.all_photos(extras="url_o,o_dims,date_taken,media,original_format")
              if p["media"] == "photo"]
    formats = set()
    for photo in photos:
        image = Image.open(io.BytesIO(requests.get(photo["url_o"], timeout=30).content))
        image.load()  # decodes every pixel: a broken file raises here
        formats.add(image.format)
        assert image.size == (int(photo["o_width"]), int(photo["o_height"])), photo["id"]
        if image.format == "JPEG":
            taken = image.getexif().get_ifd(0x8769).get(0x9003)
            assert taken == photo["datetaken"].replace("-", ":", 2), photo["id"]
    assert formats == {"JPEG", "PNG"}


def test_smaller_sizes_exist_at_their_urls(sb):
    photo = next(p for p in sb.all_photos(extras="url_sq,url_t,url_m,url_z,url_l,media") if p["media"] == "photo")
    for code in ("sq", "t", "m"):
        image = Image.open(io.BytesIO(requests.get(photo[f"url_{code}"], timeout=30).content))
        assert image.size == (int(photo[f"width_{code}"]), int(photo[f"height_{code}"]))
    wrong = photo["url_t"].replace(photo["url_t"].rsplit("/", 1)[1].split("_")[1], "0000000000")
    assert requests.get(wrong, timeout=30).status_code == 404


def video_original(sb, photo_id: str) -> str:
    sizes = sb.call("flickr.photos.getSizes", photo_id=photo_id)["sizes"]["size"]
    return next(s["source"] for s in sizes if s["label"] == "Video Original")


def mvhd_duration(data: bytes) -> int:
    at = data.index(b"mvhd")
    timescale, duration = struct.unpack(">II", data[at + 16:at + 24])
    return duration // timescale


@pytest.mark.parametrize("mode", ["cookie", "oauth", "open"])
def test_video_original_access_modes(make_sandbox, mode):
    sb = make_sandbox(photos=2, videos=2, albums=1, video_access=mode)
    manifest = sb.manifest()
    video = next(p for p in sb.all_photos() if p["media"] == "video")
    url = video_original(sb, video["id"])
    assert "/play/orig/" in url
    cookie_name, cookie_value = sb.info["session_cookie"].split("=", 1)

    anonymous = requests.get(url, allow_redirects=False, timeout=30)
    signed = requests.get(url, allow_redirects=False, auth=sb.auth(), timeout=30)
    with_cookie = requests.get(url, allow_redirects=False, cookies={cookie_name: cookie_value}, timeout=30)
    assert with_cookie.status_code == 302
    assert anonymous.status_code == (302 if mode == "open" else 404)
    assert signed.status_code == (404 if mode == "cookie" else 302)

    got = requests.get(with_cookie.headers["Location"], timeout=30)
    assert got.status_code == 200 and got.headers["Content-Type"] == "video/mp4"
    item = manifest[video["id"]]
    assert got.headers["Content-Disposition"].endswith(f'.{item["original_format"]}"')
    assert hashlib.sha256(got.content).hexdigest() == item["sha256"]
    assert got.content[4:8] == b"ftyp"
    info = sb.call("flickr.photos.getInfo", photo_id=video["id"])["photo"]
    assert mvhd_duration(got.content) == int(info["video"]["duration"])


def test_a_videos_url_o_is_a_still_not_the_video(sb):
    video = next(p for p in sb.all_photos() if p["media"] == "video")
    still = requests.get(video["url_o"], timeout=30)
    assert still.headers["Content-Type"] == "image/jpeg" and still.content[:3] == b"\xff\xd8\xff"
    assert hashlib.sha256(still.content).hexdigest() != sb.manifest()[video["id"]]["sha256"]


def test_signed_video_urls_expire_and_cannot_be_forged(make_sandbox):
    sb = make_sandbox(photos=1, videos=1, albums=1, video_access="open", video_url_ttl=-1)
    video = next(p for p in sb.all_photos() if p["media"] == "video")
    location = requests.get(video_original(sb, video["id"]), allow_redirects=False, timeout=30).headers["Location"]
    assert requests.get(location, timeout=30).status_code == 403  # already expired
    assert requests.get(location.split("?")[0] + "?s=forged", timeout=30).status_code == 403


def test_only_the_owner_sees_video_original_in_get_sizes(sb):
    video = next(p for p in sb.all_photos() if p["media"] == "video")
    anonymous = sb.rest("flickr.photos.getSizes", anonymous=True, photo_id=video["id"]).json()
    if anonymous["stat"] == "ok":  # a public video
        assert "Video Original" not in [s["label"] for s in anonymous["sizes"]["size"]]


def test_free_account_withholds_large_sizes_except_creative_commons(make_sandbox):
    sb = make_sandbox(photos=30, videos=0, albums=1, free_account=True, media_size=(150_000, 300_000))
    photos = sb.all_photos(extras="url_o,url_b,url_h,license,original_format,media")
    cc = [p for p in photos if int(p["license"]) in {1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16}]
    other = [p for p in photos if p not in cc]
    assert cc and other
    assert all("url_o" in p for p in cc)
    assert all("url_o" not in p and "url_h" not in p and "originalsecret" not in p for p in other)
    labels = {s["label"] for s in sb.call("flickr.photos.getSizes", photo_id=other[0]["id"])["sizes"]["size"]}
    assert "Original" not in labels and "Large 1600" not in labels
    # A URL the account knew before it became free is refused by the CDN.
    with_orig = sb.control("faults", free_account=False)
    assert with_orig["ok"]
    url = next(p for p in sb.all_photos(extras="url_o,license") if p["id"] == other[0]["id"])["url_o"]
    sb.control("faults", free_account=True)
    assert requests.get(url, timeout=30).status_code == 403
