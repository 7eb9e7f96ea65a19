"""What `exodus push` costs: a 1,000-item backup pushed to `rclone serve s3` on 127.0.0.1,
against `rclone copy` of the same tree to the same server, in the same run.

    .venv/bin/python benchmarks/push.py [--only s3] [--quick]

Writes benchmarks/results/push.json. Target (issues 8, 18): the median over 7 interleaved runs of
exodus's time / rclone's <= 1.25, given with its spread.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from backup import EXODUS, backed_up, timed
from common import run_plan

RESULTS = Path(__file__).parent / "results" / "push.json"
RCLONE = str(Path(sys.executable).with_name("rclone"))
KEY, SECRET = "AKIDBENCH", "SECRETSECRETBENCH"
ROUNDS = 7


def serve_s3(data: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([RCLONE, "serve", "s3", "--addr", "127.0.0.1:0", str(data)], stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "RCLONE_AUTH_KEY": f'"{KEY},{SECRET}"'})
    for line in proc.stderr:
        found = re.search(r"\[(http://127\.0\.0\.1:\d+)/\]", line)
        if found:
            return proc, found.group(1)
    raise SystemExit("rclone serve s3 did not start")


def spread(values: list[float]) -> dict:
    """Median, quartiles and extremes of a list, rounded for the results file."""
    quartiles = statistics.quantiles(values, n=4, method="inclusive")
    return {"median": round(statistics.median(values), 3), "q1": round(quartiles[0], 3),
            "q3": round(quartiles[2], 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def objects(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


def s3(home: Path, items: int) -> dict:
    dest = backed_up(home, "dest", "--photos", str(items), "--videos", "0", "--albums", "10",
                     "--media-size", "20000-200000", "--seed", "31")
    data = home / "s3data"
    for bucket in ("exodus", "rclone"):
        (data / bucket).mkdir(parents=True)
    server, url = serve_s3(data)
    try:
        env = {**os.environ, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_ENDPOINT_URL": url}
        remote = f":s3,provider=Rclone,endpoint='{url}',access_key_id={KEY},secret_access_key={SECRET}:rclone/r"
        files = [p for p in dest.rglob("*") if p.is_file() and not p.is_symlink()]
        subprocess.run(["cat", *map(str, files)], stdout=subprocess.DEVNULL, check=True)  # warm cache
        excluded = ["--exclude", "logs/**", "--exclude", ".exodus.lock", "--exclude", "catalog.db-*",
                    "--exclude", "albums/**", "--exclude", "collections/**"]  # what exodus does not send
        # Interleaved runs (exodus, rclone, exodus, ...), each to a fresh prefix: the
        # machine is shared and noisy, so each exodus run is set against the rclone run
        # next to it, and the ratio given is the median of those pairs.
        exodus_runs, rclone_runs, sent, copied = [], [], set(), set()
        for run in range(ROUNDS):
            exodus_runs.append(timed([*EXODUS, "push", str(dest), f"s3://exodus/b{run}", "--concurrency", "4",
                                      "--quiet"], env)[0])
            rclone_runs.append(timed([RCLONE, "copy", str(dest), f"{remote}{run}", "--transfers", "4", *excluded],
                                     env)[0])
            sent.add(objects(data / "exodus" / f"b{run}"))
            copied.add(objects(data / "rclone" / f"r{run}"))
            if run:  # only b0 is pushed again below; the rest would only fill the disk
                shutil.rmtree(data / "exodus" / f"b{run}")
                shutil.rmtree(data / "rclone" / f"r{run}")
        rerun_s, out, _ = timed([*EXODUS, "push", str(dest), "s3://exodus/b0", "--json"], env)
        rerun_sent = json.loads(out)["counts"]["sent"]
    finally:
        server.terminate()
        server.wait()
    if len(sent) != 1 or sent != copied or rerun_sent:
        raise SystemExit(f"runs disagree: exodus sent {sorted(sent)} objects, rclone copied {sorted(copied)}, "
                         f"the rerun sent {rerun_sent}")
    ratios = spread([e / r for e, r in zip(exodus_runs, rclone_runs)])
    return {"items": items, "objects_exodus": sent.pop(), "objects_rclone": copied.pop(),
            "seconds": {"exodus": spread(exodus_runs), "rclone_copy": spread(rclone_runs),
                        "exodus_runs": [round(x, 2) for x in exodus_runs],
                        "rclone_runs": [round(x, 2) for x in rclone_runs],
                        "exodus_rerun_nothing_to_send": round(rerun_s, 2)},
            "exodus_over_rclone": ratios["median"], "exodus_over_rclone_spread": ratios,
            "note": f"{ROUNDS} interleaved runs (exodus, rclone, exodus, ...), each to a fresh prefix; the ratio "
                    "is the median over the runs of exodus's time over the rclone run after it, with its "
                    "quartiles and extremes; exodus also hashes each file (SHA-256 and MD5), checks each upload "
                    "against the MD5 the store returns and records it in the catalog, and sends a catalog "
                    "snapshot; both at 4 transfers; a rerun of the first push sent nothing",
            "target": "median exodus time / rclone copy time ≤ 1.25", "met": ratios["median"] <= 1.25}


def main() -> None:
    run_plan(__doc__, RESULTS, "push.py", lambda home, quick: {"s3": lambda: s3(home, 100 if quick else 1000)})


if __name__ == "__main__":
    sys.exit(main())
