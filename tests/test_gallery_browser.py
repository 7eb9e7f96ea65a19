"""The gallery joined up, in a real browser: built by the real `exodus gallery` from a real
sandbox backup, kept current by the next `exodus backup` after hostile edits on Flickr, and
opened from file:// in Debian's Chromium (tests/browser.py): every page type loads with no
failed request and no console error, images decode, notes show on hover and focus, search
and old links answer, arrow keys walk the stream and an album, hostile text runs nothing;
then the folder copied elsewhere works the same. One backup and one browser for the module.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
import unicodedata
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, unquote, urlsplit

import flickrapi.shorturl
import pytest

from browser import artifacts, browser, gallery_page, shot  # noqa: F401 (fixtures by name)
from conftest import backed_up, catalog_rows, exodus
from flickr_exodus.gallery.model import slug
from flickr_exodus.sandbox import SandboxConfig

# 東京タワー among the titles, 'Lovely!' among the comments, notes, two videos, albums in collections.
ACCOUNT = dict(photos=30, videos=2, albums=3, seed=19, comment_share=0.6, video_access="oauth",
               media_size=(6_000, 20_000), video_size=(30_000, 50_000))
HOSTILE_TITLE = '<img src=x onerror="window.pwned=1">'
HOSTILE_DESCRIPTION = "<script>window.pwned=2</script>Harbour at night"
JOBS = 2


def gallery(env, *args) -> dict:
    done = exodus(["gallery", *map(str, args), "--json"], env)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


def stream_order(dest: Path) -> list[str]:
    """The photostream's order: newest taken first (ties by id, as the model sorts)."""
    rows = catalog_rows(dest, "SELECT id, date_taken FROM photos")
    return [r["id"] for r in sorted(rows, key=lambda r: (r["date_taken"] or "", r["id"]), reverse=True)]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """DEST with its gallery: built after the first backup, then the account edited on Flickr
    (a hostile title, a hostile description) and backed up again, which brings it up to date."""
    home = tmp_path_factory.mktemp("browse")
    with backed_up(home, SandboxConfig(**ACCOUNT)) as (client, env, dest):
        built = gallery(env, dest, "--jobs", JOBS)
        public = [r["id"] for r in catalog_rows(dest, "SELECT id FROM photos WHERE is_public = 1 AND media = "
                                                      "'photo' AND sha256 IS NOT NULL ORDER BY id")]
        titled, described = public[0], public[1]
        client.control("edit", id=titled, title=HOSTILE_TITLE)
        client.control("edit", id=described, description=HOSTILE_DESCRIPTION)
        again = exodus(["backup", str(dest), "--json"], env)
        yield SimpleNamespace(client=client, env=env, dest=dest, built=built, backup=again, titled=titled,
                              described=described)


def uri(root: Path, relative: str, query: str = "") -> str:
    return (root / relative).as_uri() + query


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# -- exodus backup keeps the gallery current -----------------------------------------------------

def test_backup_brings_the_gallery_up_to_date_with_the_options_it_was_built_with(site):
    assert site.backup.returncode == 0 and "Traceback" not in site.backup.stderr, site.backup.stderr
    page = text_of(site.dest / "site/photos" / f"{site.titled}.html")
    assert "&lt;img src=x onerror=&#34;window.pwned=1&#34;&gt;" in page  # the new title, as text
    assert "Harbour at night" in text_of(site.dest / "site/photos" / f"{site.described}.html")
    mark = json.loads(text_of(site.dest / "site/gallery.json"))
    assert mark["subset"] is False and mark["options"] == {"jobs": JOBS}
    assert not json.loads(site.backup.stdout)["notes"]


