"""The published lists exodus reads, told apart by their first lines (never by their names),
and where each names a Flickr photo id and its owner (reference/privacy.md).

A block of lines is taken apart by C code (a bounded regular expression over the whole
block, or bytes.split), with one small step per row in Python at most: that is what lets
a list stream at near disk speed. [0-9], not \\d: only ASCII digits are Flickr's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import methodcaller
from typing import Callable

# (photo id, owner): either may be None; the owner is an NSID or a path alias.
Ref = tuple[bytes | None, bytes | None]

_ID = rb"[0-9]{1,20}"
_NSID = rb"[0-9]{1,20}@N[0-9]{1,4}"
_BASE58 = b"123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
_DIGIT58 = {c: n for n, c in enumerate(_BASE58)}

# YFCC100M's metadata, one photo per line, tab-separated. Yahoo's Webscope files
# (yfcc100m_dataset-0..9) start: photo id, owner NSID, nickname, ... (23 columns); the
# single file on AWS starts: line number, photo id, photo hash, owner NSID, ... (25).
_YFCC_SPLIT = re.compile(rb"^" + _ID + rb"\t" + _NSID + rb"\t")
_YFCC_SINGLE = re.compile(rb"^[0-9]{1,12}\t" + _ID + rb"\t[0-9a-f]{0,64}\t" + _NSID + rb"\t")
# MegaFace: FlickrFinal2/901/9019583@N08/8032652775_0.jpg = NSID / photo id _ face number.
_MEGAFACE = re.compile(rb"(?<![0-9])(" + _NSID + rb")/(" + _ID + rb")_[0-9]{1,4}\.[A-Za-z]{3,4}\b")
# PIPA's annotations/index.txt: album id, photo id, x, y, width, height, identity, subset.
_PIPA = re.compile(rb"^[ \t]*" + _ID + rb"[ \t]+(" + _ID + rb")(?:[ \t]+-?[0-9]{1,10}){6}[ \t]*\r?$", re.M)
# Any list of Flickr links (or a CSV with a link column): a photo page (its owner an NSID or
# a path alias), a profile, photo.gne, a static image (farmN.static.flickr.com,
# live.staticflickr.com, cN.staticflickr.com/N/...), a flic.kr short link in base58; or
# a line holding nothing but a photo id or an NSID.
_URLS = re.compile(
    rb"flickr\.com/(?:photos|people)/([A-Za-z0-9_@-]{1,64})(?:/(" + _ID + rb")(?![0-9]))?"
    rb"|flickr\.com/photo\.gne\?id=(" + _ID + rb")(?![0-9])"
    rb"|static\.?flickr\.com/(?:[0-9]{1,10}/){1,2}(" + _ID + rb")_[0-9a-f]{1,40}"
    rb"|flic\.kr/p/([1-9a-km-zA-HJ-NP-Z]{1,12})(?![0-9A-Za-z])"
    rb"|^[ \t]*(?:(" + _ID + rb")|(" + _NSID + rb"))[ \t]*\r?$", re.M)
# FFHQ's ffhq-dataset-v2.json: {"0": {"metadata": {"photo_url": "https://www.flickr.com/
# photos/USER/ID/", ...}, ...}, ...}, 255 MB, pretty-printed or not. Scanned for the key
# rather than parsed, and safely so: in valid JSON a quote inside a string is escaped (\"),
# so an unescaped "photo_url" followed by a colon can only be that key, never text in a
# title; its value is a URL (a '/' may come escaped as \/). The match is bounded
# (FFHQ_MATCH_MAX), so overlapping blocks find each one whole, wherever a block ends.
_FFHQ = re.compile(rb'"photo_url"[ \t\r\n]{0,16}:[ \t\r\n]{0,16}"((?:[^"\\\n]|\\/){1,2048})"')
FFHQ_MATCH_MAX = 11 + 16 + 1 + 16 + 1 + 2 * 2048 + 1


@dataclass(frozen=True)
class Format:
    name: str                                  # what the report calls the dataset
    refs: Callable[..., list[Ref]]             # the references in a block: refs(block), or refs(block, limit)
    row: re.Pattern                            # what a line (or the start of the file) of it holds
    whole_lines: bool = True                   # False: the file may be one line, scanned in overlapping
                                               # blocks, and refs takes the block's limit too


def base58(text: bytes) -> bytes | None:
    """A flic.kr/p/ short code as the photo id it stands for (Flickr's base58 alphabet)."""
    n = 0
    for c in text:
        if c not in _DIGIT58:
            return None
        n = n * 58 + _DIGIT58[c]
    return str(n).encode()


def _columns(photo: int, owner: int) -> Callable[[bytes], list[Ref]]:
    """The references of a tab-separated list whose columns `photo` and `owner` (from 0) hold
    a photo id and its owner's NSID. The lines are split in C rather than matched: twice as
    fast, and as safe, since a field that is not an id cannot equal one of the account's
    ids (checked before they are looked for)."""
    last = max(photo, owner)
    split = methodcaller("split", b"\t", last + 1)
    return lambda block: [(f[photo], f[owner]) for f in map(split, block.split(b"\n")) if len(f) > last]


def _pipa_refs(block: bytes) -> list[Ref]:
    return [(photo, None) for photo in _PIPA.findall(block)]


def _megaface_refs(block: bytes) -> list[Ref]:
    return [(photo, owner) for owner, photo in _MEGAFACE.findall(block)]


def _url_refs(block: bytes) -> list[Ref]:
    return [(base58(short), None) if short else (page or gne or static or bare or None, owner or bare_nsid or None)
            for owner, page, gne, static, short, bare, bare_nsid in _URLS.findall(block)]


def _ffhq_refs(block: bytes, limit: int) -> list[Ref]:
    """The photo_url values that start before `limit` (streams.overlapping_blocks)."""
    refs = []
    for found in _FFHQ.finditer(block):
        if found.start() >= limit:
            break
        refs += _url_refs(found.group(1).replace(b"\\/", b"/"))
    return refs


FFHQ = Format("FFHQ", _ffhq_refs, _FFHQ, whole_lines=False)
YFCC_SPLIT = Format("YFCC100M", _columns(0, 1), _YFCC_SPLIT)
YFCC_SINGLE = Format("YFCC100M", _columns(1, 3), _YFCC_SINGLE)
PIPA = Format("PIPA", _pipa_refs, _PIPA)
MEGAFACE = Format("MegaFace", _megaface_refs, _MEGAFACE)
URLS = Format("Flickr links", _url_refs, _URLS)
# The most particular first: a YFCC100M row holds Flickr links too.
LINE_FORMATS = (YFCC_SINGLE, YFCC_SPLIT, PIPA, MEGAFACE, URLS)
FIRST_LINES = 20
NAMES = "FFHQ's JSON, YFCC100M's metadata, MegaFace's paths, PIPA's index.txt, or a list of Flickr links or ids"


def detect(sample: bytes) -> Format | None:
    """The format of a list from its first bytes: FFHQ's JSON by its first key holding a
    photo_url; a line format if at least half of the first lines (a header, a comment
    aside) hold what its rows hold."""
    sample = sample.removeprefix(b"\xef\xbb\xbf")
    if sample.lstrip()[:1] in (b"{", b"["):
        return FFHQ if _FFHQ.search(sample) else None
    lines = [line for line in sample.split(b"\n")[:FIRST_LINES] if line.strip()]
    if sample and not sample.endswith(b"\n") and len(lines) > 1:
        lines.pop()  # cut by the sample's end
    for candidate in LINE_FORMATS:
        fitting = sum(1 for line in lines if candidate.row.search(line))
        if lines and fitting * 2 >= len(lines):
            return candidate
    return None
