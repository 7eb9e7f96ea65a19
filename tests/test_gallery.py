"""`exodus gallery`: the backup as pages that open from a folder, built from a real sandbox
account (hostile titles, comments with links, notes, people, albums, collections, videos)
backed up with the real `exodus backup`. Pages are read with html.parser; browser tests
are test_gallery_search.py's and the browse helper's."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import backed_up, catalog_rows, exodus
from flickr_exodus.gallery.model import slug
from flickr_exodus.gallery.sanitize import clean, plain
from flickr_exodus.sandbox import SandboxConfig
from test_errors import one_line, read_only_view

HOSTILE_TITLE = '<img src=x onerror="window.pwned=1">'
HOSTILE_DESCRIPTION = ('Hello <script>window.pwned=2</script><b onclick="window.pwned=3">bold</b> '
                       '<a href="javascript:window.pwned=4">js</a> <a href="https://example.org/x">ok</a>')
HOSTILE_COMMENT = '<iframe src="https://evil.example/"></iframe><svg onload="window.pwned=5"></svg>nice'
PRIVATE_TITLE = "Zanzibar private evening"
PRIVATE_TAG = "zanzibarsecret"
CSP = "default-src 'none'; script-src 'self'"
OWN_SCRIPTS = {"../js/nav.js", "js/oldlinks.js", "js/search.js"}  # a photo page's; search.html's


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    """A finished backup whose account was then edited on Flickr to be hostile (a title, a
    description, a comment) and to have a private item of its own words, and backed up again."""
    config = SandboxConfig(photos=20, videos=2, albums=3, seed=7, video_access="oauth",
                           media_size=(6_000, 20_000), video_size=(30_000, 50_000))
    with backed_up(tmp_path_factory.mktemp("gallery"), config) as (client, env, dest):
        rows = catalog_rows(dest)
        public = [r["id"] for r in rows if r["is_public"] and r["media"] == "photo"]
        private = [r["id"] for r in rows if not r["is_public"] and r["media"] == "photo"]
        client.control("edit", id=public[0], title=HOSTILE_TITLE, description=HOSTILE_DESCRIPTION)
        client.control("comment", id=public[0], text=HOSTILE_COMMENT)
        client.control("edit", id=private[0], title=PRIVATE_TITLE, tags=[PRIVATE_TAG])
        again = exodus(["backup", str(dest), "--json"], env)
        assert again.returncode == 0, again.stderr
        yield client, env, dest, public[0]


def gallery(env, *args) -> dict:
    done = exodus(["gallery", *map(str, args), "--json"], env)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def full(account, tmp_path_factory):
    """The full gallery, built in a copy of the backup in which one item lost its file."""
    client, env, dest, hostile = account
    copy = tmp_path_factory.mktemp("full") / "dest"
    shutil.copytree(dest, copy, symlinks=True)
    lost = next(r["id"] for r in catalog_rows(copy) if r["id"] != hostile and r["media"] == "photo")
    with sqlite3.connect(copy / "catalog.db") as conn:
        conn.execute("UPDATE photos SET state = 'failed', sha256 = NULL WHERE id = ?", [lost])
    return copy, gallery(env, copy), env, hostile, lost


class Page(HTMLParser):
    """What a test needs of one page: its links by kind, tags and attributes, script tags,
    the text inside each element id'd or classed."""

    def __init__(self, path: Path):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.text: list[str] = []
        self._script: dict | None = None
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        for name in ("href", "src", "poster", "action"):
            if attributes.get(name) is not None:
                self.links.append((tag, name, attributes[name]))
        for candidate in (attributes.get("srcset") or "").split(","):
            if candidate.strip():
                self.links.append((tag, "srcset", candidate.split()[0]))
        if tag == "script":
            self._script = attributes
            self.scripts.append((attributes, ""))

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self.scripts[-1] = (self.scripts[-1][0], self.scripts[-1][1] + data)
        else:
            self.text.append(data)

    def grid_ids(self) -> list[str]:
        return [Path(urlsplit(value).path).stem for tag, name, value in self.links
                if tag == "a" and "/photos/" in value]


def pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def test_every_page_type_is_made(full):
    out, report, *_ = full
    rows = catalog_rows(out)
    assert (out / "index.html").is_file() and (out / "README.txt").is_file()
    assert "public_creative_commons" in (out / "metadata.yml").read_text()  # Datasette's, beside the catalog
    for name in ("albums.html", "collections.html", "people.html", "tags.html", "style.css", "js/nav.js",
                 "SHA256SUMS"):
        assert (out / "site" / name).is_file(), name
    assert {p.stem for p in (out / "site/photos").glob("*.html")} == {r["id"] for r in rows}
    albums = {r["id"] for r in catalog_rows(out, "SELECT id FROM albums WHERE gone = 0")}
    assert albums and {p.stem for p in (out / "site/albums").glob("*.html")} == albums
    tags = {r["tag"] for r in catalog_rows(out, "SELECT DISTINCT tag FROM tags")}
    assert tags and {p.stem for p in (out / "site/tags").glob("*.html")} == {slug(t) for t in tags}
    assert {p.stem for p in (out / "site/data/contexts").glob("*.js")} == (
        {f"album-{a}" for a in albums} | {f"tag-{slug(t)}" for t in tags})
    months = {r["date_taken"][:7] for r in rows}
    assert {p.stem for p in (out / "site/stream").glob("*.html")} == months
    assert report["items"] == len(rows) and report["pages"] == len(pages(out)) - 0
    for path in pages(out):
        page = Page(path)
        csp = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
        assert len(csp) == 1 and csp[0].startswith(CSP), path
        forms = [a for t, a in page.tags if t == "form"]
        assert len(forms) == 2 and all(f["action"].endswith("site/search.html") for f in forms), path
        assert all(a.get("name") == "q" for t, a in page.tags if t == "input"), path


def test_album_pages_keep_flickrs_order(full):
    out = full[0]
    for album in catalog_rows(out, "SELECT id FROM albums WHERE gone = 0"):
        order = [r["photo_id"] for r in catalog_rows(
            out, "SELECT photo_id FROM album_photos WHERE album_id = ? ORDER BY position", [album["id"]])]
        page = Page(out / "site/albums" / f"{album['id']}.html")
        assert page.grid_ids() == order, album["id"]
        context = (out / "site/data/contexts" / f"album-{album['id']}.js").read_text()
        assert json.loads(context[context.index("{"):context.rindex("}") + 1])["ids"] == order


def test_every_relative_link_leads_to_a_file_of_the_gallery(full):
    out = full[0]
    checked = 0
    for path in pages(out):
        for tag, name, value in Page(path).links:
            parts = urlsplit(value)
            if parts.scheme:
                assert parts.scheme in ("http", "https") and tag == "a", (path, value)  # a link, never loaded
                continue
            if not parts.path:
                continue
            target = (path.parent / unquote(parts.path)).resolve()
            assert target.is_relative_to(out.resolve()), (path, value)
            if name == "action":  # the search page is the search part's
                assert target == (out / "site/search.html").resolve()
                continue
            assert target.is_file(), (path, value)
            checked += 1
    assert checked > 500


def test_hostile_text_is_shown_as_text_and_runs_nothing(full):
    out, _, _, hostile, _ = full
    for path in pages(out):
        page = Page(path)
        for attributes, body in page.scripts:  # only our own scripts, from files
            assert attributes.get("src") in OWN_SCRIPTS and not body.strip(), path
        for tag, attributes in page.tags:
            assert not [a for a in attributes if a.startswith("on")], (path, tag, attributes)
            assert tag not in ("iframe", "svg", "object", "embed", "base"), (path, tag)
            assert "style" not in attributes, (path, tag)
            for value in attributes.values():
                assert not (value or "").strip().lower().startswith("javascript:"), (path, value)
        raw = path.read_bytes().lower()
        for own in OWN_SCRIPTS:
            raw = re.sub(rb'<script src="' + re.escape(own.encode()) + rb'"( defer)?></script>', b"", raw)
        assert b"<script" not in raw, path
        assert b"<img src=x" not in raw and b"<iframe" not in raw and b"<svg" not in raw, path
    page = Page(out / "site/photos" / f"{hostile}.html")
    text = "".join(page.text)
    assert HOSTILE_TITLE in text  # the title as its reader typed it, shown as text
    assert "bold" in text and "nice" in text and "window.pwned=2" not in text
    links = [a for t, a in page.tags if t == "a" and "example.org" in (a.get("href") or "")]
    assert links == [{"href": "https://example.org/x", "rel": "nofollow noopener"}]


