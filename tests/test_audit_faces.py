"""Faces: the sandbox composes a real face into some originals (SandboxConfig.faces), and
flickr_exodus.audit.faces.detect finds it where the sandbox's manifest says it is, in the
originals its CDN serves; a hostile file is an answer, never an exception."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib

import pytest
import requests
from PIL import Image

from conftest import EXODUS, Client
from flickr_exodus.audit import faces
from flickr_exodus.sandbox import Sandbox, SandboxConfig
from flickr_exodus.sandbox.generate import generate

PORTRAITS = 3


def iou(a, b) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


@pytest.fixture(scope="module")
def portraits():
    with Sandbox(SandboxConfig(photos=12, videos=1, albums=2, seed=5, faces=PORTRAITS)) as sandbox:
        yield Client(sandbox)


@pytest.fixture(scope="module")
def originals(portraits, tmp_path_factory):
    """Every photo original as the sandbox's CDN serves it, on disk: {id: path}."""
    folder = tmp_path_factory.mktemp("originals")
    out = {}
    for photo in portraits.all_photos(extras="media,url_o"):
        if photo["media"] == "photo":
            path = folder / f"{photo['id']}.{photo['url_o'].rsplit('.', 1)[1]}"
            path.write_bytes(requests.get(photo["url_o"], timeout=60).content)
            out[photo["id"]] = path
    return out


def test_the_detector_runs_here_and_names_its_version_and_size():
    assert faces.missing() is None
    assert faces.DETECTOR.startswith("dlib-hog-") and faces.DETECTOR.endswith(f"@{faces.LONGEST}")


def test_without_the_detector_the_module_imports_and_says_how_to_get_it():
    script = ("import sys; sys.modules['dlib'] = None\n"
              "from flickr_exodus.audit import faces\n"
              "print(faces.missing())")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "face detection needs the faces extra: pip install 'flickr-exodus[faces]'"


def test_detect_finds_each_composed_face_where_the_manifest_puts_it(portraits, originals):
    manifest = portraits.manifest()
    with_face = [m for m in manifest.values() if m["has_face"]]
    assert len(with_face) == PORTRAITS
    for entry in with_face:
        width, height, boxes = faces.detect(str(originals[entry["id"]]))
        shown = Image.open(originals[entry["id"]]).size
        assert (width, height) == shown
        assert max((iou(box, entry["face_box"]) for box in boxes), default=0) >= 0.5, (entry["face_box"], boxes)


def test_detect_finds_no_face_in_the_face_free_originals(portraits, originals):
    free = [m for m in portraits.manifest().values() if m["media"] == "photo" and not m["has_face"]]
    assert free and all(m["face_box"] is None for m in free)
    for entry in free:
        found = faces.detect(str(originals[entry["id"]]))
        assert found[2] == [], (entry["id"], found)


def test_boxes_are_in_the_picture_as_displayed_under_exif_orientation(portraits, originals, tmp_path):
    entry = next(m for m in portraits.manifest().values() if m["has_face"])
    with Image.open(originals[entry["id"]]) as image:
        width, height = image.size
        exif = Image.Exif()
        exif[0x0112] = 6  # shown turned 90° clockwise: stored turned the other way
        turned = tmp_path / "turned.jpg"
        image.transpose(Image.Transpose.ROTATE_90).save(turned, "JPEG", quality=90, exif=exif)
    shown_w, shown_h, boxes = faces.detect(str(turned))
    assert (shown_w, shown_h) == (width, height)
    assert max((iou(box, entry["face_box"]) for box in boxes), default=0) >= 0.5, (entry["face_box"], boxes)


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk


def test_hostile_files_are_unreadable_or_missing(originals, portraits, tmp_path):
    face_file = originals[next(m["id"] for m in portraits.manifest().values() if m["has_face"])]
    data = face_file.read_bytes()
    hostile = {
        "truncated.jpg": data[: len(data) // 2],
        "not-a-picture.jpg": b"Just some words, not a picture.\n" * 40,
        "empty.jpg": b"",
        "bomb.png": _png_header(40_000, 40_000),  # 1.6 gigapixels claimed in 45 bytes
        "wide.png": _png_header(9_000, 9_000),  # under the bomb limit, over what a worker decodes
    }
    for name, content in hostile.items():
        (tmp_path / name).write_bytes(content)
        assert faces.detect(str(tmp_path / name)) == "unreadable", name
    (tmp_path / "folder.jpg").mkdir()
    assert faces.detect(str(tmp_path / "folder.jpg")) == "unreadable"
    assert faces.detect(str(tmp_path / "gone.jpg")) == "missing"
    assert faces.detect(str(tmp_path / "empty.jpg" / "below")) == "missing"
    odd = Image.Exif()
    odd[0x0112] = 99  # no such orientation: shown as stored
    Image.new("RGB", (64, 48)).save(tmp_path / "odd.jpg", "JPEG", exif=odd)
    assert faces.detect(str(tmp_path / "odd.jpg")) == (64, 48, [])


def test_the_portraits_are_public_cc_by_tagged_with_one_person(portraits):
    with_face = [m for m in portraits.manifest().values() if m["has_face"]]
    assert len(with_face) == PORTRAITS
    for entry in with_face:
        info = portraits.call("flickr.photos.getInfo", photo_id=entry["id"])["photo"]
        assert info["visibility"]["ispublic"] == 1 and int(info["license"]) == 4
        assert "portrait" in [tag["_content"] for tag in info["tags"]["tag"]]
        people = portraits.call("flickr.photos.people.getList", photo_id=entry["id"])["people"]["person"]
        assert len(people) == 1
        x, y, w, h = entry["face_box"]
        assert 0 <= x and 0 <= y and w >= 80 and h >= 80


def test_faces_leave_every_other_item_and_a_faceless_account_byte_for_byte():
    plain = generate(SandboxConfig(photos=12, videos=1, albums=2, seed=5))
    none = generate(SandboxConfig(photos=12, videos=1, albums=2, seed=5, faces=0))
    some = generate(SandboxConfig(photos=12, videos=1, albums=2, seed=5, faces=PORTRAITS))
    assert json.dumps(none.manifest()) == json.dumps(plain.manifest())
    assert [none.record(i) for i in none.items.values()] == [plain.record(i) for i in plain.items.values()]
    changed = [m["id"] for m in some.manifest()["items"] if m["has_face"]]
    assert len(changed) == PORTRAITS
    for before, after in zip(plain.manifest()["items"], some.manifest()["items"]):
        assert (before == after) is (after["id"] not in changed)
    assert [plain.record(i) for i in plain.items.values() if i.id not in changed] == \
           [some.record(i) for i in some.items.values() if i.id not in changed]


def test_sandbox_faces_on_the_command_line():
    too_many = subprocess.run([*EXODUS, "sandbox", "--photos", "2", "--faces", "3"], capture_output=True,
                              text=True, timeout=60)
    assert too_many.returncode == 2 and "faces (3) cannot be more than photos (2)" in too_many.stderr
    assert "Traceback" not in too_many.stderr
    script = ("import sys; sys.modules['skimage'] = None\n"
              "from flickr_exodus.cli import main\n"
              "sys.argv = ['exodus', 'sandbox', '--faces', '1']\n"
              "main()")
    without = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert without.returncode == 2 and "Traceback" not in without.stderr
    assert "--faces needs scikit-image" in without.stderr
