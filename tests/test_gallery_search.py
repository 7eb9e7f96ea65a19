"""The gallery's search and old links: the index's rules in Python, then the real page in a
real Chromium from file://, over an index built from a real sandbox backup's catalog.

The gallery's other pages belong to gallery/pages.py; here the item pages the search links
to are stand-ins the test writes, so that following a result or an old link lands on a file.
"""

from __future__ import annotations

import html.parser
import json
import os
import re
import sqlite3
import time
import unicodedata
from pathlib import Path

import flickrapi.shorturl
import pytest
from PIL import Image

from browser import artifacts, browser, gallery_page, shot  # noqa: F401 (fixtures by name)
from conftest import backed_up
from flickr_exodus.gallery import links, search
from flickr_exodus.gallery.search import Doc
from flickr_exodus.layout.tree import short_url
from flickr_exodus.sandbox import SandboxConfig

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "font-src 'self'; base-uri 'none'; form-action 'self'")

# -- the rules, in Python ---------------------------------------------------------------------

WORDS = [  # text -> its words, written out by hand
    ("Grandma's garden", ["grandmas", "garden"]),
    ("Café CAFÉ cafe", ["cafe", "cafe", "cafe"]),
    ("Ｆｕｌｌｗｉｄｔｈ ＡＢＣ１２３", ["fullwidth", "abc123"]),
    ("東京タワー2019", ["東京タワー", "2019"]),
    ("ελλάδα Москва ночью", ["ελλαδα", "москва", "ночью"]),
    ("what?*<>|\":\\ a/b ../../x", ["what", "a", "b", "x"]),
    ("tab\there\x07bell\x1b[31mred\x00nul", ["tab", "here", "bell", "31mred", "nul"]),
    ("don’t 'quoted' it''s", ["dont", "quoted", "it", "s"]),
    ("ダイビング", ["ダイビング"]),  # a kana's voicing mark is not an accent
    ("สวัสดีครับ", ["สวัสดีครับ"]),
    ("🌅 Sunset over the bay 🌊", ["sunset", "over", "the", "bay"]),
    ("", []),
]


@pytest.mark.parametrize("text, expected", WORDS)
def test_words_follow_unicode_letters_folded(text, expected):
    assert search.words(text) == expected


def test_unspaced_scripts_become_characters_and_bigrams():
    assert search.terms("東京タワー") == {"東", "京", "タ", "ワ", "ー", "東京", "京タ", "タワ", "ワー"}
    assert search.terms("Tokyo 東京") == {"tokyo", "東", "京", "東京"}


def test_fnv1a_is_the_published_hash():
    # Test vectors of FNV-1a, 32 bits (the FNV authors' list).
    assert search.fnv1a("") == 0x811C9DC5
    assert search.fnv1a("a") == 0xE40C292C
    assert search.fnv1a("foobar") == 0xBF9CF968


@pytest.mark.parametrize("photo_id", ["4325695128", "52345678901", "1", "57", "58", "99999999999999"])
def test_flic_kr_is_flickrs_base58(photo_id):
    encoded = flickrapi.shorturl.encode(photo_id)  # flickrapi's own code, not ours
    assert links.base58_decode(encoded) == int(photo_id)
    assert links.parse(f"https://flic.kr/p/{encoded}") == ("photo", photo_id)
    assert short_url(photo_id) == f"https://flic.kr/p/{encoded}"