def test_the_photo_page_shows_what_flickr_knew(full):
    out = full[0]
    note = catalog_rows(out, "SELECT photo_id, text FROM notes LIMIT 1")[0]
    page = Page(out / "site/photos" / f"{note['photo_id']}.html")
    boxes = [a for t, a in page.tags if t == "span" and "note" in (a.get("class") or "").split()]
    assert boxes and all(a.get("tabindex") == "0" for a in boxes)  # shown on focus too
    assert all(cls.split("-")[0] in ("note", "nx", "ny", "nw", "nh") for a in boxes for cls in a["class"].split())
    css = (out / "site/style.css").read_text()
    assert ".note:focus-within .note-text" in css and ".nx-50{left:50%}" in css
    images = [a for t, a in page.tags if t == "img" and a.get("srcset")]
    assert images and len(images[0]["srcset"].split(",")) >= 2
    commented = catalog_rows(out, "SELECT photo_id, coalesce(nullif(realname, ''), authorname) AS name, date_create "
                                  "FROM comments WHERE photo_id IS NOT NULL LIMIT 1")[0]
    text = "".join(Page(out / "site/photos" / f"{commented['photo_id']}.html").text)
    assert commented["name"] in text
    assert time.strftime("%Y-%m-%d", time.gmtime(commented["date_create"])) in text
    placed = catalog_rows(out, "SELECT id FROM photos WHERE latitude IS NOT NULL AND latitude != 0 LIMIT 1")[0]
    osm = [v for t, n, v in Page(out / "site/photos" / f"{placed['id']}.html").links if "openstreetmap.org" in v]
    assert osm and osm[0].startswith("https://www.openstreetmap.org/?mlat=")
    video = catalog_rows(out, "SELECT id, path FROM photos WHERE media = 'video' AND sha256 IS NOT NULL LIMIT 1")[0]
    players = [a for t, a in Page(out / "site/photos" / f"{video['id']}.html").tags if t == "video"]
    assert players and "controls" in players[0] and unquote(players[0]["src"]) == "../../" + video["path"]


def test_an_item_without_a_file_still_has_a_page(full):
    out, _, _, _, lost = full
    page = Page(out / "site/photos" / f"{lost}.html")
    assert "not saved" in "".join(page.text)
    assert not [a for t, a in page.tags if t in ("img", "video")]
    assert lost not in (out / "site/SHA256SUMS").read_text()


