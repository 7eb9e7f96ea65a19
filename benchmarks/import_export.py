"""What `exodus import-export` costs: throughput from zip files on local disk against plain
`unzip` of the same files in the same run, and peak memory for a 4 GB zip.

    .venv/bin/python benchmarks/import_export.py [--only throughput|memory] [--quick]

Writes benchmarks/results/import_export.json. Targets (issue 7): import >= 0.7x unzip's
throughput; memory flat (a 4 GB video streams through, it is never held).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from backup import EXODUS, timed
from common import run_plan

RESULTS = Path(__file__).parent / "results" / "import_export.json"


def make_export(folder: Path, *args: str) -> list[str]:
    done = subprocess.run([*EXODUS, "sandbox", "--export", str(folder), *args], capture_output=True, text=True,
                          check=True)
    written = json.loads(done.stdout)
    return [str(folder / name) for name in written["account"] + written["media"]]


def throughput(home: Path, photos: int) -> dict:
    zips = make_export(home / "export", "--photos", str(photos), "--videos", "0", "--albums", "3",
                       "--media-size", "4000000-12000000", "--seed", "21")
    media = [z for z in zips if "data-download" in z]
    total = sum(os.path.getsize(z) for z in media)
    subprocess.run(["cat", *zips], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    runs: dict[str, list[float]] = {"unzip": [], "import": []}
    for n in range(2):  # interleaved, best of two
        target = home / f"unzipped-{n}"
        target.mkdir()
        seconds = 0.0
        for z in media:
            seconds += timed(["unzip", "-q", "-o", z, "-d", str(target)])[0]
        runs["unzip"].append(seconds)
        shutil.rmtree(target)
        dest = home / f"imported-{n}"
        runs["import"].append(timed([*EXODUS, "import-export", str(dest), *zips, "--quiet"])[0])
        shutil.rmtree(dest)
    rate = {k: round(total / min(v) / 1e6, 1) for k, v in runs.items()}
    ratio = round(rate["import"] / rate["unzip"], 3)
    return {"files": photos, "bytes": total, "mb_per_s": rate,
            "seconds": {k: [round(t, 2) for t in v] for k, v in runs.items()},
            "import_over_unzip": ratio,
            "note": "import also hashes every file, checks its format, fsyncs it, writes the catalog, the "
                    "sidecars and the album links; unzip only writes the files",
            "target": "import ≥ 0.7× unzip", "met": ratio >= 0.7}


def memory(home: Path, video_bytes: int) -> dict:
    zips = make_export(home / "big", "--photos", "2", "--videos", "1", "--albums", "1",
                       "--video-size", str(video_bytes), "--media-size", "3000-4000", "--seed", "22")
    seconds, _, rss = timed([*EXODUS, "import-export", str(home / "big-dest"), *zips, "--quiet"])
    size = sum(os.path.getsize(z) for z in zips)
    shutil.rmtree(home / "big-dest", ignore_errors=True)
    shutil.rmtree(home / "big", ignore_errors=True)
    return {"zip_bytes": size, "video_bytes": video_bytes, "peak_rss_mb": round(rss / 1e6, 1),
            "seconds": round(seconds, 1), "mb_per_s": round(size / seconds / 1e6, 1),
            "target": "peak RSS flat (≤ 200 MB) for a 4 GB zip", "met": rss / 1e6 <= 200}


def main() -> None:
    run_plan(__doc__, RESULTS, "import_export.py", lambda home, quick: {
        "throughput": lambda: throughput(home, 20 if quick else 150),
        "memory": lambda: memory(home, 200_000_000 if quick else 4_000_000_000),
    })


if __name__ == "__main__":
    sys.exit(main())