def test_a_gallery_that_cannot_be_brought_up_to_date_is_a_warning_not_a_failed_backup(site, tmp_path):
    copy = tmp_path / "dest"
    shutil.copytree(site.dest, copy, symlinks=True)
    (copy / ".exodus.lock").unlink(missing_ok=True)
    (copy / "site/style.css").unlink()
    (copy / "site/style.css").mkdir()  # the stylesheet cannot be written where a folder is
    site.client.control("edit", id=site.described, title="Renamed after the gallery broke")
    done = exodus(["backup", str(copy)], site.env)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("Warning")]
    assert len(warnings) == 1 and warnings[0].startswith(f"Warning: the gallery in {copy} was not"), done.stderr
    assert "Is a directory" in warnings[0] and f"'exodus gallery {copy}'" in warnings[0]
    again = exodus(["backup", str(copy), "--json"], site.env)  # the same, as a note of the summary
    summary = json.loads(again.stdout)
    assert again.returncode == 0 and summary["ok"] and [n for n in summary["notes"] if "gallery" in n]
    rows = catalog_rows(copy, "SELECT title FROM photos WHERE id = ?", [site.described])
    assert rows[0]["title"] == "Renamed after the gallery broke"  # the backup's own work is done


# -- every page type in Chromium, from file:// ----------------------------------------------------

