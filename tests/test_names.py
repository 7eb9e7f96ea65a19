"""File names from hostile titles: safe on Linux, macOS and Windows, unique by id."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings, strategies as st

from flickr_exodus.layout.names import file_name, item_path, slug, view_name

FORBIDDEN = set('<>:"/\\|?*') | {chr(c) for c in range(32)} | {"\x7f", "\u202e", "\u2066"}
RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


@settings(max_examples=500, deadline=None)
@given(title=st.text(max_size=400), item_id=st.from_regex(r"[1-9][0-9]{10}", fullmatch=True),
       ext=st.sampled_from(["jpg", "png", "mp4", "mov"]))
def test_any_title_gives_a_safe_unique_name(title, item_id, ext):
    name = file_name(item_id, title, ext)
    assert name.startswith(item_id) and name.endswith("." + ext)
    assert len(name.encode("utf-8")) <= 255
    assert not FORBIDDEN & set(name)
    assert name == unicodedata.normalize("NFC", name)
    assert not name.endswith((".", " ")) and name not in (".", "..")
    assert name.split(".")[0].upper() not in RESERVED
    # The id alone decides identity: another id never gives the same name.
    assert file_name(str(int(item_id) + 1), title, ext) != name


@given(title=st.text(max_size=300))
def test_slugs_never_escape_or_hide(title):
    part = slug(title)
    assert "/" not in part and "\\" not in part and not part.startswith(".")
    assert len(part.encode("utf-8")) <= 80
    folder = view_name(title, "72157600000000001")
    assert folder.endswith("72157600000000001") and ".." not in folder.split("/")


def test_hostile_examples():
    assert item_path("123", "../../etc/passwd", "jpg", "2019-07-04 10:00:00", False) == \
        "photos/2019/07/04/123_etc_passwd.jpg"
    assert file_name("123", "CON", "jpg") == "123__CON.jpg"
    assert file_name("123", "", "jpg") == "123.jpg"
    assert file_name("123", "a\u202egnp.exe", "jpg") == "123_a_gnp.exe.jpg"
    assert item_path("5", "x", "png", "0000-00-00 00:00:00", False).startswith("photos/undated/")
    assert item_path("5", "x", "png", "2019-07-04 10:00:00", True).startswith("photos/undated/")
    assert len(file_name("1", "é" * 300, "jpg").encode()) <= 255
