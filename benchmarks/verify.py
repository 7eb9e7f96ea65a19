"""What `exodus verify` costs: hashing throughput against `sha256sum` over the same files
in the same run (page cache warm for both), and the API calls of the remote check.

    .venv/bin/python benchmarks/verify.py [--only hashing|remote] [--quick]

Writes benchmarks/results/verify.json. Targets (issue 5): verify --jobs 2 reaches
>= 0.8x sha256sum's throughput; --remote costs ceil(P/500) listing calls plus a handful.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from backup import EXODUS, backed_up, backup, exodus_env, start_sandbox, stats, timed
from common import run_plan

RESULTS = Path(__file__).parent / "results" / "verify.json"


def hashing(home: Path, files: int) -> dict:
    dest = backed_up(home, "hash", "--photos", str(files), "--videos", "0", "--albums", "2",
                     "--media-size", "4000000-12000000", "--seed", "12")
    paths = sorted(str(p) for p in (dest / "photos").rglob("*") if p.is_file() and p.suffix not in (".json", ".xmp"))
    total = sum(os.path.getsize(p) for p in paths)
    subprocess.run(["cat", *paths], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    runs: dict[str, list[float]] = {"sha256sum": [], "jobs_1": [], "jobs_2": []}
    for _ in range(2):  # interleaved, so that the machine's mood hits all alike
        runs["sha256sum"].append(timed(["sha256sum", *paths])[0])
        for jobs in (1, 2):
            seconds, out, _ = timed([*EXODUS, "verify", str(dest), "--json", "--jobs", str(jobs)])
            assert json.loads(out)["ok"], out[:500]
            runs[f"jobs_{jobs}"].append(seconds)
    rate = {name: round(total / min(times) / 1e6, 1) for name, times in runs.items()}
    ratio = round(rate["jobs_2"] / rate["sha256sum"], 3)
    return {"files": len(paths), "bytes": total, "mb_per_s": rate,
            "seconds": {k: [round(t, 2) for t in v] for k, v in runs.items()},
            "jobs_2_over_sha256sum": ratio, "jobs_1_over_sha256sum": round(rate["jobs_1"] / rate["sha256sum"], 3),
            "note": "best of two interleaved runs each; exodus's time includes start-up, the catalog, "
                    "format and pixel-size checks, sidecars and the tree scan",
            "target": "verify --jobs 2 ≥ 0.8× sha256sum", "met": ratio >= 0.8}


def remote(home: Path, items: int) -> dict:
    proc, info = start_sandbox("--photos", str(items), "--videos", "0", "--albums", "20",
                               "--media-size", "1200-1600", "--seed", "13")
    try:
        dest = home / "remote"
        backup(info, dest, home, "--no-deep")
        before = stats(info)["api_calls_total"]
        seconds, out, _ = timed([*EXODUS, "verify", str(dest), "--json", "--remote", "--fast"],
                                exodus_env(info, home))
        calls = stats(info)["api_calls_total"] - before
        report = json.loads(out)
    finally:
        proc.terminate()
        proc.wait()
    listing = math.ceil(items / 500)
    return {"items": items, "api_calls": calls, "listing_calls": listing, "seconds": round(seconds, 1),
            "ok": report["ok"], "target": "calls ≤ ceil(P/500) + ceil(albums/500) + 3",
            "met": report["ok"] and calls <= listing + 1 + 3}


def main() -> None:
    run_plan(__doc__, RESULTS, "verify.py", lambda home, quick: {
        "hashing": lambda: hashing(home, 20 if quick else 150),
        "remote": lambda: remote(home, 500 if quick else 5000),
    })


if __name__ == "__main__":
    sys.exit(main())