def until(page, expression: str, timeout: float = 30) -> None:
    """Wait for a JavaScript expression to hold. Polled through evaluate(): Playwright's
    wait_for_function() evaluates a string, which the pages' CSP (no 'unsafe-eval') refuses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        assert time.monotonic() < deadline, f"still not true after {timeout} s: {expression}"
        time.sleep(0.05)


def settle(page) -> list[int]:
    """Every image asked for now (lazy ones too) and waited for; their natural widths."""
    page.wait_for_load_state("load")
    page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })")
    until(page, "[...document.images].every(i => i.complete)")
    return page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")


def pages_to_open(dest: Path, titled: str) -> dict[str, str]:
    album = catalog_rows(dest, "SELECT id FROM albums WHERE gone = 0 ORDER BY id LIMIT 1")[0]["id"]
    tag = catalog_rows(dest, "SELECT tag FROM tags WHERE photo_id = ? LIMIT 1", [titled]) or \
        catalog_rows(dest, "SELECT tag FROM tags LIMIT 1")
    video = catalog_rows(dest, "SELECT id FROM photos WHERE media = 'video' AND sha256 IS NOT NULL LIMIT 1")
    assert video, "the sandbox account should have a saved video"
    month = sorted((dest / "site/stream").glob("*.html"))[0].name
    return {"index": "index.html", "month": f"site/stream/{month}", "albums": "site/albums.html",
            "album": f"site/albums/{album}.html", "collections": "site/collections.html", "tags": "site/tags.html",
            "tag": f"site/tags/{slug(tag[0]['tag'])}.html", "people": "site/people.html",
            "photo": f"site/photos/{titled}.html", "video": f"site/photos/{video[0]['id']}.html",
            "search": "site/search.html?q=" + quote("東京")}


def test_every_page_type_opens_clean_and_runs_nothing_hostile(site, gallery_page, request):
    folder = artifacts(request)
    for kind, relative in pages_to_open(site.dest, site.titled).items():
        path, _, query = relative.partition("?")
        watched = gallery_page()
        page = watched.page
        page.goto(uri(site.dest, path, "?" + query if query else ""))
        if kind == "search":
            page.wait_for_selector("#search-status[data-done]")
        widths = settle(page)
        assert all(width > 0 for width in widths), (kind, widths)
        if kind in ("index", "month", "album", "tag", "photo", "search"):
            assert widths, kind  # images of the account were shown, and decoded
        if kind == "video":
            # The file is there and asked for; the sandbox's movies are boxes around no real
            # stream, so Chromium cannot decode them (MEDIA_ERR_SRC_NOT_SUPPORTED): not checked.
            source = page.evaluate("() => document.querySelector('video').src")
            assert page.locator("video[controls]").count() == 1 and Path(unquote(urlsplit(source).path)).is_file()
        assert page.evaluate("typeof window.pwned") == "undefined", kind
        assert not watched.problems(), (kind, watched.problems())
        if kind in ("index", "album", "photo", "search"):
            shot(page, folder, kind)
    assert {p.name for p in folder.iterdir()} == {"index.png", "album.png", "photo.png", "search.png"}


def test_hostile_text_is_shown_as_text_on_its_page(site, gallery_page):
    watched = gallery_page()
    page = watched.page
    page.goto(uri(site.dest, f"site/photos/{site.titled}.html"))
    settle(page)
    assert page.locator("h1").inner_text() == HOSTILE_TITLE
    page.goto(uri(site.dest, f"site/photos/{site.described}.html"))
    settle(page)
    assert page.locator(".description").inner_text().strip() == "Harbour at night"
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert not watched.problems(), watched.problems()


def test_an_album_shows_the_catalogs_order(site, gallery_page):
    watched = gallery_page()
    checked = 0
    for album in catalog_rows(site.dest, "SELECT id FROM albums WHERE gone = 0"):
        order = [r["photo_id"] for r in catalog_rows(
            site.dest, "SELECT photo_id FROM album_photos WHERE album_id = ? ORDER BY position", [album["id"]])]
        watched.page.goto(uri(site.dest, f"site/albums/{album['id']}.html"))
        shown = watched.page.eval_on_selector_all(
            "main .grid a", "links => links.map(a => new URL(a.href).pathname.split('/').pop().replace('.html', ''))")
        assert shown == order, album["id"]
        checked += len(order) > 1
    assert checked and not watched.problems(), watched.problems()


def test_a_notes_text_shows_on_hover_and_on_focus(site, gallery_page):
    noted = catalog_rows(site.dest, "SELECT n.photo_id, n.text FROM notes n JOIN photos p ON p.id = n.photo_id "
                                    "WHERE p.media = 'photo' AND p.sha256 IS NOT NULL LIMIT 1")
    assert noted, "the sandbox account should have a note on a saved photo"
    watched = gallery_page()
    page = watched.page
    page.goto(uri(site.dest, f"site/photos/{noted[0]['photo_id']}.html"))
    settle(page)
    note, text = page.locator(".frame .note").first, page.locator(".frame .note .note-text").first
    assert not text.is_visible()
    note.hover()
    assert text.is_visible() and text.inner_text().strip()
    page.mouse.move(0, 0)
    assert not text.is_visible()
    note.focus()  # a keyboard reader gets it too
    assert text.is_visible()
    assert not watched.problems(), watched.problems()


def expected(dest: Path, predicate) -> set[str]:
    db = sqlite3.connect(dest / "catalog.db")
    try:
        texts = {pid: title or "" for pid, title in db.execute("SELECT id, title FROM photos")}
        for pid, text in db.execute("SELECT photo_id, text FROM comments WHERE photo_id IS NOT NULL"):
            texts[pid] = texts.get(pid, "") + " " + (text or "")
    finally:
        db.close()
    return {pid for pid, text in texts.items() if predicate(unicodedata.normalize("NFKC", text))}


def search_from(page, root: Path, start: str, words: str) -> set[str]:
    """The header's search box of a page deep in the stream, as a reader uses it."""
    page.goto(uri(root, start))
    page.fill("#search-q", words)
    page.press("#search-q", "Enter")
    page.wait_for_url("**/site/search.html?q=*")
    page.wait_for_selector("#search-status[data-done]")
    return set(page.eval_on_selector_all("#search-results a", "links => links.map(a => a.dataset.id)"))


def test_search_finds_a_word_of_a_japanese_title_and_of_a_comment(site, gallery_page):
    month = "site/stream/" + sorted((site.dest / "site/stream").glob("*.html"))[0].name
    watched = gallery_page()
    tokyo = expected(site.dest, lambda t: "東京" in t)
    assert tokyo, "the sandbox account should hold 東京タワー"
    assert tokyo <= search_from(watched.page, site.dest, month, "東京")
    lovely = expected(site.dest, lambda t: "lovely" in t.lower())
    assert lovely, "the sandbox account should have a 'Lovely!' comment"
    found = search_from(watched.page, site.dest, f"site/photos/{site.titled}.html", "lovely")
    assert lovely <= found
    watched.page.click(f'#search-results a[data-id="{sorted(lovely)[0]}"]')
    watched.page.wait_for_url(f"**/site/photos/{sorted(lovely)[0]}.html")
    assert settle(watched.page)
    assert not watched.problems(), watched.problems()


