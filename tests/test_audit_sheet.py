"""The audit's contact sheet (flickr_exodus/audit/sheet.py) in a real browser.

A real sandbox backup (one of its titles made hostile on Flickr and backed up again), a report
document in the shape `exodus audit --json` prints made from its catalog rows (public items under
a Creative-Commons licence "high" with their reasons, a few face boxes chosen here, two items
"exposed"; hostile paths, a hostile reason and a hostile URL among them), the sheet written into
DEST and opened from file:// in Debian's Chromium (tests/browser.py): no failed request and no
console error, every thumbnail decoded, hostile text shown as text, face boxes where the report
puts them at any width, filters, and the saved selection equal to the boxes ticked. Then the
gallery and the sheet built over each other, each still whole; 10,000 items; bad reports.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from PIL import Image, ImageOps

from browser import artifacts, browser, gallery_page, shot  # noqa: F401 (fixtures by name)
from conftest import backed_up, catalog_rows, exodus
from test_gallery_browser import settle, until
from flickr_exodus.audit import sheet
from flickr_exodus.catalog.canned import CREATIVE_COMMONS
from flickr_exodus.dest import UsageProblem
from flickr_exodus.gallery.pages import CSP
from flickr_exodus.layout.companions import POSTER
from flickr_exodus.push.mirror import gallery as pushed_gallery_files
from flickr_exodus.sandbox import SandboxConfig

ACCOUNT = dict(photos=30, videos=2, albums=2, seed=23, video_access="oauth",
               media_size=(6_000, 20_000), video_size=(30_000, 50_000))
HOSTILE_TITLE = '<img src=x onerror="window.pwned=1">'
HOSTILE_REASON = '<script>window.pwned=2</script>"Anna" named in the title'
HOSTILE_URL = "javascript:window.pwned=3"
LEVELS = ("exposed", "high", "medium", "low")


@pytest.fixture(scope="module")
def account(tmp_path_factory):
    """A backup of a sandbox account, one public title made hostile on Flickr and backed up again;
    and a folder outside DEST that a link inside it leads to."""
    home = tmp_path_factory.mktemp("sheet")
    with backed_up(home, SandboxConfig(**ACCOUNT)) as (client, env, dest):
        first = catalog_rows(dest, "SELECT id FROM photos WHERE is_public = 1 AND media = 'photo' "
                                   "AND sha256 IS NOT NULL ORDER BY id LIMIT 1")[0]["id"]
        client.control("edit", id=first, title=HOSTILE_TITLE)
        done = exodus(["backup", str(dest)], env)
        assert done.returncode == 0, done.stderr
        outside = home / "outside"
        outside.mkdir()
        a_photo = catalog_rows(dest, "SELECT path FROM photos WHERE path LIKE '%.jpg' LIMIT 1")[0]["path"]
        shutil.copyfile(dest / a_photo, outside / "elsewhere.jpg")
        (dest / "elsewhere").symlink_to(outside, target_is_directory=True)
        yield SimpleNamespace(client=client, env=env, dest=dest, titled=first)


def shown_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).size


def leaving(planted: dict) -> set[str]:
    return {planted["dotdot"], planted["absolute"], planted["outside"]}


def make_report(dest: Path) -> tuple[dict, dict]:
    """The report document for DEST's catalog, and what the test planted in it."""
    rows = catalog_rows(dest, "SELECT id, title, media, is_public, license, rotation, path, sha256 FROM photos "
                              "ORDER BY id")
    saved = [r for r in rows if r["sha256"] and r["media"] == "photo"]
    high = [r["id"] for r in saved if r["is_public"] == 1 and r["license"] in CREATIVE_COMMONS]
    faced = [pid for pid in high if next(r for r in rows if r["id"] == pid)["rotation"] == 0][:3]
    exposed = [r["id"] for r in saved if r["id"] not in high][:2]
    private = [r["id"] for r in saved if r["is_public"] == 0 and r["id"] not in exposed]
    planted = {"faced": faced, "exposed": exposed, "dotdot": private[0], "absolute": private[1],
               "outside": private[2], "hostile_url": faced[0], "hostile_reason": high[-1]}
    paths = {planted["dotdot"]: "../../../etc/passwd",
             planted["absolute"]: str(dest / next(r["path"] for r in rows if r["id"] == private[1])),
             planted["outside"]: "elsewhere/elsewhere.jpg"}
    items = []
    for row in rows:
        pid = row["id"]
        reasons, item = [], {"id": pid, "title": row["title"], "media": row["media"], "faces": None,
                             "width": None, "height": None, "path": paths.get(pid, row["path"]),
                             "url": f"https://www.flickr.com/photos/someone/{pid}/"}
        if pid in exposed:
            reasons.append({"code": "dataset", "text": "in YFCC100M (yfcc100m_dataset.bz2, line 12)"})
        if row["is_public"] == 1:
            reasons.append({"code": "public", "text": "public: anyone can see it"})
        if row["license"] in CREATIVE_COMMONS:
            reasons.append({"code": "licence", "text": f"licence {row['license']} permits reuse"})
        if pid in faced:
            width, height = shown_size(dest / row["path"])
            boxes = [[width // 10, height // 5, width // 4, height // 3]]
            if pid == faced[0]:
                boxes.append([width * 6 // 10, height // 2, width // 3, height])  # past the bottom edge: cut
            item.update(faces=boxes, width=width, height=height)
            reasons.append({"code": "faces", "text": f"{len(boxes)} face(s), the largest a third of the picture"})
        if pid == planted["hostile_reason"]:
            reasons.append({"code": "words", "text": HOSTILE_REASON})
        if pid == planted["hostile_url"]:
            item["url"] = HOSTILE_URL
        risk = ("exposed" if pid in exposed else "high" if pid in high else
                "medium" if row["is_public"] == 1 else "low")
        items.append({**item, "risk": risk, "reasons": reasons})
    items.sort(key=lambda item: (LEVELS.index(item["risk"]), item["id"]))
    counts = {level: sum(item["risk"] == level for item in items) for level in LEVELS}
    assert all(counts.values()) and len(faced) == 3, counts  # the seed gives every level
    report = {"ok": True, "dest": str(dest), "faces_checked": True, "faces_note": None, "detector": "test-boxes@0",
              "datasets": [{"file": "yfcc100m_dataset.bz2", "dataset": "YFCC100M", "compression": "bz2", "rows": 40}],
              "problems": [], "counts": counts, "items": items, "html": None}
    return report, planted


@pytest.fixture(scope="module")
def written(account):
    report, planted = make_report(account.dest)
    page = sheet.write(account.dest, report)
    return SimpleNamespace(report=report, planted=planted, page=page, **vars(account))


def open_sheet(gallery_page, page_path: Path):
    watched = gallery_page()
    watched.page.goto(page_path.as_uri())
    until(watched.page, "document.querySelectorAll('li.card').length > 0")
    return watched


def card_ids(page, selector: str = "li.card") -> list[str]:
    return page.eval_on_selector_all(selector, "cards => cards.filter(c => c.offsetParent !== null)"
                                               ".map(c => c.dataset.id)")


def with_file(dest: Path, report: dict, left_out=frozenset()) -> set[str]:
    """The items a thumbnail is expected for: a photo with its file, or a video with its poster;
    those `left_out` (the planted paths that leave DEST) aside."""
    found = set()
    for item in report["items"]:
        if not item["path"] or item["id"] in left_out:
            continue
        still = item["path"] if item["media"] == "photo" else item["path"] + POSTER
        if (dest / still).is_file():
            found.add(item["id"])
    return found


# -- the sheet in Chromium -----------------------------------------------------------------------

def test_the_sheet_opens_clean_with_every_thumbnail_and_runs_nothing_hostile(written, gallery_page, request):
    watched = open_sheet(gallery_page, written.page)
    page = watched.page
    widths = settle(page)
    expected = with_file(written.dest, written.report, leaving(written.planted))
    assert len(widths) == len(expected) and all(width > 0 for width in widths), widths
    assert set(card_ids(page, "li.card:has(img)")) == expected
    assert card_ids(page) == [item["id"] for item in written.report["items"]]  # grouped, riskiest first
    for level in LEVELS:
        assert page.locator(f"#count-{level}").inner_text() == f"({written.report['counts'][level]})"
    assert page.locator(f'li.card[data-id="{written.titled}"] .title span').inner_text() == HOSTILE_TITLE
    reason = page.locator(f'li.card[data-id="{written.planted["hostile_reason"]}"] .reasons li[data-code=words]')
    assert reason.inner_text() == HOSTILE_REASON
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content") == CSP  # the gallery's
    assert not watched.problems(), watched.problems()
    shot(page, artifacts(request), "sheet")


def test_paths_that_leave_dest_and_foreign_urls_are_not_linked(written, gallery_page):
    watched = open_sheet(gallery_page, written.page)
    page = watched.page
    links = page.eval_on_selector_all("[href], [src]", "found => found.map(e => e.getAttribute('href') || "
                                                         "e.getAttribute('src'))")
    assert links and not [link for link in links if "passwd" in link or "elsewhere" in link or
                          link.startswith(("/", "javascript:", "file:"))], links
    for key in ("dotdot", "absolute", "outside"):
        card = page.locator(f'li.card[data-id="{written.planted[key]}"]')
        assert card.locator("img").count() == 0 and card.locator("a").count() == 1  # its Flickr page alone
    on_flickr = page.locator(f'li.card[data-id="{written.planted["hostile_url"]}"] a', has_text="on Flickr")
    assert on_flickr.count() == 0
    data = (written.dest / sheet.DATA).read_text(encoding="ascii")
    assert "passwd" not in data and "elsewhere" not in data and "javascript" not in data and "<" not in data


def box_of(page, selector: str) -> dict:
    return page.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect(); "
                                           "return {x: r.x, y: r.y, w: r.width, h: r.height}; }")


@pytest.mark.parametrize("width", [1280, 520])
def test_face_boxes_are_drawn_where_the_report_puts_them_at_any_width(written, gallery_page, width):
    watched = open_sheet(gallery_page, written.page)
    page = watched.page
    page.set_viewport_size({"width": width, "height": 900})
    settle(page)
    items = {item["id"]: item for item in written.report["items"]}
    drawn = 0
    for pid in written.planted["faced"]:
        item = items[pid]
        picture = box_of(page, f'li.card[data-id="{pid}"] img')
        faces = page.locator(f'li.card[data-id="{pid}"] .face')
        assert faces.count() == len(item["faces"])
        scale = picture["w"] / item["width"]
        for n, (x, y, w, h) in enumerate(item["faces"]):
            face = box_of(page, f'li.card[data-id="{pid}"] .face >> nth={n}')
            bottom = min(y + h, item["height"])  # a box past the edge is cut there
            assert abs(face["x"] - (picture["x"] + x * scale)) < 2.5, (pid, n, face, picture)
            assert abs(face["y"] - (picture["y"] + y * scale)) < 2.5, (pid, n, face, picture)
            assert abs(face["w"] - w * scale) < 2.5 and abs(face["h"] - (bottom - y) * scale) < 2.5, (face, picture)
            drawn += 1
    assert drawn == 4 and page.locator(".face").count() == 4
    assert not watched.problems(), watched.problems()


def risk(page, level: str):
    return page.locator(f"#risk-filter input[value={level}]")


def test_filters_by_risk_and_by_reason_hide_what_they_should(written, gallery_page):
    watched = open_sheet(gallery_page, written.page)
    page = watched.page
    items = written.report["items"]
    risk(page, "low").uncheck()
    assert card_ids(page) == [item["id"] for item in items if item["risk"] != "low"]
    assert page.locator("#risk-low").is_hidden()
    page.select_option("#reason-filter", "faces")
    assert card_ids(page) == written.planted["faced"]
    page.select_option("#reason-filter", "dataset")
    assert card_ids(page) == written.planted["exposed"]
    risk(page, "exposed").uncheck()
    assert card_ids(page) == [] and page.locator("section.group:visible").count() == 0
    risk(page, "low").check()
    risk(page, "exposed").check()
    page.select_option("#reason-filter", "")
    assert card_ids(page) == [item["id"] for item in items]
    assert not watched.problems(), watched.problems()


def save(page) -> tuple[str, list[str]]:
    with page.expect_download() as download:
        page.click("#save-selection")
    got = download.value
    return got.suggested_filename, Path(got.path()).read_text(encoding="utf-8").splitlines()


def test_the_saved_selection_is_the_boxes_ticked(written, gallery_page):
    watched = open_sheet(gallery_page, written.page)
    page = watched.page
    order = [item["id"] for item in written.report["items"]]
    first, second, third, fourth = order[1], order[4], order[7], order[-1]
    for pid in (third, first, fourth):
        page.click(f'li.card[data-id="{pid}"] input.pick')
    page.focus(f'li.card[data-id="{second}"] input.pick')  # by keyboard: Tab reaches it, Space ticks it
    page.keyboard.press("Space")
    page.click(f'li.card[data-id="{fourth}"] input.pick')  # ticked, then not
    assert page.locator("#picked").inner_text() == "3 selected"
    name, lines = save(page)
    assert name == "exodus-selection.txt" and lines == [first, second, third]  # the report's order
    page.click("#clear-selection")
    page.select_option("#reason-filter", "faces")
    page.click("#select-shown")
    page.select_option("#reason-filter", "")  # the selection stays when the filter changes
    assert page.locator("input.pick:checked").count() == 3
    assert sorted(save(page)[1]) == sorted(written.planted["faced"])
    assert not watched.problems(), watched.problems()


def test_the_sheet_of_exodus_audit_itself_opens_clean(written, gallery_page, tmp_path):
    dest = tmp_path / "dest"
    shutil.copytree(written.dest, dest, symlinks=True)
    (dest / ".exodus.lock").unlink(missing_ok=True)
    done = exodus(["audit", str(dest), "--html", "--no-faces", "--json"], written.env)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    assert report["html"] == str(dest / sheet.PAGE)
    watched = open_sheet(gallery_page, dest / sheet.PAGE)
    assert all(width > 0 for width in settle(watched.page))
    assert card_ids(watched.page) == [item["id"] for item in report["items"]]
    assert set(card_ids(watched.page, "li.card:has(img)")) == with_file(dest, report)
    for level, count in report["counts"].items():
        assert watched.page.locator(f"#count-{level}").inner_text() == f"({count})"
    assert watched.page.evaluate("typeof window.pwned") == "undefined"
    assert not watched.problems(), watched.problems()


# -- the gallery and the sheet over each other -----------------------------------------------------

def snapshot(root: Path, relatives) -> dict[str, tuple[str, int]]:
    return {r: (hashlib.sha256((root / r).read_bytes()).hexdigest(), os.stat(root / r).st_mtime_ns) for r in relatives}


def sheet_files(dest: Path) -> list[str]:
    return [sheet.PAGE, *sorted(p.relative_to(dest).as_posix() for p in (dest / sheet.FOLDER).iterdir())]


def gallery_files(dest: Path) -> list[str]:
    site = [p.relative_to(dest).as_posix() for p in (dest / "site").rglob("*") if p.is_file()]
    return ["index.html", "README.txt", *sorted(r for r in site if not r.startswith(sheet.FOLDER + "/"))]


def test_the_gallery_and_the_sheet_built_over_each_other_both_still_work(written, gallery_page, tmp_path):
    dest = tmp_path / "dest"
    shutil.copytree(written.dest, dest, symlinks=True)
    (dest / ".exodus.lock").unlink(missing_ok=True)
    report = {**written.report, "dest": str(dest)}
    sheet.write(dest, report)
    mine = snapshot(dest, sheet_files(dest))
    built = exodus(["gallery", str(dest), "--jobs", "1"], written.env)  # the gallery after the sheet
    assert built.returncode == 0, built.stderr
    assert snapshot(dest, sheet_files(dest)) == mine
    theirs = snapshot(dest, gallery_files(dest))
    sheet.write(dest, report)  # the sheet after the gallery: now on the gallery's thumbnails
    assert snapshot(dest, gallery_files(dest)) == theirs
    assert "site/img/" in (dest / sheet.DATA).read_text(encoding="ascii")
    mine = snapshot(dest, sheet_files(dest))
    written.client.control("edit", id=written.planted["faced"][1], title="Renamed while the sheet sat there")
    again = exodus(["backup", str(dest)], written.env)  # brings the gallery up to date
    assert again.returncode == 0 and "Warning" not in again.stderr, again.stderr
    renamed = dest / "site/photos" / f"{written.planted['faced'][1]}.html"
    assert "Renamed while the sheet sat there" in renamed.read_text(encoding="utf-8")
    assert snapshot(dest, sheet_files(dest)) == mine
    assert set(sheet_files(dest)) <= set(pushed_gallery_files(dest))  # `exodus push` carries it

    for start in ("index.html", sheet.PAGE):
        watched = gallery_page()
        watched.page.goto((dest / start).as_uri())
        widths = settle(watched.page)
        assert widths and all(width > 0 for width in widths), start
        assert not watched.problems(), (start, watched.problems())
    sources = watched.page.eval_on_selector_all("li.card img", "imgs => imgs.map(i => i.getAttribute('src'))")
    assert sources and all(src.startswith("site/img/") for src in sources), sources
    assert watched.page.locator(".face").count() == 4  # renditions of unturned pictures keep their boxes

    gone = written.planted["faced"][2]  # a rendition the gallery has replaced since: the original instead
    next((dest / "site/img" / gone).glob("*-320.jpg")).unlink()
    watched = gallery_page()
    watched.page.goto((dest / sheet.PAGE).as_uri())
    until(watched.page, f"document.querySelector('li.card[data-id=\"{gone}\"] img').naturalWidth > 0")
    original = next(item["path"] for item in report["items"] if item["id"] == gone)
    assert watched.page.get_attribute(f'li.card[data-id="{gone}"] img', "src") == quote(original, safe="/")


# -- 10,000 items --------------------------------------------------------------------------------

def test_ten_thousand_items_open_a_page_at_a_time_and_all_can_be_saved(written, gallery_page, tmp_path):
    dest = tmp_path / "big"
    shutil.copytree(written.dest, dest, symlinks=True)
    real = [item for item in written.report["items"] if item["id"] in with_file(dest, written.report,
                                                                                   leaving(written.planted))]
    items = []
    for n in range(10_000):
        like = real[n % len(real)]
        items.append({**like, "id": str(50_000_000_000 + n), "risk": LEVELS[min(3, n // 2500)],
                      "title": f"{like['title'][:40]} #{n}"})
    report = {**written.report, "items": items, "counts": {level: 2500 for level in LEVELS}}
    started = time.monotonic()
    page_path = sheet.write(dest, report)
    wrote = time.monotonic() - started
    watched = open_sheet(gallery_page, page_path)
    page = watched.page
    opened = time.monotonic() - started - wrote
    rendered = page.locator("li.card").count()
    assert 0 < rendered < 2_000, rendered  # a page of each group, not 10,000 cards
    page.click("#more-exposed")
    assert page.locator("#risk-exposed li.card").count() > rendered // 4
    page.click("#select-shown")
    assert page.locator("#picked").inner_text() == "10000 selected"
    _, lines = save(page)
    assert lines == [item["id"] for item in items]
    risk(page, "high").uncheck()
    page.click("#clear-selection")
    page.click("#select-shown")
    assert page.locator("#picked").inner_text() == "7500 selected"
    assert set(save(page)[1]) == {item["id"] for item in items if item["risk"] != "high"}
    assert not watched.problems(), watched.problems()
    print(f"10,000 items: written in {wrote:.1f} s ({(dest / sheet.DATA).stat().st_size:,} bytes of data), "
          f"opened in {opened:.1f} s with {rendered} cards rendered at first")


# -- bad input -----------------------------------------------------------------------------------

def spoiled(report: dict, how) -> dict:
    copy = json.loads(json.dumps(report))
    how(copy)
    return copy


BAD = {
    "items that are text": lambda r: r.update(items="photos"),
    "no items": lambda r: r.pop("items"),
    "an id that is a path": lambda r: r["items"][0].update(id="../1"),
    "an unknown risk": lambda r: r["items"][1].update(risk="severe"),
    "reasons not a list": lambda r: r["items"][2].update(reasons="public"),
    "a reason without a code": lambda r: r["items"][2]["reasons"].append({"text": "x"}),
    "a face box of three numbers": lambda r: next(i for i in r["items"] if i["faces"])["faces"].append([1, 2, 3]),
    "a face box of true": lambda r: next(i for i in r["items"] if i["faces"])["faces"].append([True, 2, 3, 4]),
    "faces without a size": lambda r: next(i for i in r["items"] if i["faces"]).update(width=None),
    "a title that is a number": lambda r: r["items"][3].update(title=7),
    "an id listed twice": lambda r: r["items"].append(dict(r["items"][0])),
    "faces_checked missing": lambda r: r.pop("faces_checked"),
    "a problem that is not text": lambda r: r["problems"].append({"x": 1}),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_report_of_another_shape_is_one_clear_line_and_nothing_is_written(written, tmp_path, case):
    dest = tmp_path / "dest"
    dest.mkdir()
    sheet.write(dest, written.report)  # the unspoiled report is fine
    before = snapshot(dest, sheet_files(dest))
    with pytest.raises(ValueError) as raised:
        sheet.write(dest, spoiled(written.report, BAD[case]))
    message = str(raised.value)
    assert message.startswith("the audit report cannot be shown: ") and "\n" not in message, message
    assert snapshot(dest, sheet_files(dest)) == before


def test_a_report_that_is_no_object_or_holds_nan_is_refused(written, tmp_path):
    with pytest.raises(ValueError, match="^the audit report cannot be shown: the report is not an object$"):
        sheet.write(tmp_path, ["items"])
    report = spoiled(written.report, lambda r: None)
    next(i for i in report["items"] if i["faces"])["faces"][0][0] = float("nan")
    with pytest.raises(ValueError, match=r"faces\[0\] is not a box"):
        sheet.write(tmp_path, report)
    assert not (tmp_path / sheet.PAGE).exists()


def test_an_audit_html_exodus_did_not_make_is_never_replaced(written, tmp_path):
    page = tmp_path / sheet.PAGE
    page.write_text("<p>my own audit notes</p>\n", encoding="utf-8")
    with pytest.raises(UsageProblem, match="was not made by exodus"):
        sheet.write(tmp_path, written.report)
    assert page.read_text(encoding="utf-8") == "<p>my own audit notes</p>\n"
    assert not (tmp_path / "site").exists()


def test_the_sheets_folder_holds_only_what_the_sheet_wrote(written, tmp_path):
    sheet.write(tmp_path, written.report)
    (tmp_path / sheet.FOLDER / "old.js").write_text("stale", encoding="utf-8")
    (tmp_path / sheet.FOLDER / "data.js.tmp").write_text("half", encoding="utf-8")
    (tmp_path / f"{sheet.PAGE}.tmp").write_text("half", encoding="utf-8")
    (tmp_path / "site" / "mine.txt").write_text("a user's", encoding="utf-8")
    sheet.write(tmp_path, written.report)
    assert sorted(p.name for p in (tmp_path / sheet.FOLDER).iterdir()) == ["data.js", "sheet.css", "sheet.js"]
    assert not (tmp_path / f"{sheet.PAGE}.tmp").exists()
    assert (tmp_path / "site" / "mine.txt").read_text(encoding="utf-8") == "a user's"


def test_a_dataset_file_named_in_bytes_that_are_not_utf8_is_shown_not_fatal(written, tmp_path):
    name = os.fsdecode(b"yfcc-\xff.tsv")  # as Python hands a Linux file name of such bytes
    report = {**written.report, "datasets": [{"file": name, "dataset": "YFCC100M", "rows": 3}],
              "problems": [f"{name}: line 2 is not a YFCC100M row"]}
    page = sheet.write(tmp_path, report).read_text(encoding="utf-8")
    assert "yfcc-?.tsv" in page and "line 2 is not a YFCC100M row" in page
