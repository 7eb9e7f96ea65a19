"""What `exodus push` costs: a 1,000-item backup pushed to `rclone serve s3` on 127.0.0.1,
against `rclone copy` of the same tree to the same server, in the same run.

    .venv/bin/python benchmarks/push.py [--only s3] [--quick]

Writes benchmarks/results/push.json. Target (issue 8): exodus's time / rclone's <= 1.25.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

from backup import EXODUS, backed_up, run_plan, timed

RESULTS = Path(__file__).parent / "results" / "push.json"
RCLONE = str(Path(sys.executable).with_name("rclone"))
KEY, SECRET = "AKIDBENCH", "SECRETSECRETBENCH"
ROUNDS = 3


def serve_s3(data: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([RCLONE, "serve", "s3", "--addr", "127.0.0.1:0", str(data)], stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "RCLONE_AUTH_KEY": f'"{KEY},{SECRET}"'})
    for line in proc.stderr:
        found = re.search(r"\[(http://127\.0\.0\.1:\d+)/\]", line)
        if found:
            return proc, found.group(1)
    raise SystemExit("rclone serve s3 did not start")


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
        # Alternating runs, each to a fresh prefix, medians: the machine is shared and noisy.
        excluded = ["--exclude", "logs/**", "--exclude", ".exodus.lock", "--exclude", "catalog.db-*",
                    "--exclude", "albums/**", "--exclude", "collections/**"]  # what exodus does not send
        exodus_runs, rclone_runs = [], []
        for run in range(ROUNDS):
            exodus_runs.append(timed([*EXODUS, "push", str(dest), f"s3://exodus/b{run}", "--concurrency", "4",
                                      "--quiet"], env)[0])
            rclone_runs.append(timed([RCLONE, "copy", str(dest), f"{remote}{run}", "--transfers", "4", *excluded],
                                     env)[0])
        exodus_s, rclone_s = statistics.median(exodus_runs), statistics.median(rclone_runs)
        rerun_s, _, _ = timed([*EXODUS, "push", str(dest), "s3://exodus/b0", "--quiet"], env)
        sent = sum(1 for p in (data / "exodus" / "b0").rglob("*") if p.is_file())
        copied = sum(1 for p in (data / "rclone" / "r0").rglob("*") if p.is_file())
    finally:
        server.terminate()
        server.wait()
    ratio = round(exodus_s / rclone_s, 3)
    return {"items": items, "objects_exodus": sent, "objects_rclone": copied,
            "seconds": {"exodus": round(exodus_s, 2), "rclone_copy": round(rclone_s, 2),
                        "exodus_runs": [round(x, 2) for x in exodus_runs],
                        "rclone_runs": [round(x, 2) for x in rclone_runs],
                        "exodus_rerun_nothing_to_send": round(rerun_s, 2)},
            "exodus_over_rclone": ratio,
            "note": f"medians of {ROUNDS} alternating runs; exodus also hashes each file (SHA-256 and MD5), "
                    "checks each upload against the MD5 the store returns and records it in the catalog, "
                    "and sends a catalog snapshot; both at 4 transfers",
            "target": "exodus time / rclone copy time ≤ 1.25", "met": ratio <= 1.25}


def main() -> None:
    run_plan(__doc__, RESULTS, "push.py", lambda home, quick: {"s3": lambda: s3(home, 100 if quick else 1000)})


if __name__ == "__main__":
    sys.exit(main())