def test_sha256sums_checks_every_original(full):
    out = full[0]
    listed = (out / "site/SHA256SUMS").read_text().splitlines()
    assert len(listed) == len(catalog_rows(out, "SELECT id FROM photos WHERE sha256 IS NOT NULL"))
    done = subprocess.run(["sha256sum", "--strict", "-c", "site/SHA256SUMS"], cwd=out, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    readme = (out / "README.txt").read_text()
    assert "sha256sum -c site/SHA256SUMS" in readme and "catalog.db" in readme and "PRIVATE" in readme
    assert "private view" in "".join(Page(out / "index.html").text)


def snapshot(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in [out / "index.html", out / "README.txt",
                                                                   *(out / "site").rglob("*")] if p.is_file()}


def test_a_rerun_over_an_unchanged_backup_writes_nothing(full):
    out, _, env, _, _ = full
    before = snapshot(out)
    report = gallery(env, out)
    assert report["rendered"] == 0 and report["written"] == 0 and report["removed"] == 0
    assert snapshot(out) == before


def test_a_changed_input_renders_only_its_pages_and_a_gone_page_goes(full, tmp_path):
    out, _, env, _, _ = full
    copy = tmp_path / "dest"
    shutil.copytree(out, copy, symlinks=True)
    one, gone = [r["id"] for r in catalog_rows(copy, "SELECT id FROM photos ORDER BY id LIMIT 2")]
    with sqlite3.connect(copy / "catalog.db") as conn:
        conn.execute("UPDATE photos SET views = 123456789 WHERE id = ?", [one])
        conn.execute("DELETE FROM photos WHERE id = ?", [gone])
    report = gallery(env, copy)
    assert "123456789" in (copy / "site/photos" / f"{one}.html").read_text()
    assert not (copy / "site/photos" / f"{gone}.html").exists() and report["removed"] >= 1
    assert f'"{gone}"' not in (copy / "site/data/links" / f"p-{gone[-2:]}.js").read_text()  # nor in the old links
    assert 0 < report["rendered"] < report["pages"] / 2


def test_a_public_subset_holds_nothing_of_the_other_items(account, tmp_path):
    client, env, dest, _ = account
    out = tmp_path / "public"
    report = gallery(env, dest, "--only", "public", "--out", out)
    rows = catalog_rows(dest)
    public = [r for r in rows if r["is_public"]]
    others = [r for r in rows if not r["is_public"]]
    assert others and report["items"] == len(public)
    assert not (out / "metadata.yml").exists()  # no catalog goes with a subset
    public_words = {r["title"] for r in public} | {t["tag"] for t in catalog_rows(
        dest, "SELECT tag FROM tags WHERE photo_id IN (SELECT id FROM photos WHERE is_public)")}
    secrets = set()
    for row in others:
        secrets |= {row["id"], row["secret"], row["original_secret"]}
        if row["title"] and row["title"] not in public_words:
            secrets.add(row["title"])
        secrets |= {t["tag"] for t in catalog_rows(dest, "SELECT tag FROM tags WHERE photo_id = ?", [row["id"]])
                    if t["tag"] not in public_words}
    secrets.discard(None)
    assert {PRIVATE_TITLE, PRIVATE_TAG} <= secrets
    needles = [s.encode() for s in secrets] + [clean(s).encode() for s in secrets] + [slug(s).encode() for s in secrets if not s.isdigit()]
    files = [p for p in out.rglob("*")]
    assert len(files) > 50
    for path in files:
        name = str(path.relative_to(out)).encode()
        body = path.read_bytes() if path.is_file() else b""
        for needle in needles:
            assert needle not in name and needle not in body, (path, needle)
    for row in others:
        assert not (out / "site/img" / row["id"]).exists()
    assert not (out / "catalog.db").exists() and not (out / "photos").exists()
    originals = sorted(p.name for p in (out / "originals").iterdir())
    assert originals == sorted(Path(r["path"]).suffix.join([r["id"], ""]) for r in public if r["sha256"])
    done = subprocess.run(["sha256sum", "--strict", "-c", "site/SHA256SUMS"], cwd=out, capture_output=True,
                          timeout=120)
    assert done.returncode == 0
    assert "public items" in "".join(Page(out / "index.html").text)


def test_an_ids_subset_follows_its_list(account, tmp_path):
    client, env, dest, _ = account
    chosen = [r["id"] for r in catalog_rows(dest, "SELECT id FROM photos WHERE sha256 IS NOT NULL ORDER BY id "
                                                  "LIMIT 3")]
    listed = tmp_path / "ids.txt"
    listed.write_text("# picked\n" + "\n".join(chosen) + "\n")
    out = tmp_path / "picked"
    assert gallery(env, dest, "--ids", listed, "--out", out)["items"] == 3
    listed.write_text("\n".join(chosen[:2]) + "\n")
    report = gallery(env, dest, "--ids", listed, "--out", out)
    assert report["items"] == 2 and report["removed"] >= 1
    assert {p.stem for p in (out / "site/photos").glob("*.html")} == set(chosen[:2])
    assert {p.stem for p in (out / "originals").iterdir()} == set(chosen[:2])


@pytest.mark.parametrize("case", ["no out", "out in dest", "out not empty", "bad id", "no catalog"])
def test_what_cannot_be_built_is_one_line_and_exit_2(account, tmp_path, case):
    client, env, dest, _ = account
    listed = tmp_path / "ids.txt"
    listed.write_text("123\n../etc\n")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("my own file")
    empty = tmp_path / "empty"
    empty.mkdir()
    args = {"no out": [dest, "--only", "public"],
            "out in dest": [dest, "--only", "public", "--out", dest / "public"],
            "out not empty": [dest, "--only", "public", "--out", busy],
            "bad id": [dest, "--ids", listed, "--out", tmp_path / "x"],
            "no catalog": [empty]}[case]
    done = exodus(["gallery", *map(str, args)], env)
    assert done.returncode == 2, done.stderr
    line = one_line(done)
    assert {"no out": "--out", "out in dest": "outside", "out not empty": "other files", "bad id": "line 2",
            "no catalog": "no exodus backup"}[case] in line
    assert (busy / "mine.txt").read_text() == "my own file" and not (dest / "public").exists()
    assert not (dest / "index.html").exists() or case != "no out"


def test_a_read_only_dest_refuses_the_full_gallery_but_gives_a_subset(account, tmp_path):
    client, env, dest, _ = account
    copy = tmp_path / "dest"
    shutil.copytree(dest, copy, symlinks=True)
    (copy / ".exodus.lock").unlink(missing_ok=True)
    with read_only_view(copy, tmp_path / "ro") as view:
        done = exodus(["gallery", str(view)], env)
        assert done.returncode == 2 and "read-only" in one_line(done)
        assert not (view / "index.html").exists()
        report = gallery(env, view, "--only", "public", "--out", tmp_path / "public")
        assert report["items"] > 0 and (tmp_path / "public/index.html").is_file()


def test_the_sanitiser_keeps_links_and_emphasis_only():
    assert clean('<b>x</b><script>alert(1)</script><a href="https://a.example/?q=1&amp;r=2">l</a>') == (
        '<b>x</b><a href="https://a.example/?q=1&amp;r=2" rel="nofollow noopener">l</a>')
    assert clean('<a href="javascript:alert(1)">t</a><img src=x onerror=alert(1)>') == "t"
    assert clean("<i>open <u>never closed") == "<i>open <u>never closed</u></i>"
    assert clean("a < b & </p> c\nd") == "a &lt; b &amp;  c<br>\nd"
    assert clean('<p style="x" class="y">p</p><blockquote>q</blockquote>') == "<p>p</p><blockquote>q</blockquote>"
    assert clean("<style>body{}</style><!-- c -->ok") == "ok"


def test_templates_show_flickrs_html_only_through_the_allowlist():
    templates = Path(clean.__module__.replace(".", "/")).parent / "templates"
    root = Path(__file__).resolve().parents[1]
    texts = {p.name: p.read_text() for p in (root / templates).glob("*.html")}
    assert texts and not [name for name, text in texts.items() if "|safe" in text or "autoescape false" in text]
    assert plain('a <b>bold</b> <script>x()</script>word &amp; more') == "a bold word & more"


def test_an_installed_wheel_holds_every_file_the_gallery_reads():
    """package-data (what setuptools puts beside the modules) covers every template, style
    and script: an exodus installed from a wheel builds the same pages."""
    import tomllib

    from flickr_exodus.gallery import pages, search

    root = Path(__file__).resolve().parents[1]
    package = root / "flickr_exodus/gallery"
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "flickr_exodus.gallery"]
    # setuptools globs each pattern in the package's folder ('*' never crosses a '/')
    shipped = {p.relative_to(package).as_posix() for pattern in patterns for p in package.glob(pattern)}
    read = {p.relative_to(package).as_posix() for folder in (pages.TEMPLATES, pages.STATIC)
            for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    read |= {f"static/{name}" for name in search.STATIC}
    assert len(read) >= 15 and read <= shipped, sorted(read - shipped)
