"""How fast is the sandbox? It must never be the bottleneck when we measure the client.

Targets (issue: the sandbox): >= 1,000 small API calls/s and >= 200 MB/s of originals on
loopback, on this 2-core machine. The sandbox runs as its own process (`exodus sandbox`);
this script is the load. Signed calls are signed before the clock starts, so the figure is
the sandbox's, not the client's HMAC.

    .venv/bin/python benchmarks/sandbox.py [--quick]

Writes benchmarks/results/sandbox.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import requests
from requests_oauthlib import OAuth1

from common import for_run, run_stamp, save_scenario

RESULTS = Path(__file__).parent / "results" / "sandbox.json"


def start_sandbox(*args: str) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen([sys.executable, "-m", "flickr_exodus", "sandbox", "--port", "0", *args],
                            stdout=subprocess.PIPE, text=True)
    return proc, json.loads(proc.stdout.readline())


async def fire(requests_: list[tuple[str, str, dict, bytes | None]], concurrency: int) -> float:
    """Send every (method, url, headers, body); return elapsed seconds. All must be 200."""
    queue = list(reversed(requests_))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker():
            while queue:
                method, url, headers, body = queue.pop()
                async with session.request(method, url, headers=headers, data=body) as answer:
                    await answer.read()
                    assert answer.status == 200, answer.status
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def rest_url(info: dict) -> str:
    return f"{info['api_base']}/services/rest/"


def unsigned_calls(info: dict, n: int) -> list:
    url = rest_url(info) + f"?method=flickr.test.echo&api_key={info['api_key']}&format=json&nojsoncallback=1"
    return [("GET", url, {}, None)] * n


def signed(info: dict, params: dict) -> tuple[str, str, dict, bytes]:
    auth = OAuth1(info["api_key"], info["api_secret"], info["oauth_token"], info["oauth_token_secret"])
    prepared = auth(requests.Request("POST", rest_url(info), data=params).prepare())
    body = prepared.body if isinstance(prepared.body, bytes) else prepared.body.encode()
    headers = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in prepared.headers.items()}
    return "POST", rest_url(info), headers, body


def bench_api(quick: bool) -> dict:
    proc, info = start_sandbox("--photos", "2000" if quick else "5000", "--videos", "50", "--albums", "20",
                               "--media-size", "3000-6000")
    try:
        n_small = 1500 if quick else 5000
        asyncio.run(fire(unsigned_calls(info, 200), 16))  # warm up
        unsigned_s = asyncio.run(fire(unsigned_calls(info, n_small), 16))
        login = [signed(info, {"method": "flickr.test.login", "format": "json", "nojsoncallback": "1"})
                 for _ in range(n_small)]
        signed_s = asyncio.run(fire(login, 16))
        pages = (4 if quick else 10)
        extras = ("description,license,date_upload,date_taken,owner_name,icon_server,original_format,"
                  "last_update,geo,tags,machine_tags,o_dims,views,media,path_alias,url_sq,url_t,url_s,"
                  "url_q,url_m,url_n,url_z,url_c,url_l,url_o,count_comments")
        page_calls = [signed(info, {"method": "flickr.people.getPhotos", "user_id": "me", "per_page": "500",
                                    "page": str(1 + i % 4), "extras": extras, "safe_search": "3",
                                    "format": "json", "nojsoncallback": "1"}) for i in range(pages * 4)]
        pages_s = asyncio.run(fire(page_calls, 4))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {
        "small_calls_per_s": round(n_small / unsigned_s),
        "signed_small_calls_per_s": round(n_small / signed_s),
        "pages_500_per_s": round(len(page_calls) / pages_s, 1),
        "photos_listed_per_s": round(500 * len(page_calls) / pages_s),
        "calls_measured": n_small,
    }


def bench_cdn(quick: bool) -> dict:
    count = 24 if quick else 48
    proc, info = start_sandbox("--photos", str(count), "--videos", "0", "--albums", "1",
                               "--media-size", "8000000")
    try:
        answer = requests.post(rest_url(info), timeout=60, data={
            "method": "flickr.people.getPhotos", "user_id": "me", "per_page": "500", "extras": "url_o",
            "safe_search": "3", "format": "json", "nojsoncallback": "1"},
            auth=OAuth1(info["api_key"], info["api_secret"], info["oauth_token"], info["oauth_token_secret"]))
        urls = [p["url_o"] for p in answer.json()["photos"]["photo"]]
        stats_before = requests.get(f"{info['api_base']}/__sandbox__/stats", timeout=30).json()["bytes_served"]
        elapsed = asyncio.run(fire([("GET", u, {}, None) for u in urls], 4))
        served = requests.get(f"{info['api_base']}/__sandbox__/stats", timeout=30).json()["bytes_served"] - stats_before
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"originals": len(urls), "bytes": served, "mb_per_s": round(served / elapsed / 1e6, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke check)")
    args = parser.parse_args()
    stamp = run_stamp(args.quick)
    api = bench_api(args.quick)
    cdn = bench_cdn(args.quick)
    scenarios = {
        "api_small_calls": {**api, "target": ">= 1000 small calls/s",
                            "met": min(api["small_calls_per_s"], api["signed_small_calls_per_s"]) >= 1000},
        "cdn_originals": {**cdn, "target": ">= 200 MB/s", "met": cdn["mb_per_s"] >= 200},
    }
    target = for_run(RESULTS, args.quick)
    for name, figures in scenarios.items():
        save_scenario(target, name, figures, stamp)
    for name, figures in scenarios.items():
        print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    print(f"wrote {target}; rerun alone with: .venv/bin/python benchmarks/sandbox.py")
    sys.exit(0 if all(s["met"] for s in scenarios.values()) else 1)


if __name__ == "__main__":
    main()
