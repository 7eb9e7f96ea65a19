"""The gallery's thumbnails (gallery/thumbs.py, gallery/draw.py): drawn upright, from real
files Pillow writes here and from a real sandbox backup; a hostile file gives no rendition
and stops nothing; a rerun with nothing changed opens no image and writes no file; a new
original replaces its renditions; nothing is ever written outside OUT/site/img/."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from conftest import backed_up
from flickr_exodus.catalog.store import Catalog
from flickr_exodus.gallery import thumbs
from flickr_exodus.sandbox import SandboxConfig

RED, BLUE = (255, 0, 0), (0, 0, 255)
SHA_A, SHA_B = "a" * 64, "b" * 64


def halves(path: Path, orientation: int | None = None, size=(600, 400), fmt="JPEG") -> Path:
    """A landscape picture, its left half red and its right half blue, with an EXIF
    Orientation when given: a camera held upright writes 6."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(path, fmt, **({"exif": exif.tobytes()} if orientation else {}))
    return path


def color(image: Image.Image, xy: tuple[int, int]) -> str:
    r, g, b = image.convert("RGB").getpixel(xy)[:3]
    return "red" if r > 200 and b < 60 else "blue" if b > 200 and r < 60 else f"other{(r, g, b)}"


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under root: (inode, mtime in ns), by path."""
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            st = os.lstat(Path(folder) / name)
            out[str((Path(folder) / name).relative_to(root))] = (st.st_ino, st.st_mtime_ns)
    return out


def opened(out: Path, rendition: thumbs.Rendition) -> Image.Image:
    image = Image.open(out / rendition.path)
    assert image.size == (rendition.width, rendition.height)  # the sizes srcset is written from
    return image


@pytest.mark.parametrize("jobs", [1, 2])
def test_exif_orientation_and_flickr_rotation_give_the_picture_upright(tmp_path, jobs):
    halves(tmp_path / "exif6.jpg", orientation=6)
    halves(tmp_path / "plain.jpg")
    halves(tmp_path / "both.jpg", orientation=6)
    halves(tmp_path / "plain.png", fmt="PNG")
    sources = [thumbs.Source("11", "exif6.jpg", SHA_A, "photo"),
               thumbs.Source("12", "plain.jpg", SHA_A, "photo", rotation=90),
               thumbs.Source("13", "both.jpg", SHA_A, "photo", rotation=90),
               thumbs.Source("14", "plain.png", SHA_A, "photo", rotation=270)]
    made = thumbs.build(tmp_path, tmp_path, sources, jobs=jobs)

    for pid in ("11", "12"):  # turned a quarter clockwise: the left (red) half is on top
        widths = [(r.width, r.height) for r in made[pid]]
        assert widths == [(213, 320), (400, 600), (400, 600)], pid  # never enlarged past the original
        image = opened(tmp_path, made[pid][0])
        assert (color(image, (106, 40)), color(image, (106, 280))) == ("red", "blue"), pid
    both = opened(tmp_path, made["13"][0])  # EXIF then Flickr: half a turn, red on the right
    assert both.size == (320, 213) and (color(both, (20, 100)), color(both, (300, 100))) == ("blue", "red")
    png = opened(tmp_path, made["14"][0])  # a quarter anticlockwise: red at the bottom
    assert png.size == (213, 320) and (color(png, (100, 20)), color(png, (100, 300))) == ("blue", "red")


def test_a_large_jpeg_is_drawn_at_every_width_from_a_draft_decode(tmp_path):
    image = Image.new("RGB", (4000, 3000), BLUE)
    image.paste(RED, (0, 0, 2000, 3000))
    image.save(tmp_path / "big.jpg", quality=90)
    made = thumbs.build(tmp_path, tmp_path, [thumbs.Source("21", "big.jpg", SHA_A, "photo")], jobs=1)
    assert [(r.width, r.height) for r in made["21"]] == [(320, 240), (800, 600), (1600, 1200)]
    for r in made["21"]:
        drawn = opened(tmp_path, r)
        assert (color(drawn, (r.width // 4, r.height // 2)), color(drawn, (3 * r.width // 4, r.height // 2))) \
            == ("red", "blue")


def test_gif_first_frame_tiff_and_transparency_on_white(tmp_path):
    frames = [Image.new("RGB", (400, 300), RED), Image.new("RGB", (400, 300), BLUE)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    Image.new("RGB", (400, 300), BLUE).save(tmp_path / "scan.tif", compression="tiff_lzw")
    clear = Image.new("RGBA", (400, 300), (0, 0, 0, 0))  # wholly transparent: white, not black
    clear.paste((255, 0, 0, 255), (0, 0, 200, 300))
    clear.save(tmp_path / "clear.png")
    sources = [thumbs.Source(pid, name, SHA_A, "photo") for pid, name in
               (("91", "anim.gif"), ("92", "scan.tif"), ("93", "clear.png"))]
    made = thumbs.build(tmp_path, tmp_path, sources, jobs=1)
    assert color(opened(tmp_path, made["91"][0]), (160, 120)) == "red"
    assert color(opened(tmp_path, made["92"][0]), (160, 120)) == "blue"
    cleared = opened(tmp_path, made["93"][0]).convert("RGB")
    assert color(cleared, (40, 120)) == "red" and min(cleared.getpixel((300, 120))) > 240


def bomb_png(path: Path, width: int, height: int) -> Path:
    """A PNG header claiming width x height with a few bytes of data: what a decompression
    bomb looks like to whoever opens it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))
    return path