def test_a_pasted_flic_kr_url_opens_the_items_page(site, gallery_page):
    item = stream_order(site.dest)[3]
    watched = gallery_page()
    page = watched.page
    page.goto(uri(site.dest, "site/albums.html"))
    page.fill("#oldlink-url", f"flic.kr/p/{flickrapi.shorturl.encode(item)}")
    page.press("#oldlink-url", "Enter")
    page.wait_for_url(f"**/site/photos/{item}.html")
    settle(page)
    assert page.locator("#item").get_attribute("data-id") == item
    assert not watched.problems(), watched.problems()


def press(page, key: str, lands: str) -> None:
    page.keyboard.press(key)
    page.wait_for_url(lands)
    page.wait_for_load_state("load")


def test_arrow_keys_walk_the_stream_and_an_album(site, gallery_page):
    stream = stream_order(site.dest)
    watched = gallery_page()
    page = watched.page
    page.goto(uri(site.dest, f"site/photos/{stream[1]}.html"))
    press(page, "ArrowRight", f"**/site/photos/{stream[2]}.html")
    press(page, "ArrowLeft", f"**/site/photos/{stream[1]}.html")
    album = next(a["id"] for a in catalog_rows(site.dest, "SELECT album_id AS id, count(*) AS n FROM album_photos "
                                                          "GROUP BY album_id HAVING n >= 3 ORDER BY album_id"))
    order = [r["photo_id"] for r in catalog_rows(
        site.dest, "SELECT photo_id FROM album_photos WHERE album_id = ? ORDER BY position", [album])]
    page.goto(uri(site.dest, f"site/photos/{order[1]}.html", f"?in=album-{album}"))
    until(page, "document.getElementById('context').textContent.startsWith('album:')")
    press(page, "ArrowRight", f"**/site/photos/{order[2]}.html?in=album-{album}")
    until(page, "document.getElementById('context').textContent.startsWith('album:')")
    press(page, "ArrowLeft", f"**/site/photos/{order[1]}.html?in=album-{album}")
    press(page, "ArrowLeft", f"**/site/photos/{order[0]}.html?in=album-{album}")
    assert not watched.problems(), watched.problems()


# -- the folder moved -------------------------------------------------------------------------

def test_the_folder_copied_elsewhere_works_the_same(site, gallery_page, tmp_path):
    moved = tmp_path / "moved" / "my flickr"  # a space in the path too
    shutil.copytree(site.dest, moved, symlinks=True)
    watched = gallery_page()
    page = watched.page
    asked: list[str] = []
    page.on("request", lambda req: asked.append(req.url))
    for kind, relative in pages_to_open(moved, site.titled).items():
        path, _, query = relative.partition("?")
        page.goto(uri(moved, path, "?" + query if query else ""))
        if kind == "search":
            page.wait_for_selector("#search-status[data-done]")
            assert page.locator("#search-results a").count() > 0
        assert all(width > 0 for width in settle(page)), kind
    item = stream_order(moved)[2]
    page.goto(uri(moved, "index.html"))
    page.fill("#oldlink-url", f"https://www.flickr.com/photos/someone/{item}/")
    page.press("#oldlink-url", "Enter")
    page.wait_for_url(f"**/site/photos/{item}.html")
    settle(page)
    assert len(asked) > 30 and all(url.startswith(moved.as_uri()) for url in asked), \
        [url for url in asked if not url.startswith(moved.as_uri())][:5]
    assert not watched.problems(), watched.problems()

