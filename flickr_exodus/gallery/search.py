"""The gallery's search: an index the browser reads in small parts, offline, from file://.

Chromium will not fetch() a file:// URL, so every part is a `.js` file that registers itself
with `exodusSearch.add(name, data)` when the page adds it as a `<script src>`. A query loads
`meta.js` (the directories), then only the term shards its words fall in, then only the
document shards of the hits it shows: a page never loads the whole index.

Terms and documents are cut into shards by their own content (a key ends a shard when its
hash says so), not by position, so one new photo changes the shards of its own words and
its own document shard, and a rebuild writes only the files whose bytes changed. The same
rules are written again in site/js/search.js: tokens, folding and the hash must agree.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..flickr import ids
from ..layout import paths
from .pages import STATIC as PACKAGE_STATIC, environment, write_if_changed

DATA = "site/data/search"
# Postings carry ids as JavaScript numbers: an id beyond 2^53 would not survive the trip.
_SAFE = 2 ** 53
# A shard holds about this many bytes; the cut rule is chosen from the index's size, and is a
# power of two so that it changes only when the index doubles or halves.
_SHARD_BYTES = 24_000
_DOCS_PER_SHARD = 64
_ACCENTS = re.compile("[\u0300-\u036f]")
# Scripts written without spaces between words: indexed as single characters and bigrams.
_UNSPACED = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x3040, 0x30FF), (0x31F0, 0x31FF),
             (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F))


@dataclass(frozen=True)
class Doc:
    id: str
    url: str      # the item's page, relative to OUT/site/
    title: str
    text: str     # description (plain text), tags, comments and title
    thumb: str    # relative to OUT/site/; "" when the item has none


def fold(text: str) -> str:
    """Compatibility forms, case and Latin/Greek/Cyrillic accents folded away: "Ｃａｆé" -> "cafe".
    Only the combining diacritics block goes: a kana's voicing mark is part of the letter."""
    lowered = unicodedata.normalize("NFKC", text).lower()
    return unicodedata.normalize("NFC", _ACCENTS.sub("", unicodedata.normalize("NFD", lowered)))


def _unspaced(ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in _UNSPACED)


def _class(ranges: Iterable[tuple[int, int]]) -> str:
    return "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in ranges)


def _word(letters: str) -> re.Pattern:
    return re.compile(f"[{letters}]+(?:['\u2019][{letters}]+)*")


@functools.cache
def _patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """A word: letters, marks and numbers (Unicode categories L, M, N: Python's \\w leaves out
    marks), with single apostrophes inside; then its runs in and out of unspaced scripts.
    Two word patterns: text within the Basic Multilingual Plane (nearly all) is matched by a
    class re compiles to a bitmap, five times faster than one that also lists the astral
    planes' ranges. Made once, on first use, from the planes that hold letters, marks or
    numbers (0-3, and 14's variation selectors; 4-13 are unassigned, 15-16 private use)."""
    ranges, start = [], None
    for code in [*range(0x40000), *range(0xE0000, 0xE1001)]:
        if unicodedata.category(chr(code))[0] in "LMN":
            start = code if start is None else start
        elif start is not None:
            ranges.append((start, code - 1))
            start = None
    basic = [(low, min(high, 0xFFFF)) for low, high in ranges if low <= 0xFFFF]
    cjk = _class(_UNSPACED)
    return _word(_class(basic)), _word(_class(ranges)), re.compile(f"[{cjk}]+|[^{cjk}]+")


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def words(text: str) -> list[str]:
    """The runs of letters, marks and numbers of folded text; a run in an unspaced script is
    its own word (it becomes characters and bigrams in terms()). An apostrophe between two
    such characters is dropped, not a split: "grandma's" is one word, as in UAX #29."""
    basic, every, runs = _patterns()
    folded = fold(text)
    word = every if _ASTRAL.search(folded) else basic
    return [run for found in word.findall(folded)
            for run in runs.findall(found.replace("'", "").replace("\u2019", ""))]


def terms(text: str) -> set[str]:
    """What a document is found by: its words, and each character and bigram of unspaced runs."""
    found: set[str] = set()
    for word in words(text):
        if word[0] >= "\u0e00" and _unspaced(word[0]):  # the first test spares most words the second
            found.update(word)
            found.update(word[i:i + 2] for i in range(len(word) - 1))
        else:
            found.add(word)
    return found