URLS = [
    ("https://www.flickr.com/photos/someone/52345678901/", ("photo", "52345678901")),
    ("https://www.flickr.com/photos/12345678@N00/52345678901/in/album-72157600000000001/", ("photo", "52345678901")),
    ("http://flickr.com/photos/someone/52345678901", ("photo", "52345678901")),
    ("www.flickr.com/photos/someone/52345678901/sizes/l/", ("photo", "52345678901")),
    ("https://m.flickr.com/photos/someone/52345678901", ("photo", "52345678901")),
    ("flic.kr/p/7Afjsu", ("photo", "4325695128")),
    ("https://flic.kr/s/7Afjsu", ("album", "4325695128")),
    ("https://live.staticflickr.com/65535/52345678901_0123abcdef_b.jpg", ("photo", "52345678901")),
    ("https://live.staticflickr.com/65535/52345678901_0123abcdef.jpg", ("photo", "52345678901")),
    ("https://farm66.staticflickr.com/65535/52345678901_0123abcdef_o.png", ("photo", "52345678901")),
    ("http://farm3.static.flickr.com/2109/2225463587_3b0b4f8a4f_m.jpg", ("photo", "2225463587")),
    ("https://live.staticflickr.com/7/65535/52345678901_0123abcdef_z.jpg", ("photo", "52345678901")),
    ("https://www.flickr.com/photos/someone/albums/72157600000000001", ("album", "72157600000000001")),
    ("https://www.flickr.com/photos/someone/sets/72157600000000001/", ("album", "72157600000000001")),
    ("  https://www.flickr.com/photos/someone/albums/72157600000000001/with/52345678901  ",
     ("album", "72157600000000001")),
    ("https://www.flickr.com/photos/someone/albums", None),
    ("https://www.flickr.com/photos/someone/", None),
    ("https://www.flickr.com/photos/someone/tags/sunset", None),
    ("https://evil.example/photos/someone/52345678901/", None),
    ("https://flickr.com.evil.example/photos/someone/52345678901/", None),
    ("https://flic.kr/p/0OIl", None),  # not base58
    ("javascript:alert(1)//flic.kr/p/7Afjsu", None),
    ("ftp://www.flickr.com/photos/someone/52345678901/", None),
    ("https://live.staticflickr.com/65535/../52345678901_abc.jpg", None),
    ("東京タワー", None),
    ("", None),
]


@pytest.mark.parametrize("url, expected", URLS)
def test_old_links_name_an_item_or_an_album(url, expected):
    assert links.parse(url) == expected


# -- the index, read back in Python -----------------------------------------------------------

def _shards(out: Path) -> dict[str, dict]:
    found = {}
    for path in (out / search.DATA).glob("*.js"):
        text = path.read_text("utf-8")
        match = re.fullmatch(r'exodusSearch\.add\("([^"]+)",(.*)\);\n', text, re.S)
        assert match, path
        found[match.group(1)] = json.loads(match.group(2))
    return found


def _postings(text: str) -> list[int]:
    out, last = [], 0
    for gap in text.split(","):
        last += int(gap, 36)
        out.append(last)
    return out


def _synthetic(n: int, start: int = 50_000_000_000) -> list[Doc]:
    vocabulary = ["sunset", "beach", "family", "dog", "street", "mountain", "café", "東京タワー", "Москва"]
    return [Doc(str(start + 7 * i), f"photos/{start + 7 * i}.html", f"Photo {i}",
                f"{vocabulary[i % 9]} {vocabulary[(i * 5) % 9]} word{i % 997} item{i}", "")
            for i in range(n)]


def test_every_document_is_found_by_each_of_its_terms(tmp_path):
    docs = _synthetic(3000)
    stats = search.write_index(tmp_path, docs)
    shards = _shards(tmp_path)
    meta = shards.pop("meta")
    terms = {t: p for name, shard in shards.items() if name.startswith("t-") for t, p in shard.items()}
    shown = {i: d for name, shard in shards.items() if name.startswith("d-") for i, d in shard.items()}
    assert stats["docs"] == meta["count"] == len(shown) == 3000
    for doc in docs[::97]:
        for term in search.terms(doc.text + " " + doc.title):
            assert int(doc.id) in _postings(terms[term]), (doc.id, term)
        assert shown[doc.id] == [doc.url, doc.title, doc.thumb]
    # Each shard is found where the directory says: its first key is the directory's entry.
    for first in meta["terms"]:
        assert first in shards[f"t-{search.fnv1a(first):08x}"]
    assert meta["terms"] == sorted(meta["terms"], key=lambda t: t.encode("utf-16-be"))
    for first in _postings(meta["docs"]):
        assert str(first) in shards[f"d-{search.fnv1a(str(first)):08x}"]
    assert len(meta["terms"]) > 1 and len(meta["docs"].split(",")) > 1  # in parts: a query never loads all
    biggest = max(len(p.read_bytes()) for p in (tmp_path / search.DATA).glob("t-*.js"))
    total = sum(len(p.read_bytes()) for p in (tmp_path / search.DATA).glob("t-*.js"))
    assert biggest < total / 2


