"""The structural completeness check (media/complete.py) on real files: Pillow's JPEG
(baseline, progressive), PNG, GIF, TIFF, WEBP and BMP, the sandbox's own JPEGs with EXIF
and its MP4/MOV videos, and hand-built HEIC and AVI. Each whole file passes; each cut
short, at any point, fails; a stray byte after an MP4's boxes fails; a JPEG's trailer
after its end-of-image marker is allowed."""

from __future__ import annotations

import io
import os
import random
import struct

import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

from flickr_exodus.media import magic
from flickr_exodus.sandbox import media
from flickr_exodus.media import complete


def _noise(width: int, height: int, seed: int) -> Image.Image:
    """A picture that compresses like a photo (badly), so that JPEG scans are long and
    full of stuffed 0xFF bytes."""
    rng = random.Random(seed)
    return Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))


def _saved(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _animated_gif() -> bytes:
    frames = [_noise(64, 48, seed).convert("P") for seed in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0, comment=b"x" * 300)
    return out.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _heic(image_bytes: int = 5000) -> bytes:
    """ftyp + meta (hdlr, iloc naming one extent in mdat) + mdat: the shape of a phone's HEIC."""
    ftyp = _box(b"ftyp", b"heic" + bytes(4) + b"mif1heic")
    hdlr = _box(b"hdlr", bytes(8) + b"pict" + bytes(13))

    def meta(offset: int) -> bytes:
        # iloc version 1: offset_size 4, length_size 4, base_offset_size 0, index_size 0.
        iloc = _box(b"iloc", b"\x01\x00\x00\x00" + b"\x44\x00" + struct.pack(">H", 1)
                    + struct.pack(">HHHH", 1, 0, 0, 1) + struct.pack(">II", offset, image_bytes))
        return _box(b"meta", bytes(4) + hdlr + iloc)

    head = len(ftyp) + len(meta(0)) + 8
    return ftyp + meta(head) + _box(b"mdat", random.Random(7).randbytes(image_bytes))


def _riff_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")


def _avi(chunks: int = 1) -> bytes:
    """A RIFF 'AVI ' chunk, then (OpenDML, files over 1 GB) 'AVIX' chunks, each with a movi list."""
    forms = [b"AVI "] + [b"AVIX"] * (chunks - 1)
    return b"".join(_riff_chunk(b"RIFF", form + _riff_chunk(b"LIST", b"movi" + random.Random(n).randbytes(2001)))
                    for n, form in enumerate(forms))


def _sandbox_jpeg() -> bytes:
    exif = media.Exif("Canon", "EOS 5D", "2019:07:04 10:00:00", 640, 480)
    return media.jpeg(640, 480, 150_000, exif, seed=3, base=11).bytes()


FILES = {
    "jpeg": lambda: _saved(_noise(320, 240, 1), "JPEG", quality=95),
    "jpeg_progressive": lambda: _saved(_noise(320, 240, 2), "JPEG", quality=90, progressive=True),
    "jpeg_restart_markers": lambda: _saved(_noise(320, 240, 3), "JPEG", quality=90, restart_marker_blocks=4),
    "jpeg_exif_sandbox": _sandbox_jpeg,
    "png": lambda: _saved(_noise(200, 150, 4), "PNG"),
    "gif": lambda: _saved(_noise(200, 150, 5).convert("P"), "GIF"),
    "gif_animated": _animated_gif,
    "tiff": lambda: _saved(_noise(200, 150, 6), "TIFF"),
    "tiff_lzw_strips": lambda: _saved(_noise(200, 150, 7), "TIFF", compression="tiff_lzw"),
    "tiff_big_endian": lambda: _tiff_big_endian(),
    "webp": lambda: _saved(_noise(200, 150, 9), "WEBP", quality=80),
    "webp_lossless": lambda: _saved(_noise(64, 48, 10), "WEBP", lossless=True),
    "bmp": lambda: _saved(_noise(201, 150, 11), "BMP"),
    "mp4_sandbox": lambda: media.video("mp4", 120_000, 7, 640, 480, seed=3, base=5).bytes(),
    "mov_sandbox": lambda: media.video("mov", 90_000, 4, 640, 480, seed=3, base=9).bytes(),
    "heic": _heic,
    "avi": _avi,
    "avi_openDML": lambda: _avi(3),
}


def _tiff_big_endian() -> bytes:
    """A big-endian TIFF: its IFD at the end, its strips first (Pillow writes the other way)."""
    pixels = _noise(40, 30, 12).tobytes()
    strips = [pixels[i:i + 40 * 3 * 10] for i in range(0, len(pixels), 40 * 3 * 10)]
    body = b"".join(strips)
    ifd_at = 8 + len(body)
    entries = [(256, 3, 1, 40), (257, 3, 1, 30), (262, 3, 1, 2), (277, 3, 1, 3), (278, 3, 1, 10)]
    offsets_at = ifd_at + 2 + 12 * 7 + 4
    counts_at = offsets_at + 4 * len(strips)
    table = b"".join(struct.pack(">HHIHxx", *e) for e in entries)
    table += struct.pack(">HHII", 273, 4, len(strips), offsets_at)
    table += struct.pack(">HHII", 279, 4, len(strips), counts_at)
    ifd = struct.pack(">H", 7) + table + struct.pack(">I", 0)
    arrays = struct.pack(f">{len(strips)}I", *(8 + i * len(strips[0]) for i in range(len(strips))))
    arrays += struct.pack(f">{len(strips)}I", *(len(s) for s in strips))
    return b"MM\0*" + struct.pack(">I", ifd_at) + body + ifd + arrays


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return {name: make() for name, make in FILES.items()}


def verdict(data: bytes, block: int = complete.BLOCK) -> complete.Flaw | None:
    """The check as verify runs it: the seek check on the open file, then the streamed
    walk fed `block`-sized pieces of it."""
    kind = magic.sniff(data[:magic.HEAD])
    assert kind, data[:16]
    flaw = complete.seek_check(io.BytesIO(data), kind, len(data))
    walk = complete.walker(kind)
    if flaw or walk is None:
        return flaw
    for start in range(0, len(data), block):
        walk.feed(data[start:start + block])
    return walk.finish()


def cut_points(size: int) -> list[int]:
    """Every byte near both ends, and ~400 spread between."""
    return sorted({*range(min(size, 80)), *range(max(0, size - 80), size), *range(0, size, max(1, size // 400))})


@pytest.mark.parametrize("name", FILES)
def test_a_whole_file_passes_and_is_checked(files, name):
    data = files[name]
    kind = magic.sniff(data[:magic.HEAD])
    assert complete.checked(kind), kind
    assert verdict(data) is None
    assert verdict(data, block=1009) is None  # block boundaries anywhere


@pytest.mark.parametrize("name", FILES)
def test_a_file_cut_short_anywhere_fails(files, name):
    data = files[name]
    passed = []
    for cut in cut_points(len(data)):
        head = data[:cut]
        if magic.sniff(head[:magic.HEAD]) is None:
            continue  # too short to be taken for this format at all: verify calls it wrong_format
        flaw = verdict(head)
        if flaw is None:
            passed.append(cut)
        else:
            assert flaw.kind in (complete.TRUNCATED, complete.MALFORMED) and flaw.detail
    assert passed == [], f"{name}: cut at {passed[:10]} of {len(data)} bytes passed"


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from([n for n in FILES if n.startswith(("jpeg", "png", "gif"))]),
       cut=st.floats(0, 1, exclude_max=True), block=st.integers(1, 70_000))
def test_streamed_walks_agree_whatever_the_block_size(files, name, cut, block):
    data = files[name]
    assert verdict(data, block) is None
    head = data[:max(magic.HEAD, int(len(data) * cut))]
    assert verdict(head, block) is not None


@pytest.mark.parametrize("trailer", [b"\0", b"MPF secondary image " * 500, b"\xff\xd8\xff\xe1 trailing junk \xff"])
@pytest.mark.parametrize("name", ["png", "gif"])
def test_bytes_after_the_end_marker_are_allowed(files, name, trailer):
    assert verdict(files[name] + trailer) is None
    assert verdict(files[name] + trailer, block=777) is None


@pytest.mark.parametrize("padding", [b"\0", b"\0" * 70_000])
@pytest.mark.parametrize("name", ["jpeg", "jpeg_progressive", "jpeg_exif_sandbox"])
def test_zero_padding_after_a_jpeg_is_allowed(files, name, padding):
    assert verdict(files[name] + padding) is None
    assert verdict(files[name] + padding, block=777) is None


@pytest.mark.parametrize("trailer", [b"MPF secondary image " * 500, b"\0\0\x01camera notes", b"\x01",
                                     b"ftyp" + bytes(70_000)])
@pytest.mark.parametrize("name", ["jpeg", "jpeg_exif_sandbox"])
def test_a_jpeg_with_a_trailer_exodus_does_not_know_is_not_checked(files, name, trailer):
    """Bytes after the image that are no image or video: neither whole nor damaged."""
    for block in (complete.BLOCK, 777, 5):
        flaw = verdict(files[name] + trailer, block)
        assert flaw is not None and flaw.kind == complete.UNCHECKED, (block, flaw)
        assert "not checked" in flaw.detail and flaw.detail.isprintable()


def test_a_second_jpeg_after_the_first_is_walked_too(files):
    """What follows the first image's end and starts like a JPEG is walked like one."""
    first, second = files["jpeg"], files["jpeg_exif_sandbox"]
    assert verdict(first + second) is None
    assert verdict(first + b"\0" * 100 + second + b"\0" * 3) is None
    flaw = verdict(first + b"\xff\xd8\xff\xe1 trailing junk \xff")
    assert flaw.kind == complete.TRUNCATED and "image 2" in flaw.detail
    for cut in cut_points(len(second))[1:]:
        flaw = verdict(first + second[:cut])
        assert flaw is not None and flaw.kind != complete.UNCHECKED, cut


def test_a_jpeg_with_a_second_image_after_it_still_needs_its_own_end(files):
    """A secondary image (MPF) has its own EOI: it must not stand in for the first's."""
    first, second = files["jpeg"], files["jpeg_progressive"]
    cut = len(first) // 2
    assert verdict(first[:cut]) is not None
    # The cut scan runs into the second image's start marker: that is no end of the first.
    assert verdict(first[:cut] + second) is not None


@pytest.mark.parametrize("name", ["mp4_sandbox", "mov_sandbox", "heic", "webp", "avi", "avi_openDML"])
@pytest.mark.parametrize("extra", [b"\0", b"\0" * 7, b"\0" * 8, struct.pack(">I4s", 16, b"free")])
def test_bytes_after_the_last_box_or_chunk_fail(files, name, extra):
    flaw = verdict(files[name] + extra)
    assert flaw is not None, name


def _top_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    out, at = [], 0
    while at < len(data):
        size, kind = struct.unpack_from(">I4s", data, at)
        out.append((kind, at, at + size))
        at += size
    return out


@pytest.mark.parametrize("name", ["mp4_sandbox", "mov_sandbox", "heic"])
def test_a_cut_between_two_boxes_fails(files, name):
    """Whole boxes that add up to the file are not enough: the content must be there too."""
    data = files[name]
    boxes = _top_boxes(data)
    assert len(boxes) >= 3
    for _, start, _ in boxes[1:]:
        assert verdict(data[:start]) is not None, (name, start)
    # And without the movie header (moov) but with everything else, a video is not whole.
    if name != "heic":
        without = b"".join(data[s:e] for kind, s, e in boxes if kind != b"moov")
        assert "moov" in verdict(without).detail


def test_a_64_bit_box_size_and_a_to_the_end_box_are_understood(files):
    data = files["mp4_sandbox"]
    kind, start, end = _top_boxes(data)[-1]
    assert kind == b"mdat"
    payload = data[start + 8:end]
    wide = data[:start] + struct.pack(">I4sQ", 1, b"mdat", 16 + len(payload)) + payload
    assert verdict(wide) is None and verdict(wide[:-1]) is not None
    # The sandbox's movie header names no samples: nothing bounds a to-the-end mdat.
    to_end = data[:start] + struct.pack(">I4s", 0, b"mdat") + payload
    assert verdict(to_end).kind == complete.UNCHECKED
    assert verdict(to_end[:len(to_end) // 3]).kind == complete.UNCHECKED


def test_bmp_without_a_declared_size_is_checked_by_its_pixels(files):
    data = bytearray(files["bmp"])
    data[2:6] = bytes(4)  # bfSize 0: allowed, the pixel array's extent decides
    assert verdict(bytes(data)) is None
    assert verdict(bytes(data[:-1])) is not None and "pixels" in verdict(bytes(data[:-1])).detail


def test_a_tiff_whose_ifd_chain_loops_is_malformed(files):
    data = bytearray(files["tiff"])
    order = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", data, 4)
    (entries,) = struct.unpack_from(order + "H", data, ifd)
    struct.pack_into(order + "I", data, ifd + 2 + 12 * entries, ifd)  # next IFD: itself
    assert verdict(bytes(data)).kind == complete.MALFORMED


@pytest.mark.parametrize("head", [b"\x1a\x45\xdf\xa3" + bytes(100), b"\x00\x00\x01\xba" + bytes(100)])
def test_mkv_and_mpeg_are_not_checked_and_not_failed(tmp_path, head):
    kind = magic.sniff(head)
    assert kind in complete.NOT_CHECKED and not complete.checked(kind)
    path = tmp_path / "clip"
    path.write_bytes(head)
    assert complete.whole(path) is None


def test_whole_on_a_finished_download(files, tmp_path):
    """The call the download and import code make on a .part file before keeping it."""
    part = tmp_path / "1234.jpg.part"
    part.write_bytes(files["jpeg"])
    assert complete.whole(part, "jpg") is None
    assert complete.whole(part) is None  # sniffs the kind itself
    part.write_bytes(files["jpeg"][:2048])
    reason = complete.whole(part, "jpg")
    assert reason and reason.startswith("JPEG:") and "\n" not in reason
    video = tmp_path / "9.mp4.part"
    video.write_bytes(files["mp4_sandbox"][:-1])
    assert "MP4" in complete.whole(video)
    link = tmp_path / "link.jpg"
    os.symlink(part, link)
    assert complete.whole(link) is not None  # never followed
    assert complete.whole(tmp_path) is not None and complete.whole(tmp_path / "nowhere") is not None


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000), prefix=st.sampled_from(
    [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM", b"RIFF\0\0\0\0WEBP",
     b"RIFF\0\0\0\0AVI ", b"\0\0\0\x10ftypisom", b"\0\0\0\x10ftypheic"]))
def test_hostile_bytes_give_a_verdict_never_a_crash(prefix, data):
    blob = prefix + data
    flaw = verdict(blob, block=97)
    assert flaw is None or (flaw.kind in (complete.TRUNCATED, complete.MALFORMED, complete.UNCHECKED)
                            and flaw.detail.isprintable())


def test_a_file_of_tiny_segments_is_refused_not_walked_for_hours():
    """2-byte markers (TEM) back to back: a Python step each. The walk gives up, as malformed."""
    data = _saved(_noise(16, 16, 13), "JPEG")
    hostile = data[:2] + b"\xff\x01" * 3_000_000 + data[2:]
    flaw = verdict(hostile)
    assert flaw is not None and flaw.kind == complete.MALFORMED and "segments" in flaw.detail


def test_unrecognised_bytes_are_not_whole(tmp_path):
    path = tmp_path / "x.part"
    path.write_bytes(b"<html>not an image</html>")
    assert complete.whole(path) == "not a format exodus recognises"


# --- movies with sample tables, and what follows a JPEG -----------------------------------

def _full(kind: bytes, payload: bytes, flags: int = 0) -> bytes:
    return _box(kind, struct.pack(">I", flags) + payload)


def _chunk_bytes(sizes: list[int], runs: list[tuple[int, int]], chunks: int) -> list[int]:
    """Bytes of each chunk: chunk n holds the next samples, as many as its stsc run says."""
    out, sample = [], 0
    for n in range(1, chunks + 1):
        each = [per for first, per in runs if first <= n][-1]
        out.append(sum(sizes[sample:sample + each]))
        sample += each
    assert sample == len(sizes)
    return out


def _trak(handler: bytes, sizes: list[int], fixed: bool, runs, offsets: list[int], wide: bool) -> bytes:
    stsc = _full(b"stsc", struct.pack(">I", len(runs)) + b"".join(struct.pack(">III", f, n, 1) for f, n in runs))
    if fixed:
        stsz = _full(b"stsz", struct.pack(">II", sizes[0], len(sizes)))
    else:
        stsz = _full(b"stsz", struct.pack(">II", 0, len(sizes)) + struct.pack(f">{len(sizes)}I", *sizes))
    code = "Q" if wide else "I"
    chunk_offsets = _full(b"co64" if wide else b"stco",
                          struct.pack(">I", len(offsets)) + struct.pack(f">{len(offsets)}{code}", *offsets))
    stbl = _box(b"stbl", _full(b"stsd", bytes(4)) + _full(b"stts", bytes(4)) + stsc + stsz + chunk_offsets)
    dinf = _box(b"dinf", _full(b"dref", struct.pack(">I", 1) + _full(b"url ", b"", flags=1)))
    hdlr = _full(b"hdlr", bytes(4) + handler + bytes(13))
    return _box(b"trak", _box(b"mdia", hdlr + _box(b"minf", dinf + stbl)))


def _movie(to_end: bool = False, wide: bool = False, seed: int = 5) -> bytes:
    """The sandbox's MP4 (its ftyp and movie header) given what a camera writes: a video
    track (varying sample sizes, three stsc runs) and an audio track (one sample size),
    their chunks interleaved in mdat, the last sample ending at the end of the file."""
    sandbox = media.video("mp4", 4000, 3, 640, 480, seed=seed, base=1).bytes()
    top = {kind: sandbox[s:e] for kind, s, e in _top_boxes(sandbox)}
    ftyp, mvhd = top[b"ftyp"], top[b"moov"][8:]
    rng = random.Random(seed)
    video = ([rng.randrange(100, 3000) for _ in range(40)], False, [(1, 3), (4, 1), (7, 2)], 20)
    audio = ([256] * 60, True, [(1, 4)], 15)
    chunks = [_chunk_bytes(sizes, runs, n) for sizes, _, runs, n in (video, audio)]
    order = [(t, n) for n in range(20) for t in (0, 1) if n < len(chunks[t])]   # v, a, v, a, ... v

    def moov(offsets) -> bytes:
        return _box(b"moov", mvhd + b"".join(_trak(handler, sizes, fixed, runs, offsets[t], wide)
                                             for t, (handler, (sizes, fixed, runs, _)) in
                                             enumerate(zip((b"vide", b"soun"), (video, audio)))))

    header = 16 if wide else 8
    data_at = len(ftyp) + len(moov([[0] * 20, [0] * 15])) + header
    offsets, at = [[0] * 20, [0] * 15], data_at
    for track, n in order:
        offsets[track][n] = at
        at += chunks[track][n]
    payload = rng.randbytes(at - data_at)
    if wide:
        mdat = struct.pack(">I4sQ", 1, b"mdat", 16 + len(payload))
    else:
        mdat = struct.pack(">I4s", 0 if to_end else 8 + len(payload), b"mdat")
    return ftyp + moov(offsets) + mdat + payload


def _fragmented() -> bytes:
    """ftyp, a movie header whose tracks hold no samples (mvex: they come in fragments),
    then movie fragments (moof + mdat), as streaming recorders write."""
    movie = _movie()
    top = {kind: movie[s:e] for kind, s, e in _top_boxes(movie)}
    empty = _trak(b"vide", [], False, [], [], False)
    moov = _box(b"moov", top[b"moov"][8:8 + 108] + empty + _box(b"mvex", _full(b"trex", bytes(20))))
    rng = random.Random(9)
    fragments = b"".join(_box(b"moof", _full(b"mfhd", struct.pack(">I", n))) + _box(b"mdat", rng.randbytes(900))
                         for n in range(1, 6))
    return top[b"ftyp"] + moov + fragments


def _cut_verdicts(data: bytes, start: int = 0) -> list[int]:
    """Cuts (from `start` on) that pass as whole."""
    return [cut for cut in cut_points(len(data)) if cut >= max(start, magic.HEAD) and verdict(data[:cut]) is None]


@pytest.mark.parametrize("shape", ["to_end", "sized", "wide"])
def test_a_movie_with_sample_tables_passes_whole_and_fails_cut_anywhere(shape):
    data = _movie(to_end=shape == "to_end", wide=shape == "wide")
    assert data[:magic.HEAD] and magic.sniff(data[:magic.HEAD]) == "mp4"
    assert verdict(data) is None
    assert _cut_verdicts(data) == []
    flaw = verdict(data[:len(data) // 3])
    assert flaw.kind == complete.TRUNCATED
    if shape == "to_end":   # only the tables bound it
        assert "sample tables" in flaw.detail


def test_whole_names_a_to_the_end_movie_cut_to_a_third(tmp_path):
    """The case the review found: ftyp + moov + mdat(size 0), a third of it kept."""
    path = tmp_path / "clip.mp4.part"
    data = _movie(to_end=True)
    path.write_bytes(data)
    assert complete.whole(path) is None
    path.write_bytes(data[:len(data) // 3])
    reason = complete.whole(path)
    assert reason and reason.startswith("MP4:") and "short" in reason


def test_a_sized_movie_cut_exactly_after_a_box_fails_by_its_tables():
    """Box sum and moov and mdat present, yet the media named by the tables is not all
    there: a trailing box holds the rest (as an odd writer's second mdat would)."""
    data = _movie()
    kind, start, end = _top_boxes(data)[-1]
    assert kind == b"mdat"
    split = start + 8 + (end - start - 8) // 2
    payload = data[start + 8:end]
    two = data[:start] + _box(b"mdat", payload[:split - start - 8]) + _box(b"mdat", payload[split - start - 8:])
    assert verdict(two) is None
    cut = two[:len(two) - len(payload[split - start - 8:]) - 8]
    flaw = verdict(cut)
    assert flaw is not None and flaw.kind == complete.TRUNCATED and "sample tables" in flaw.detail


def test_a_fragmented_movie_is_not_checked_but_a_cut_inside_a_box_still_fails():
    data = _fragmented()
    assert verdict(data).kind == complete.UNCHECKED
    boxes = _top_boxes(data)
    at_boundary = verdict(data[:boxes[-2][1]])           # the last fragment's mdat gone
    assert at_boundary.kind == complete.UNCHECKED and "fragment" in at_boundary.detail
    assert verdict(data[:-1]).kind == complete.TRUNCATED


@pytest.mark.parametrize("damage", ["stsc_out_of_order", "table_too_long", "reference_movie", "no_stbl"])
def test_unreadable_tables_under_an_open_ended_mdat_are_not_checked(damage):
    data = bytearray(_movie(to_end=True))
    if damage == "stsc_out_of_order":
        at = data.find(b"stsc") + 12
        struct.pack_into(">I", data, at, 9)              # the first run starts at chunk 9
        struct.pack_into(">I", data, at + 12, 2)         # and the next at chunk 2
    elif damage == "table_too_long":
        at = data.find(b"stsz") + 12
        struct.pack_into(">I", data, at, 0xFFFFFFF0)     # sample count beyond its box
    elif damage == "reference_movie":
        at = data.find(b"url ") + 4
        data[at + 3] = 0                                 # the data lies in another file
    else:
        at = data.find(b"stbl")
        data[at:at + 4] = b"xxxx"
    flaw = verdict(bytes(data))
    assert flaw is not None and flaw.kind == complete.UNCHECKED, flaw
    assert verdict(bytes(data[:len(data) // 2])).kind == complete.UNCHECKED


def test_a_sized_movie_with_unreadable_tables_stands_on_its_box_sum(files):
    """The sandbox's movie header names no samples; its boxes still add up exactly."""
    assert verdict(files["mp4_sandbox"]) is None
    data = bytearray(_movie())
    at = data.find(b"stbl")
    data[at:at + 4] = b"xxxx"
    assert verdict(bytes(data)) is None and verdict(bytes(data[:-1])).kind == complete.TRUNCATED


def _mpo(seed: int) -> bytes:
    """A multi-picture file (MPF) as Pillow writes it: two JPEGs and an index in APP2."""
    out = io.BytesIO()
    first, second = _noise(160, 120, seed), _noise(96, 64, seed + 1)
    first.save(out, "MPO", save_all=True, append_images=[second], quality=90)
    return out.getvalue()


def test_an_mpf_file_cut_in_its_second_image_fails():
    data = _mpo(21)
    assert data.count(b"MPF\0") >= 1 and magic.sniff(data[:magic.HEAD]) == "jpg"
    second = data.find(b"\xff\xd8\xff", 2)
    assert verdict(data) is None and verdict(data, block=333) is None
    passed = [cut for cut in cut_points(len(data)) if cut > second and verdict(data[:cut]) is None]
    assert passed == []
    # Cut exactly at the first image's end: only the MPF index knows the second is missing.
    flaw = verdict(data[:second])
    assert flaw.kind == complete.TRUNCATED and "MPF" in flaw.detail


def _samsung(mp4: bytes) -> bytes:
    """A Samsung motion photo as ExifTool reads one: the JPEG, then trailer blocks (each:
    two zero bytes, its type, the length of its name, the name, the data), the MP4 in the
    MotionPhoto_Data block, then the SEF directory (SEFH, entries giving each block's
    distance back from it and size), its size and SEFT."""
    def block(kind: int, name: bytes, body: bytes) -> bytes:
        return struct.pack("<HHI", 0, kind, len(name)) + name + body

    blocks = [(0x0A30, block(0x0A30, b"MotionPhoto_Data", mp4)), (0x0A31, block(0x0A31, b"MotionPhoto_Version", b"mpv2"))]
    body, entries, back = b"".join(b for _, b in blocks), [], 0
    for kind, data in reversed(blocks):
        back += len(data)
        entries.insert(0, struct.pack("<HHII", 0, kind, back, len(data)))
    directory = b"SEFH" + struct.pack("<II", 106, len(entries)) + b"".join(entries)
    return _sandbox_jpeg() + body + directory + struct.pack("<I", len(directory)) + b"SEFT"


MOTION = {
    "google_sized": lambda: _sandbox_jpeg() + _movie(),
    "google_to_end": lambda: _sandbox_jpeg() + _movie(to_end=True),
    "mpf_then_video": lambda: _mpo(23) + _movie(to_end=True, seed=8),
    "samsung": lambda: _samsung(_movie()),
}


@pytest.mark.parametrize("name", MOTION)
def test_a_motion_photo_passes_whole_and_fails_cut_in_its_video(name):
    data = MOTION[name]()
    video = data.find(b"ftyp") - 4
    assert verdict(data) is None and verdict(data, block=4099) is None
    passed = [cut for cut in cut_points(len(data)) if cut > video and verdict(data[:cut], block=4099) is None]
    assert passed == []
    flaw = verdict(data[:video + (len(data) - video) // 3])
    assert flaw.kind == complete.TRUNCATED and "video" in flaw.detail


def test_a_video_after_a_jpeg_with_a_fragmented_movie_is_not_checked():
    assert verdict(_sandbox_jpeg() + _fragmented()).kind == complete.UNCHECKED