def fnv1a(text: str) -> int:
    """32-bit FNV-1a of the UTF-8 bytes: names and cuts shards, in Python and in search.js alike."""
    value = 0x811C9DC5
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def _cuts(keys: list[str], every: int, alone: frozenset[str] = frozenset()) -> list[list[str]]:
    """Sorted keys in runs; a key whose hash is a multiple of `every` starts a new run, and a
    key in `alone` (a word most photos have) is a run of its own, so that a query for a rare
    word never loads a common word's postings. A run's first key names its file: a key whose
    name another run already has joins the run before it instead."""
    runs: list[list[str]] = []
    names: set[int] = set()
    for key in keys:
        name = fnv1a(key)
        cut = not runs or name % every == 0 or key in alone or runs[-1][-1] in alone
        if cut and name not in names:
            runs.append([key])
            names.add(name)
        else:
            runs[-1].append(key)
    return runs


def _utf16(text: str) -> bytes:
    """JavaScript compares strings by UTF-16 code units: the directories sort the same way."""
    return text.encode("utf-16-be")


def _pow2(x: float) -> int:
    return 1 << max(0, round(x).bit_length() - 1)


def _postings(numbers: list[int]) -> str:
    """Sorted ids as base-36 gaps: "k0,1,2s" (first id, then each id's distance from the last)."""
    out, last = [], 0
    for n in numbers:
        out.append(_base36(n - last))
        last = n
    return ",".join(out)


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


def _script(name: str, data) -> bytes:
    """One shard as a script; json.dumps escapes '<' nowhere, so '</script>' in data could only
    matter inline, and these files are never inlined."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return f"exodusSearch.add({json.dumps(name)},{body});\n".encode("utf-8")


def write_index(out: Path, docs: Iterable[Doc]) -> dict:
    """OUT/site/data/search/: meta.js, term shards t-*.js and document shards d-*.js. Files
    whose bytes are unchanged are left alone; shards no longer named are removed."""
    index: dict[str, list[int]] = defaultdict(list)
    shown: dict[int, list[str]] = {}
    skipped = 0
    for doc in docs:
        if not ids.is_photo_id(doc.id) or int(doc.id) >= _SAFE or int(doc.id) in shown:
            skipped += 1
            continue
        number = int(doc.id)
        shown[number] = [doc.url, doc.title, doc.thumb]
        for term in terms(doc.text + " " + doc.title):
            index[term].append(number)
    files: dict[str, bytes] = {}
    term_keys = sorted(index, key=_utf16)
    encoded = {term: _postings(sorted(index[term])) for term in term_keys}
    total = sum(len(t) + len(p) + 4 for t, p in encoded.items())
    term_every = _pow2(len(term_keys) * _SHARD_BYTES / total) if total else 1
    term_dir = []
    common = frozenset(t for t, p in encoded.items() if len(p) > _SHARD_BYTES // 2)
    for run in _cuts(term_keys, term_every, common):
        name = f"t-{fnv1a(run[0]):08x}"
        term_dir.append(run[0])
        files[name] = _script(name, {t: encoded[t] for t in run})
    doc_keys = sorted(shown)
    doc_dir = []
    for run in _cuts([str(n) for n in doc_keys], _DOCS_PER_SHARD):
        name = f"d-{fnv1a(run[0]):08x}"
        doc_dir.append(run[0])
        files[name] = _script(name, {key: shown[int(key)] for key in run})
    # The documents' directory, the first id of each shard, is written as postings are.
    docs_dir = _postings([int(first) for first in doc_dir])  # already in order
    files["meta"] = _script("meta", {"version": 1, "terms": term_dir, "docs": docs_dir, "count": len(shown)})
    written = _write_files(out, files)
    return {"docs": len(shown), "skipped": skipped, "terms": len(term_keys), "term_shards": len(term_dir),
            "doc_shards": len(doc_dir), "written": written}


def _write_files(out: Path, files: dict[str, bytes]) -> int:
    folder = paths.inside(out, f"{DATA}/meta.js").parent
    written = sum(write_if_changed(out, f"{DATA}/{name}.js", data) for name, data in files.items())
    wanted = {f"{name}.js" for name in files}
    for old in folder.iterdir():
        if old.name not in wanted and old.suffix == ".js" and old.name[:2] in ("t-", "d-"):
            old.unlink()
    return written


STATIC = ("js/search.js", "js/oldlinks.js")
PAGE = "site/search.html"


def write_page(out: Path, owner: str = "the owner", subset: str | None = None) -> int:
    """OUT/site/search.html (the pages' base.html around it: same header, style and CSP) and
    its scripts, from the package; unchanged files are left alone. Returns how many changed."""
    files = {f"site/{name}": (PACKAGE_STATIC / name).read_bytes() for name in STATIC}
    html = environment().get_template("search.html").render(root="../", owner=owner, subset=subset, page=PAGE)
    files[PAGE] = html.encode("utf-8")
    return sum(write_if_changed(out, relative, data) for relative, data in files.items())