def test_a_word_most_photos_have_is_a_shard_of_its_own(tmp_path):
    docs = [Doc(str(50_000_000_000 + 1_000_000 * i), "", "", f"holiday rare{i} hola holz", "") for i in range(3000)]
    search.write_index(tmp_path, docs)
    shards = _shards(tmp_path)
    assert "holiday" in shards["meta"]["terms"]
    assert list(shards[f"t-{search.fnv1a('holiday'):08x}"]) == ["holiday"]
    assert len(_postings(shards[f"t-{search.fnv1a('holiday'):08x}"]["holiday"])) == 3000


def test_a_rebuild_writes_only_the_shards_that_changed(tmp_path):
    docs = _synthetic(5000)
    assert search.write_index(tmp_path, docs)["written"] > 10
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / search.DATA).iterdir()}
    assert search.write_index(tmp_path, docs)["written"] == 0
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / search.DATA).iterdir()} == before
    again = search.write_index(tmp_path, docs + [Doc("60000000000", "photos/60000000000.html", "New", "sunset", "")])
    # The new photo's own word's shard, its title's, its document's shard and meta: not all.
    assert 0 < again["written"] <= 6 < len(before)


def test_the_index_is_the_same_whatever_the_order_of_the_documents(tmp_path):
    docs = _synthetic(500)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    search.write_index(tmp_path / "a", docs)
    search.write_index(tmp_path / "b", docs[::-1])
    first, second = _shards(tmp_path / "a"), _shards(tmp_path / "b")
    assert first == second and len(first) > 2


def test_ids_that_are_not_flickrs_are_left_out(tmp_path):
    hostile = [Doc("../../etc", "x", "x", "bad", ""), Doc("9" * 19, "y", "y", "bad", ""),
               Doc("52345678901", "photos/52345678901.html", "ok", "good", "")]
    stats = search.write_index(tmp_path, hostile)
    assert stats["docs"] == 1 and stats["skipped"] == 2
    assert not (tmp_path / "etc").exists()


def test_link_lists_hold_every_id_once_in_its_bucket(tmp_path):
    photos = ["52345678901", "52345678907", "7", "../1"]
    links.write_links(tmp_path, photos, ["72157600000000001"])
    folder = tmp_path / links.DATA
    assert len(list(folder.glob("p-*.js"))) == len(list(folder.glob("a-*.js"))) == 100
    assert json.loads((folder / "p-01.js").read_text()[len('exodusLinks.add("p-01",'):-3]) == ["52345678901"]
    assert "7" in (folder / "p-07.js").read_text() and "52345678907" in (folder / "p-07.js").read_text()
    assert "72157600000000001" in (folder / "a-01.js").read_text()
    assert "../1" not in "".join(p.read_text() for p in folder.iterdir())
    assert links.write_links(tmp_path, photos, ["72157600000000001"]) == 0


# -- a gallery from a real backup, in a real browser ---------------------------------------------

ACCOUNT = dict(photos=30, videos=2, albums=3, seed=19, comment_share=0.6, video_access="oauth")


class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def plain(markup: str) -> str:
    reader = _Text()
    reader.feed(markup or "")
    return " ".join(reader.parts)


