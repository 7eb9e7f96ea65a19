"""exodus audit's dataset reader (issue 20, item 3): every published list format, written by
the test with a made-up account's ids planted among many others' rows, read by content (not
by name), plain and compressed: every planted id is found, nothing else is; bad files get
one line each and the others are still read; long lines are skipped and counted."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import random
from pathlib import Path

import pytest

from flickr_exodus.audit import streams
from flickr_exodus.audit.datasets import BY_OWNER, BY_PHOTO, DatasetProblem, Listing, match
from flickr_exodus.flickr.ids import Malformed
from flickr_exodus.layout.tree import short_url

NSID = "48600090482@N01"      # the made-up account
ALIAS = "made-up-owner"       # its path alias, which photo page links may carry instead
PHOTOS = ["52011000101", "52011000202", "8032652775", "4325695128", "52011000505", "52011000606"]
GONE = ["41000000707", "41000000808"]  # the account's, in the lists, but not among the ids passed
# Near misses that must not match: an id one digit longer or shorter, the NSID's neighbour.
DECOYS = ["152011000101", "5201100010", "520110001010"]
OTHER_NSID = "48600090482@N011"


def others(n: int, seed: int) -> list[tuple[str, str]]:
    """(photo id, owner NSID) of `n` photos of other people."""
    rng = random.Random(seed)
    taken = set(PHOTOS + GONE + DECOYS)
    rows = []
    while len(rows) < n:
        photo = str(rng.randrange(10**9, 10**11))
        if photo not in taken:
            rows.append((photo, f"{rng.randrange(10**6, 10**9)}@N0{rng.randrange(10)}"))
    rows += [(d, f"{rng.randrange(10**6, 10**9)}@N00") for d in DECOYS] + [(str(10**9 + 7), OTHER_NSID)]
    return rows


def planted(seed: int, with_gone: bool = True, n: int = 1500) -> list[tuple[str, str]]:
    """Everyone's rows, the account's spread among them."""
    rows = others(n, seed)
    mine = [(p, NSID) for p in PHOTOS] + ([(g, NSID) for g in GONE] if with_gone else [])
    for n, row in enumerate(mine):
        rows.insert((n * 997 + 13) * len(rows) // 8000, row)
    return rows


def yfcc_row(n: int, photo: str, owner: str, single: bool) -> str:
    page = f"http://www.flickr.com/photos/{owner}/{photo}/"
    rest = ["nick", "2010-07-14 13:45:02.0", "1279115102", "Canon+EOS", "a+title", "a+description", "tag,tag2",
            "", "2.35", "48.85", "16", page, f"http://farm5.staticflickr.com/4041/{photo}_4a6f5e1d3c.jpg",
            "Attribution License", "http://creativecommons.org/licenses/by/2.0/", "4041", "5", "4a6f5e1d3c",
            "9c8b7a6f5e", "jpg", "0"]
    head = [str(n), photo, "0123456789abcdef0123456789abcdef", owner] if single else [photo, owner]
    return "\t".join(head + rest) + "\n"


def write_yfcc(path: Path, single: bool = True, opener=open, rows: int = 1500) -> Path:
    with opener(path, "wt") as out:
        for n, (photo, owner) in enumerate(planted(1, n=rows)):
            out.write(yfcc_row(n, photo, owner, single))
    return path


def ffhq_entry(n: int, photo: str, owner: str, title: str = "a title") -> dict:
    return {"category": "training", "metadata": {
        "photo_url": f"https://www.flickr.com/photos/{owner}/{photo}/", "photo_title": title,
        "author": "someone", "country": "", "license": "Attribution License",
        "license_url": "https://creativecommons.org/licenses/by/2.0/", "date_uploaded": "2009-05-02",
        "date_crawled": "2018-10-10"},
        "image": {"file_url": f"https://drive.google.com/uc?id={n}", "file_path": f"images1024x1024/{n:05d}.png",
                  "file_size": 1488194, "file_md5": "ddeaeea6ce59569643715759d537fd1b", "pixel_size": [1024, 1024]}}


def ffhq_entries(rows: list[tuple[str, str]]) -> dict:
    entries = {str(n): ffhq_entry(n, photo, owner) for n, (photo, owner) in enumerate(rows)}
    # A title that quotes a photo_url of the account: text inside a string, not the key.
    decoy = f'"photo_url": "https://www.flickr.com/photos/{NSID}/{DECOYS[0]}/"'
    entries[str(len(entries))] = ffhq_entry(len(entries), "1000000009", "someone", title=decoy)
    return entries


def write_ffhq(path: Path, indent: int | None = 2, rows: int = 1500) -> Path:
    rows = [(p, ALIAS if n % 2 else NSID) if o == NSID else (p, o) for n, (p, o) in enumerate(planted(2, n=rows))]
    path.write_text(json.dumps(ffhq_entries(rows), indent=indent))
    return path


def write_megaface(path: Path) -> Path:
    path.write_text("".join(f"FlickrFinal2/{n % 1000}/{owner}/{photo}_{n % 3}.jpg\n"
                            for n, (photo, owner) in enumerate(planted(3))))
    return path


def write_pipa(path: Path) -> Path:
    path.write_text("".join(f"72157{n:012d} {photo} {n % 300} {n % 200} 84 97 {n % 50} {n % 3}\n"
                            for n, (photo, _) in enumerate(planted(4, with_gone=False))))
    return path


def url_lines(rows: list[tuple[str, str]]) -> list[str]:
    """Each row as one kind of Flickr link in turn, or as a bare id."""
    kinds = [lambda p, o: f"https://www.flickr.com/photos/{o}/{p}/",
             lambda p, o: f"https://live.staticflickr.com/65535/{p}_a1b2c3d4e5_b.jpg",
             lambda p, o: short_url(p),
             lambda p, o: f"http://farm3.static.flickr.com/2245/{p}_0f9e8d7c6b.jpg\r",
             lambda p, o: f"{p}",
             lambda p, o: f"https://www.flickr.com/photo.gne?id={p}",
             lambda p, o: f"https://c2.staticflickr.com/4/3210/{p}_aa99bb88cc_o.jpg"]
    return [kinds[n % len(kinds)](photo, owner) if owner != NSID or photo in PHOTOS
            else f"https://www.flickr.com/photos/{owner}/{photo}/in/photostream/"  # GONE: by owner
            for n, (photo, owner) in enumerate(rows)]


def write_urls(path: Path) -> Path:
    profile = f"https://www.flickr.com/people/{NSID}"  # the account alone, no photo
    path.write_text("\n".join(["url,caption", *url_lines(planted(5)), profile]) + "\n")
    return path


FORMATS = {  # name -> (writer, dataset, has owners)
    "yfcc100m_dataset": (write_yfcc, "YFCC100M", True),
    "yfcc100m_dataset-0": (lambda p: write_yfcc(p, single=False), "YFCC100M", True),
    "ffhq-dataset-v2.json": (write_ffhq, "FFHQ", True),
    "megaface_paths.txt": (write_megaface, "MegaFace", True),
    "index.txt": (write_pipa, "PIPA", False),
    "links.csv": (write_urls, "Flickr links", True),
}


def expected(files: dict[str, tuple[str, bool]]) -> dict[str, set[Listing]]:
    """What match() must say for these files: {path: (dataset, has owners)}."""
    out: dict[str, set[Listing]] = {}
    for path, (dataset, owners) in files.items():
        for photo in PHOTOS:
            out.setdefault(photo, set()).add(Listing(dataset, path, BY_PHOTO))
        for photo in GONE if owners else ():
            out.setdefault(photo, set()).add(Listing(dataset, path, BY_OWNER))
    return out


def test_every_format_finds_every_planted_id_and_nothing_else(tmp_path):
    files = {}
    for name, (write, dataset, owners) in FORMATS.items():
        files[str(write(tmp_path / name))] = (dataset, owners)
    found = match([Path(p) for p in files], set(PHOTOS), {NSID}, aliases={ALIAS})
    assert not found.problems, [str(p) for p in found.problems]
    assert [(r.file, r.dataset) for r in found.files] == [(p, d) for p, (d, _) in files.items()]
    assert found.photos == expected(files)
    # The account itself is in every list that names owners.
    owning = {Listing(d, p, BY_OWNER) for p, (d, owners) in files.items() if owners}
    assert set().union(*found.accounts.values()) == owning
    assert set(found.accounts) == {NSID, ALIAS}
    assert all(r.rows > 1500 for r in found.files)


@pytest.mark.parametrize("opener", [bz2.open, gzip.open, lzma.open], ids=["bz2", "gzip", "xz"])
def test_a_compressed_list_is_read_by_its_content_whatever_its_name(tmp_path, opener):
    # Named as if it were FFHQ's JSON, plain: the first bytes say what it is.
    path = write_yfcc(tmp_path / "ffhq-dataset-v2.json", opener=opener)
    found = match([path], set(PHOTOS), {NSID})
    assert not found.problems
    assert found.files[0].dataset == "YFCC100M" and found.files[0].compression != "plain"
    assert found.photos == expected({str(path): ("YFCC100M", True)})


def test_a_row_of_the_account_with_no_photo_id_in_its_column_names_the_account_only(tmp_path):
    path = write_yfcc(tmp_path / "yfcc100m_dataset")
    with open(path, "ab") as out:
        for photo in ("\u00e9\u202e../1", ""):
            out.write(yfcc_row(9, photo, NSID, single=True).encode())
    found = match([path], set(PHOTOS), {NSID})
    assert not found.problems
    assert found.photos == expected({str(path): ("YFCC100M", True)}) and set(found.accounts) == {NSID}


def test_a_plain_list_named_bz2_is_read_plain(tmp_path):
    path = write_megaface(tmp_path / "yfcc100m_dataset-0.bz2")
    found = match([path], set(PHOTOS), {NSID})
    assert not found.problems and found.files[0].compression == "plain"
    assert found.photos == expected({str(path): ("MegaFace", True)})


def test_bad_files_get_one_line_each_and_the_others_are_still_read(tmp_path):
    good = write_pipa(tmp_path / "index.txt")
    prose = tmp_path / "notes.txt"
    prose.write_text("These are my notes about datasets.\nNothing in here is a list.\n" * 50)
    whole = bz2.compress(write_yfcc(tmp_path / "full.tsv").read_bytes())
    cut = tmp_path / "yfcc100m_dataset.bz2"
    cut.write_bytes(whole[: len(whole) // 2])
    damaged = tmp_path / "damaged.bz2"
    damaged.write_bytes(whole[:200] + bytes(b ^ 0x55 for b in whole[200:400]) + whole[400:])
    image = tmp_path / "photo.jpg"
    image.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + random.Random(1).randbytes(50_000))
    archive = tmp_path / "lists.zip"
    archive.write_bytes(b"PK\x03\x04" + bytes(100))
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    paths = [prose, cut, good, damaged, image, archive, empty, tmp_path / "missing.txt", tmp_path]
    found = match(paths, set(PHOTOS), {NSID})
    lines = [str(p) for p in found.problems]
    assert all(isinstance(p, DatasetProblem) for p in found.problems)
    assert len(lines) == len(paths) - 1 and all("\n" not in line for line in lines)
    for path, line in zip([p for p in paths if p != good], lines):
        assert line.startswith(f"{path}: "), line
    assert "format exodus does not know" in lines[0]
    assert "bz2 data ends early" in lines[1] and "incomplete" in lines[1]
    assert "bz2 data is damaged" in lines[2]
    assert "binary" in lines[3] and "zip archive" in lines[4] and "empty" in lines[5]
    assert "cannot be read" in lines[6] and "not a file" in lines[7]
    assert found.photos == expected({str(good): ("PIPA", False)})


def test_what_a_cut_list_named_before_its_end_is_kept(tmp_path):
    """The rows read before a .bz2 ends early are real: their matches are reported with the problem."""
    text = write_yfcc(tmp_path / "full.tsv", rows=12_000).read_bytes()  # bzip2 blocks are 900 kB
    whole = bz2.compress(text)
    cut = tmp_path / "cut.bz2"
    cut.write_bytes(whole[: len(whole) * 9 // 10])
    found = match([cut], set(PHOTOS), {NSID})
    assert len(found.problems) == 1
    read = found.files[0]
    assert 0 < read.text_bytes < len(text)
    before = {p for p in PHOTOS + GONE if text.find(f"\t{p}\t".encode()) + 300 < read.text_bytes}
    assert before and set(found.photos) == before


def test_a_very_long_line_is_skipped_and_counted_not_gathered(tmp_path):
    path = tmp_path / "links.txt"
    lines = url_lines(planted(6))
    hidden = "77700000001"  # only in the long lines: never read
    long_line = f"https://www.flickr.com/photos/{NSID}/{hidden}/ " + "x" * (3 * streams.MAX_LINE)
    # One long line in the middle, one at the very end without its newline.
    path.write_text("\n".join(lines[:800] + [long_line] + lines[800:]) + "\n" + long_line)
    found = match([path], set(PHOTOS + [hidden]), {NSID})
    assert not found.problems
    assert found.files[0].long_lines == 2
    assert found.photos == expected({str(path): ("Flickr links", True)})


def test_a_line_just_under_the_limit_is_read(tmp_path):
    path = tmp_path / "links.txt"
    line = f"https://www.flickr.com/photos/{NSID}/{PHOTOS[0]}/ " + "y" * (streams.MAX_LINE - 100)
    path.write_text(f"{PHOTOS[1]}\n{line}\n{PHOTOS[2]}\n")
    found = match([path], set(PHOTOS), {NSID})
    assert found.files[0].long_lines == 0 and set(found.photos) == set(PHOTOS[:3])


def test_ffhq_on_one_line_is_read_in_blocks_not_as_a_line(tmp_path):
    path = write_ffhq(tmp_path / "ffhq-dataset-v2.json", indent=None, rows=6000)
    assert path.stat().st_size > 2 * streams.MAX_LINE and b"\n" not in path.read_bytes()
    found = match([path], set(PHOTOS), {NSID}, aliases={ALIAS})
    assert not found.problems and found.files[0].long_lines == 0
    assert found.photos == expected({str(path): ("FFHQ", True)})


@pytest.mark.parametrize("before", [1, 12, 40, 200])
@pytest.mark.parametrize("boundary", [streams.SAMPLE, streams.SAMPLE + streams.BLOCK])
def test_an_ffhq_entry_across_a_block_boundary_is_found_once(tmp_path, boundary, before):
    rows = others(4000, 7)
    rows.insert(10, (PHOTOS[0], NSID))
    entries = ffhq_entries(rows)
    key = f'"photo_url": "https://www.flickr.com/photos/{NSID}/{PHOTOS[0]}/"'
    # The title of the entry before the planted one lengthened so that the planted key
    # starts `before` bytes ahead of where one block of text ends and the next begins.
    entries["9"]["metadata"]["photo_title"] += "p" * (boundary - before - json.dumps(entries, indent=1).index(key))
    text = json.dumps(entries, indent=1)
    assert text.index(key) == boundary - before and len(text) > boundary + streams.BLOCK
    path = tmp_path / "ffhq-dataset-v2.json"
    path.write_text(text)
    found = match([path], {PHOTOS[0]}, set())
    assert found.photos == {PHOTOS[0]: {Listing("FFHQ", str(path), BY_PHOTO)}}
    assert found.files[0].rows == len(entries)  # every photo_url once: none lost, none twice


def test_a_file_given_twice_is_read_once(tmp_path):
    path = write_megaface(tmp_path / "megaface.txt")
    link = tmp_path / "same.txt"
    link.symlink_to(path)
    once = match([path], set(PHOTOS), {NSID})
    twice = match([path, link, path], set(PHOTOS), {NSID})
    assert twice.photos == once.photos and not twice.problems
    assert [r.same_as for r in twice.files] == [None, str(path), str(path)]
    assert twice.files[1].text_bytes == twice.files[2].text_bytes == 0


def test_flic_kr_links_decode_as_layout_writes_them(tmp_path):
    ids = ["1", "57", "58", "4325695128", "52011000101", "99999999999999"]
    path = tmp_path / "short.txt"
    path.write_text("".join(short_url(i) + "\n" for i in ids))
    found = match([path], set(ids), set())
    assert set(found.photos) == set(ids)


def test_bare_ids_and_nsids_are_a_list(tmp_path):
    path = tmp_path / "ids"
    path.write_text(f"# mine\n{PHOTOS[0]}\n  {PHOTOS[1]}  \n{DECOYS[0]}\n{NSID}\n{OTHER_NSID}\n")
    found = match([path], set(PHOTOS), {NSID})
    assert found.files[0].dataset == "Flickr links"
    assert set(found.photos) == set(PHOTOS[:2]) and set(found.accounts) == {NSID}


def test_progress_follows_the_file_on_disk(tmp_path):
    path = write_yfcc(tmp_path / "y.bz2", opener=bz2.open)
    seen = []
    match([path], set(PHOTOS), {NSID}, progress=lambda p, done, size: seen.append((p, done, size)))
    size = path.stat().st_size
    assert seen and all(p == path and s == size for p, _, s in seen)
    assert [d for _, d, _ in seen] == sorted(d for _, d, _ in seen) and seen[-1][1] == size


@pytest.mark.parametrize("photo_ids, nsids", [({"../1"}, set()), (set(), {"1@N01\n2"}), ({12.5}, set())])
def test_ids_that_are_not_flickrs_are_refused(tmp_path, photo_ids, nsids):
    with pytest.raises(Malformed):
        match([write_megaface(tmp_path / "m.txt")], photo_ids, nsids)