def test_hostile_files_give_no_rendition_and_stop_nothing(tmp_path):
    halves(tmp_path / "good.jpg")
    whole = io.BytesIO()
    Image.effect_noise((800, 600), 60).save(whole, "JPEG")
    (tmp_path / "truncated.jpg").write_bytes(whole.getvalue()[: len(whole.getvalue()) // 2])
    bomb_png(tmp_path / "bomb.png", 40_000, 40_000)       # past twice MAX_IMAGE_PIXELS: Pillow refuses
    bomb_png(tmp_path / "warned.png", 20_000, 15_000)     # past MAX_IMAGE_PIXELS: a warning, taken as a refusal
    bomb_png(tmp_path / "too-big.png", 10_000, 8_000)     # past what a worker may decode
    (tmp_path / "text.jpg").write_text("<html>not a picture</html>")
    (tmp_path / "empty.jpg").write_bytes(b"")
    names = ["truncated.jpg", "bomb.png", "warned.png", "too-big.png", "text.jpg", "empty.jpg", "missing.jpg",
             "good.jpg"]
    sources = [thumbs.Source(str(30 + n), name, SHA_A, "photo") for n, name in enumerate(names)]
    sources.append(thumbs.Source("40", "good.jpg", SHA_A, "video"))  # a video without a poster
    seen = []
    made = thumbs.build(tmp_path, tmp_path, sources, progress=seen.append, jobs=2)

    assert list(made) == ["37"] and len(seen) == len(sources)
    assert sorted(os.listdir(tmp_path / "site" / "img")) == ["37", "renditions.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({*names, "site"} - {"missing.jpg"})


def test_a_rerun_with_nothing_changed_opens_no_image_and_writes_no_file(tmp_path):
    for n in range(4):
        halves(tmp_path / f"{n}.jpg", size=(900 + n, 500))
    sources = [thumbs.Source(str(50 + n), f"{n}.jpg", SHA_A, "photo") for n in range(4)]
    first = thumbs.build(tmp_path, tmp_path, sources, jobs=2)
    before = tree(tmp_path / "site")
    for n in range(4):  # had the rerun opened an original, it would find no picture there
        (tmp_path / f"{n}.jpg").write_text("not a picture any more")

    again = thumbs.build(tmp_path, tmp_path, sources, jobs=2)

    assert again == first and list(first) == [s.id for s in sources]  # in the sources' order
    assert tree(tmp_path / "site") == before


def test_a_new_original_replaces_its_renditions_and_the_old_are_pruned(tmp_path):
    halves(tmp_path / "a.jpg")
    halves(tmp_path / "b.jpg", size=(300, 500))
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "keep.jpg").write_text("not ours")
    first = thumbs.build(tmp_path, tmp_path, [thumbs.Source("61", "a.jpg", SHA_A, "photo"),
                                              thumbs.Source("62", "a.jpg", SHA_A, "photo")], jobs=1)
    img = tmp_path / "site" / "img"
    (img / "placeholder.svg").write_text("<svg/>")  # someone else's file beside the renditions
    os.symlink(tmp_path / "outside", img / "63")     # planted where an item's folder would be

    second = thumbs.build(tmp_path, tmp_path, [thumbs.Source("61", "b.jpg", SHA_B, "photo")], jobs=1)

    assert [(r.width, r.height) for r in second["61"]] == [(192, 320), (300, 500), (300, 500)]
    assert sorted(os.listdir(img / "61")) == [f"bbbbbbbbbbbb-{w}.jpg" for w in (1600, 320, 800)]
    assert not (tmp_path / first["61"][0].path).exists() and not (img / "62").exists()
    assert not os.path.lexists(img / "63") and (tmp_path / "outside" / "keep.jpg").read_text() == "not ours"
    assert (img / "placeholder.svg").exists()


@pytest.mark.parametrize("bad_id", ["../../evil", "61/../../x", "/tmp/abs", "12a", "", "٣٤"])
def test_an_id_that_is_not_flickrs_builds_no_path(tmp_path, bad_id):
    halves(tmp_path / "a.jpg")
    (tmp_path / "deep" / "er").mkdir(parents=True)
    out = tmp_path / "deep" / "er"
    made = thumbs.build(tmp_path, out, [thumbs.Source(bad_id, "../../a.jpg", SHA_A, "photo"),
                                        thumbs.Source("71", "a.jpg", "../../" + SHA_A, "photo")], jobs=1)
    assert list(made) == ["71"] and made["71"][0].path == "site/img/71/nosum-320.jpg"
    assert sorted(tree(tmp_path)) == sorted(["a.jpg", "deep/er/site/img/renditions.txt",
                                             *(f"deep/er/site/img/71/nosum-{w}.jpg" for w in (320, 800, 1600))])


def test_every_photo_of_a_sandbox_backup_gets_renditions_and_videos_none(tmp_path):
    """The real chain: sandbox originals (JPEGs with EXIF, PNGs), backed up by `exodus backup`."""
    config = SandboxConfig(photos=10, videos=2, albums=1, seed=7, video_access="oauth", media_size=(60_000, 200_000),
                           video_size=(20_000, 30_000))
    with backed_up(tmp_path, config) as (_, _, dest):
        cat = Catalog.open(dest, read_only=True)
        items = [i for i in cat.items() if i.path]
        sources = [thumbs.Source(i.id, i.path, i.sha256, i.media, i.rotation or 0) for i in items]
        made = thumbs.build(dest, dest, sources, jobs=2)
    photos = [i for i in items if i.media == "photo"]
    assert len(photos) == 10 and sorted(made) == sorted(i.id for i in photos)
    for item in photos:
        for rendition, width in zip(made[item.id], thumbs.WIDTHS):
            image = opened(dest, rendition)
            assert max(image.size) == min(width, max(item.o_width, item.o_height)), item.id
            turned = (item.rotation or 0) % 180 == 90  # Flickr's o_width and o_height are the file's, unturned
            if item.o_width != item.o_height:
                assert (image.width > image.height) == ((item.o_width > item.o_height) != turned), item.id
    assert any((i.rotation or 0) % 180 == 90 for i in photos) and any(i.path.endswith(".png") for i in photos)


def test_a_link_or_file_planted_where_an_items_folder_belongs_is_replaced_never_followed(tmp_path):
    halves(tmp_path / "a.jpg")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / f"{'a' * 12}-320.jpg").write_text("not ours")  # what a followed link would take as made
    img = tmp_path / "out" / "site" / "img"
    img.mkdir(parents=True)
    os.symlink(outside, img / "81")
    (img / "82").write_text("a file where a folder belongs")
    os.symlink(outside / "x.jpg", img / "83")  # a dangling link

    made = thumbs.build(tmp_path, tmp_path / "out", [thumbs.Source(pid, "a.jpg", SHA_A, "photo")
                                                     for pid in ("81", "82", "83")], jobs=1)

    assert sorted(made) == ["81", "82", "83"]
    assert all((img / pid).is_dir() and not (img / pid).is_symlink() for pid in made)
    assert sorted(os.listdir(outside)) == [f"{'a' * 12}-320.jpg"]
    assert (outside / f"{'a' * 12}-320.jpg").read_text() == "not ours"


def test_a_damaged_or_hostile_manifest_is_not_trusted(tmp_path):
    halves(tmp_path / "a.jpg")
    sources = [thumbs.Source("95", "a.jpg", SHA_A, "photo"), thumbs.Source("96", "a.jpg", SHA_A, "photo")]
    first = thumbs.build(tmp_path, tmp_path, sources, jobs=1)
    manifest = tmp_path / thumbs.MANIFEST
    head = manifest.read_text().split("\n")[0]
    # Sizes that are not the files', a key that would name a path outside, an id that is not Flickr's.
    manifest.write_text(f"{head}\n95 {'a' * 12} 1 1 1 1 1 1\n96 ../../../x 9 9 9 9 9 9\n../97 {'a' * 12}\n")
    (tmp_path / first["95"][0].path).unlink()  # so the false sizes are not taken as made

    again = thumbs.build(tmp_path, tmp_path, sources, jobs=1)

    assert again == first and sorted(os.listdir(tmp_path / "site" / "img")) == ["95", "96", "renditions.txt"]
    assert manifest.read_text().startswith(head + "\n95 ") and "../" not in manifest.read_text()


def test_a_video_is_drawn_from_its_poster_only(tmp_path):
    (tmp_path / "clip.mp4").write_bytes(b"\0\0\0\x18ftypmp42" + bytes(100))
    halves(tmp_path / "clip.poster.jpg")
    made = thumbs.build(tmp_path, tmp_path, [
        thumbs.Source("97", "clip.mp4", SHA_A, "video", poster="clip.poster.jpg"),
        thumbs.Source("98", "clip.mp4", SHA_B, "video"),
        thumbs.Source("99", "clip.mp4", SHA_B, "video", poster="../outside.jpg")], jobs=1)
    assert list(made) == ["97"] and color(opened(tmp_path, made["97"][0]), (40, 100)) == "red"