def _page(title: str) -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" '
            f'content="{CSP}"><title>{title}</title></head><body><h1>{title}</h1></body></html>')


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    """OUT built from a real backup: the search index, the link lists, search.html and its
    scripts; item and album pages are stand-ins (gallery/pages.py writes the real ones)."""
    home = tmp_path_factory.mktemp("search")
    with backed_up(home, SandboxConfig(**ACCOUNT)) as (client, env, dest):
        db = sqlite3.connect(dest / "catalog.db")
        db.row_factory = sqlite3.Row
        items = db.execute("SELECT id, title, description FROM photos ORDER BY id").fetchall()
        tags = {}
        for row in db.execute("SELECT photo_id, tag, raw FROM tags"):
            raw = json.loads(row["raw"]) if row["raw"] else None  # the tag as its owner typed it
            tags.setdefault(row["photo_id"], []).append(raw.get("raw", row["tag"]) if isinstance(raw, dict)
                                                        else str(raw or row["tag"]))
        comments = {}
        for row in db.execute("SELECT photo_id, text FROM comments WHERE photo_id IS NOT NULL"):
            comments.setdefault(row["photo_id"], []).append(plain(row["text"]))
        albums = [row[0] for row in db.execute("SELECT id FROM albums")]
        db.close()
    out = home / "out"
    docs, texts = [], {}
    for row in items:
        thumb = f"img/test/{row['id']}.png"
        text = " ".join([plain(row["description"]), *tags.get(row["id"], []), *comments.get(row["id"], []),
                         row["title"] or ""])
        docs.append(Doc(row["id"], f"photos/{row['id']}.html", row["title"] or "", text, thumb))
        texts[row["id"]] = text
        (out / "site/img/test").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32, 24), (200, 120, 40)).save(out / "site" / thumb)
        (out / "site/photos").mkdir(exist_ok=True)
        (out / "site/photos" / f"{row['id']}.html").write_text(_page(f"photo {row['id']}"), "utf-8")
    (out / "site/style.css").write_text("body { font-family: sans-serif; }\n")
    search.write_index(out, docs)
    links.write_links(out, [d.id for d in docs], albums)
    search.write_page(out)
    return out, texts, comments


def _found(watched, out: Path, query: str) -> set[str]:
    page = watched.page
    page.goto((out / "site/search.html").as_uri() + "?q=" + query)
    page.wait_for_selector("#search-status[data-done]")
    assert page.locator("#search-status").inner_text() != "", query
    return set(page.eval_on_selector_all("#search-results a", "links => links.map(a => a.dataset.id)"))


def _expected(texts: dict, predicate) -> set[str]:
    return {i for i, text in texts.items() if predicate(text)}


def test_search_finds_a_word_of_a_japanese_title(gallery, gallery_page, request):
    out, texts, _ = gallery
    want = _expected(texts, lambda t: "東京" in unicodedata.normalize("NFKC", t))
    assert want, "the sandbox account should hold 東京タワー: change ACCOUNT's seed"
    watched = gallery_page()
    assert _found(watched, out, "東京") == want
    images = watched.page.eval_on_selector_all("#search-results img", "imgs => imgs.map(i => i.naturalWidth)")
    assert images and all(width > 0 for width in images)
    shot(watched.page, artifacts(request), "search-tokyo")
    assert not watched.problems(), watched.problems()


def test_search_finds_a_word_of_a_comment_and_follows_a_result(gallery, gallery_page):
    out, texts, comments = gallery
    word = "lovely"
    want = {i for i, said in comments.items() if any(re.search(rf"(?i)\b{word}", c) for c in said)}
    assert want, "the sandbox account should have a 'Lovely!' comment: change ACCOUNT's seed"
    watched = gallery_page()
    found = _found(watched, out, "LOVEL")  # the last word is a prefix, case folded
    assert want <= found
    assert found == _expected(texts, lambda t: re.search(r"(?i)\blovel", t) is not None)
    watched.page.click(f'#search-results a[data-id="{sorted(want)[0]}"]')
    watched.page.wait_for_url(f"**/site/photos/{sorted(want)[0]}.html")
    assert not watched.problems(), watched.problems()


def test_a_query_that_matches_nothing_says_so(gallery, gallery_page):
    out, _, _ = gallery
    watched = gallery_page()
    assert _found(watched, out, "zzqx 東京") == set()
    assert watched.page.locator("#search-status").inner_text() == "Nothing found."
    assert not watched.problems(), watched.problems()


def test_a_pasted_flic_kr_link_opens_the_items_page(gallery, gallery_page, request):
    out, texts, _ = gallery
    item = sorted(texts)[3]
    watched = gallery_page()
    page = watched.page
    page.goto((out / "site/search.html").as_uri())
    page.fill("#oldlink-url", f"flic.kr/p/{flickrapi.shorturl.encode(item)}")
    shot(page, artifacts(request), "pasted")
    page.press("#oldlink-url", "Enter")
    page.wait_for_url(f"**/site/photos/{item}.html")
    assert page.locator("h1").inner_text() == f"photo {item}"
    assert not watched.problems(), watched.problems()


