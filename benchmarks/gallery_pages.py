"""What the gallery's pages cost a reader and a rerun: a synthetic 100,000-item backup
(scale.py's build(): the real catalog schema, a tiny PNG per item, 2,000 albums, 500 tags,
comments on a fifth), its gallery built by the real `exodus gallery`, then in headless
Chromium (Debian's, driven by Playwright) from file://:

- the index page's load, by the browser's own navigation timing
  (performance.getEntriesByType('navigation')[0].loadEventEnd): bound < 1 s;
- a search's answer (search.js's run(): the index parts it needs loaded, the hits drawn),
  each query on a fresh page so that nothing of the index is loaded before: bound < 200 ms;
- `exodus gallery` again with nothing changed, at 10,000 items: CPU seconds (user + system,
  of the process and what it waited for): bound ≤ 2 s.

    .venv/bin/python benchmarks/gallery_pages.py [--quick]

--quick: 5,000 items, and the rerun at 5,000 held to its share of the bound (1 s).
Writes scenario "pages" into benchmarks/results/gallery.json (the thumbnails' benchmark,
benchmarks/gallery.py, writes its own scenarios there; each keeps the others).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import bound, judge, run_plan, timed  # noqa: E402
from scale import build as synthetic  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "gallery.json"
CHROMIUM = os.environ.get("EXODUS_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
RERUN_AT = 10_000
LOADS = 5          # index loads: the first (nothing cached) and four more
QUERY_RUNS = 3     # each query, each on a fresh page
# scale.py's account: titles "Item N", tags tag0..tag499, comments "A comment" on every fifth.
# A query's last word is a prefix: "tag42" is tag42 and tag420..tag429.
QUERIES = ["item 4242", "tag42", "comment", "item", "tag7 item", "nothing"]


def timed_gallery(dest: Path) -> dict:
    """`exodus gallery DEST` in a process of its own: wall and CPU seconds (user + system, of the
    process and the workers it waited for), what it rendered and wrote."""
    run = timed([sys.executable, "-m", "flickr_exodus", "gallery", str(dest), "--json", "--quiet"],
                {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    if run.code != 0:
        raise SystemExit("exodus gallery failed")
    report = json.loads(run.out)
    return {"seconds": round(run.seconds, 2), "cpu_seconds": round(run.cpu_seconds, 2),
            "load_at_start": round(run.load_at_start, 1), "rendered": report["rendered"], "written": report["written"]}


def built(home: Path, items: int) -> tuple[Path, dict]:
    dest = home / f"dest-{items}"
    made = synthetic(dest, items)
    first = timed_gallery(dest)
    return dest, {"catalog_seconds": round(made, 1), "first_build": first}


def in_chromium(dest: Path) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            problems: list[str] = []
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda error: problems.append(str(error)))
            # ERR_ABORTED: an image still loading when the next goto() leaves the page; not a fault
            page.on("requestfailed", lambda request: "ERR_ABORTED" not in (request.failure or "")
                    and problems.append(f"{request.url} {request.failure}"))
            loads = []
            for _ in range(LOADS):
                page.goto((dest / "index.html").as_uri())
                page.wait_for_load_state("load")
                page.wait_for_function("performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
                loads.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
            answers: dict[str, dict] = {}
            for query in QUERIES:
                times, hits = [], None
                for _ in range(QUERY_RUNS):
                    page.goto((dest / "site/search.html").as_uri())  # fresh: nothing of the index loaded
                    found = page.evaluate("""async q => { await exodusSearch.run(q);
                        return [exodusSearch.lastMs, document.querySelectorAll('#search-results li').length,
                                document.getElementById('search-status').textContent]; }""", query)
                    times.append(found[0])
                    hits = found[2]
                answers[query] = {"ms": [round(t, 1) for t in times], "median_ms": round(statistics.median(times), 1),
                                  "status": hits}
            version = browser.version
        finally:
            browser.close()
    return {"index_load_ms": [round(t, 1) for t in loads], "index_load_first_ms": round(loads[0], 1),
            "index_load_median_ms": round(statistics.median(loads), 1), "search": answers,
            "search_slowest_median_ms": max(a["median_ms"] for a in answers.values()), "chromium": version,
            "problems": problems[:10]}


def pages(home: Path, items: int, rerun_at: int) -> dict:
    dest, made = built(home, items)
    browsing = in_chromium(dest)
    if rerun_at != items:
        dest, _ = built(home, rerun_at)
    reruns = [timed_gallery(dest) for _ in range(3)]
    rerun_cpu = min(r["cpu_seconds"] for r in reruns)
    rerun_bound = 2.0 * rerun_at / RERUN_AT
    figures = {"items": items, **made, **browsing, "rerun_items": rerun_at, "reruns": reruns,
               "rerun_cpu_seconds": rerun_cpu, "problem_count": len(browsing["problems"])}
    bounds = judge(figures, [
        bound(f"index page load at {items:,} items, median ms", "index_load_median_ms", "<", 1000),
        bound("slowest search's median, ms", "search_slowest_median_ms", "<", 200),
        bound(f"rerun with nothing changed at {rerun_at:,} items, CPU s", "rerun_cpu_seconds", "<=", rerun_bound),
        bound("page errors and failed requests", "problem_count", "<=", 0)])
    return {**figures, "bounds": bounds, "met": all(b["met"] for b in bounds),
            "note": "index load: navigation timing's loadEventEnd, first load and four more (median judged); "
                    "search: search.js's own clock around run() (index parts loaded, hits drawn), each query "
                    "on a fresh page, median of 3; rerun: `exodus gallery` with nothing changed, best CPU "
                    "seconds (user + system) of 3, load average at its start beside it"}


def main() -> None:
    run_plan(__doc__, RESULTS, "gallery_pages.py", lambda home, quick: {
        "pages": lambda: pages(home, 5_000 if quick else 100_000, 5_000 if quick else RERUN_AT),
    })


if __name__ == "__main__":
    main()