@pytest.mark.parametrize("how", ["link", "q"])
def test_an_old_link_to_an_item_not_in_the_gallery_says_so(gallery, gallery_page, how):
    out, texts, _ = gallery
    absent = str(max(int(i) for i in texts) + 1)
    watched = gallery_page()
    page = watched.page
    page.goto((out / "site/search.html").as_uri() + f"?{how}=https://www.flickr.com/photos/me/{absent}/")
    page.wait_for_selector("#oldlink-status[data-done]")
    assert page.locator("#oldlink-status").inner_text() == f"That photo ({absent}) is not in this gallery."
    assert page.url.split("?")[0].endswith("/site/search.html")  # stayed: nowhere to go
    assert not watched.problems(), watched.problems()


def test_the_page_and_python_agree_on_words_terms_hashes_and_urls(gallery, gallery_page):
    out, texts, _ = gallery
    watched = gallery_page()
    page = watched.page
    page.goto((out / "site/search.html").as_uri())
    samples = [text for text, _ in WORDS] + list(texts.values())
    js = page.evaluate("""samples => samples.map(s => [exodusSearch.words(s), exodusSearch.terms(s),
                          exodusSearch.fnv1a(s)])""", samples)
    for text, (js_words, js_terms, js_hash) in zip(samples, js):
        assert (js_words, set(js_terms), js_hash) == (search.words(text), search.terms(text), search.fnv1a(text)), text
    parsed = page.evaluate("urls => urls.map(u => exodusOldLinks.parse(u))", [u for u, _ in URLS])
    for (url, expected), got in zip(URLS, parsed):
        assert (tuple(got) if got else None) == expected, url
    assert not watched.problems(), watched.problems()


@pytest.mark.skipif(not os.environ.get("EXODUS_SEARCH_MEASURE"), reason="a measurement: EXODUS_SEARCH_MEASURE=1")
def test_measure_search_on_100000_documents(tmp_path, gallery_page):
    """Report only: the browser's own clock around queries on a 100,000-document index."""
    docs = _synthetic(100_000)
    started, cpu = time.perf_counter(), time.process_time()
    stats = search.write_index(tmp_path, docs)
    built, built_cpu = time.perf_counter() - started, time.process_time() - cpu
    search.write_page(tmp_path)
    (tmp_path / "site/style.css").write_text("")
    links.write_links(tmp_path, [], [])
    watched = gallery_page()
    page = watched.page
    page.goto((tmp_path / "site/search.html").as_uri())
    figures = {}
    for query in ["東京", "beach mountain", "word42", "item9999", "caf", "Москва street", "nothing"]:
        times = []
        for _ in range(2):
            page.goto((tmp_path / "site/search.html").as_uri())  # cold: nothing loaded yet
            times.append(page.evaluate("""async q => { const t = performance.now();
                const r = await exodusSearch.search(q); return [performance.now() - t, r.ids.length]; }""", query))
        figures[query] = {"ms": [round(t, 1) for t, _ in times], "hits": times[0][1]}
    print(json.dumps({"build_s": round(built, 1), "build_cpu_s": round(built_cpu, 1), "index": stats, "queries": figures}, ensure_ascii=False))
    assert figures["item9999"]["hits"] == 11  # item9999 and item99990..item99999: a prefix
    assert figures["beach mountain"]["hits"] == figures["Москва street"]["hits"] == 100_000 // 9
    assert not watched.problems(), watched.problems()


def test_the_harness_sees_a_missing_file_and_a_console_error(tmp_path, gallery_page):
    """The 'no problems' checks above can fail: a page with both faults is caught."""
    (tmp_path / "broken.js").write_text('console.error("broken on purpose");\n')
    page = tmp_path / "page.html"
    page.write_text('<!DOCTYPE html><html><head><script src="broken.js"></script>'
                    '<script src="missing.js"></script></head><body>x</body></html>')
    watched = gallery_page()
    watched.page.goto(page.as_uri())
    watched.page.wait_for_load_state("load")
    problems = watched.problems()
    assert any("broken on purpose" in p for p in problems), problems
    assert any("missing.js" in p for p in problems), problems
