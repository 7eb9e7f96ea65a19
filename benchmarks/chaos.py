"""Chaos: kill -9 at random instants, restart, and prove nothing was lost or done twice.

    .venv/bin/python benchmarks/chaos.py [--items 1000] [--kills 20] [--seed N] [--quick] [--out FILE]

Four stages, each killed with SIGKILL at --kills random instants and restarted each time,
then run to the end:
- backup: an account with 5% faults on every request, against an uninterrupted backup
  of the same account without faults: the same files (sha256 of every one), the same
  catalog rows (those that say what the backup holds), no .part left, and bytes
  downloaded ≤ 1.2 × the library's size;
- delete-remote: every eligible item deleted once, nothing else; the journal equals the
  sandbox's record of deletions;
- import-export: the account's export imported into an empty DEST, against an
  uninterrupted import: the same files and rows;
- push: to `rclone serve s3`: every file there with its bytes, every one recorded.

Counted per kill: what was killed, when, how much work the catalog recorded by then, and
whether the runs after it ended correct. A kill that struck when the work was already done
(nothing recorded after it) exercised nothing; a stage where no kill found work left fails.

Writes benchmarks/results/chaos.json (scenario "chaos"; a smaller run goes to
results/quick/). The test suite runs a short form (tests/test_chaos.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from backup import EXODUS, exodus_env, start_sandbox, stats
from common import for_run, run_stamp, save_scenario

RESULTS = Path(__file__).parent / "results" / "chaos.json"
RCLONE = str(Path(sys.executable).with_name("rclone"))
KEY, SECRET = "AKIDCHAOS", "SECRETSECRETCHAOS"
# What the backup holds, column by column (bookkeeping such as attempts and times left out).
ROWS = {
    "photos": "id, media, title, description, date_taken, license, is_public, latitude, longitude, path, size, "
              "sha256, state, original_secret, rotation, deep_done",
    "albums": "id, title, description, primary_id",
    "album_photos": "album_id, photo_id, position",
    "comments": "id, photo_id, album_id, author, text",
    "tags": "photo_id, tag, machine",
    "notes": "id, photo_id, x, y, w, h, text",
    "people": "photo_id, nsid",
    "favorites": "id, owner, title",
    "collections": "id, parent_id, title",
}
SKIP = ("logs/", "catalog.db", ".exodus.lock")


def tree(dest: Path) -> dict[str, str]:
    """sha256 of every file in DEST (symlinks by target), logs and the catalog aside."""
    out = {}
    for path in sorted(dest.rglob("*")):
        key = path.relative_to(dest).as_posix()
        if key.startswith(SKIP):
            continue
        if path.is_symlink():
            out[key] = "-> " + os.readlink(path)
        elif path.is_file():
            out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def rows(dest: Path) -> dict[str, list]:
    with sqlite3.connect(f"file:{dest / 'catalog.db'}?mode=ro", uri=True) as conn:
        return {table: sorted(map(list, conn.execute(f"SELECT {columns} FROM {table}")), key=repr)
                for table, columns in ROWS.items()}


def differences(a: Path, b: Path) -> list[str]:
    found = []
    ta, tb = tree(a), tree(b)
    for key in sorted(set(ta) | set(tb)):
        if ta.get(key) != tb.get(key):
            found.append(f"file {key}: {ta.get(key, 'missing')[:12]} / {tb.get(key, 'missing')[:12]}")
    ra, rb = rows(a), rows(b)
    for table in ROWS:
        if ra[table] != rb[table]:
            only_a = [r for r in ra[table] if r not in rb[table]][:3]
            only_b = [r for r in rb[table] if r not in ra[table]][:3]
            found.append(f"table {table}: {only_a} / {only_b}")
    return found


def window(seconds: float, kills: int) -> tuple[float, float]:
    """When to strike after each start, from how long an uninterrupted run took: early
    enough that `kills` restarts fit in one run's work, never before start-up is done."""
    return 0.4, max(0.8, 0.5 + 1.5 * seconds / kills)


def done_so_far(dest: Path, query: str) -> int:
    """How much of a stage's work the catalog records (0 before the catalog exists)."""
    if not (dest / "catalog.db").exists():
        return 0
    try:
        with sqlite3.connect(dest / "catalog.db", timeout=30) as conn:
            return conn.execute(query).fetchone()[0]
    except sqlite3.Error:  # killed before its tables were made
        return 0


def killed(command: list[str], env: dict, kills: int, window: tuple[float, float], rng: random.Random,
           progress) -> list[dict]:
    """Start the command and SIGKILL it after a random instant, again and again, up to
    `kills` times or until it finishes on its own first. One record per kill: when it
    struck (seconds after the start) and how much work was done by then (`progress()`)."""
    struck: list[dict] = []
    while len(struck) < kills:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = time.monotonic()
        deadline = started + rng.uniform(*window)
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        if proc.poll() is not None:
            break  # done before the kill: nothing left to interrupt
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        struck.append({"killed": command[3], "at_s": round(time.monotonic() - started, 2), "done": progress()})
    return struck


def judged(kills: list[dict], done_at_end: int, ended_correct: bool) -> dict:
    """Each kill against the end: it exercised the command if work was left when it struck
    (what the catalog recorded then is less than at the end), and it was recovered if it
    did and the runs after it ended correct. A stage whose kills all landed after the work
    was done exercised nothing, and fails."""
    for kill in kills:
        kill["done_at_end"] = done_at_end
        kill["work_left"] = kill["done"] < done_at_end
        kill["resume_ended_correct"] = ended_correct
    exercised = sum(k["work_left"] for k in kills)
    return {"kills": len(kills), "kills_with_work_left": exercised,
            "kills_recovered": sum(k["work_left"] and ended_correct for k in kills),
            "exercised": exercised > 0, "per_kill": kills}


def finish(command: list[str], env: dict, ok_codes=(0, 3), tries: int = 6) -> int:
    """Run to the end: again while it reports failed items (faults can outlast retries)."""
    code = -1
    for _ in range(tries):
        code = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        if code in ok_codes:
            return code
    return code


def account(items: int) -> list[str]:
    """The account of the backup and delete-remote stages: the same seed and the same port
    (URLs with the sandbox's address are part of what a backup keeps) give the same account."""
    return ["--photos", str(items - items // 30), "--videos", str(items // 30), "--albums", "12",
            "--video-access", "oauth", "--media-size", "20000-60000", "--video-size", "60000-120000",
            "--seed", "77", "--port", str(PORT)]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = free_port()


def stage_backup(home: Path, items: int, kills: int, rng: random.Random) -> dict:
    reference, chaos = home / "reference", home / "chaos"
    link = ["--latency-ms", "5", "--bandwidth", "3000000"]  # slowed, so that kills land mid-run
    proc, info = start_sandbox(*account(items), *link)
    try:
        started = time.monotonic()
        finish([*EXODUS, "backup", str(reference), "--json"], exodus_env(info, home))
        took = time.monotonic() - started
    finally:
        proc.terminate()
        proc.wait()
    # The same account and link, 5% of requests failing.
    proc, info = start_sandbox(*account(items), *link, "--fault-rate", "0.05")
    try:
        env = exodus_env(info, home, EXODUS_BACKOFF="0.05")
        command = [*EXODUS, "backup", str(chaos), "--json"]
        downloads = "SELECT count(sha256) + count(nullif(deep_done, 0)) FROM photos"
        struck = killed(command, env, kills, window(took, kills), rng, lambda: done_so_far(chaos, downloads))
        code = finish(command, env)
        served = stats(info)["bytes_served"]
        library = sum(i["size"] for i in requests.get(f"{info['api_base']}/__sandbox__/manifest",
                                                      timeout=120).json()["items"])
    finally:
        proc.terminate()
        proc.wait()
    found = differences(reference, chaos)
    parts = [p.relative_to(chaos).as_posix() for p in chaos.rglob("*.part")]
    ratio = round(served / library, 3)
    correct = code in (0, 3) and not found and not parts and ratio <= 1.2
    kills_judged = judged(struck, done_so_far(chaos, downloads), correct)
    return {**kills_judged, "exit": code, "differences": found[:20], "difference_count": len(found),
            "parts_left": parts[:20], "bytes_downloaded_over_library": ratio,
            "ok": correct and kills_judged["exercised"]}


def stage_delete(home: Path, items: int, kills: int, rng: random.Random) -> dict:
    """The chaos backup, verified, then delete-remote killed at random instants, against a
    fresh sandbox of the same account with the same 5% faults."""
    dest = home / "chaos"
    proc, info = start_sandbox(*account(items), "--fault-rate", "0.05", "--latency-ms", "10")
    try:
        env = exodus_env(info, home, EXODUS_BACKOFF="0.05")
        finish([*EXODUS, "verify", str(dest), "--json"], env, ok_codes=(0, 3))
        plan = json.loads(subprocess.run([*EXODUS, "delete-remote", str(dest), "--json"], env=env,
                                         capture_output=True, text=True).stdout)
        eligible = plan["counts"]["eligible"]
        base = info["api_base"]
        before = {i["id"] for i in requests.get(f"{base}/__sandbox__/manifest", timeout=60).json()["items"]
                  if not i["deleted"]}
        command = [*EXODUS, "delete-remote", str(dest), "--yes", "--json"]
        # Each delete is a call of its own at 10 ms latency (plus a re-hash and two commits).
        deletions = "SELECT count(*) FROM deletions WHERE result = 'deleted'"
        struck = killed(command, env, kills, window(eligible * 0.02, kills), rng,
                        lambda: done_so_far(dest, deletions))
        code = finish(command, env, ok_codes=(0,))
        manifest = requests.get(f"{base}/__sandbox__/manifest", timeout=60).json()["items"]
        deleted = {i["id"] for i in manifest if i["deleted"]}
        delete_calls = stats(info)["api_calls"].get("flickr.photos.delete", 0)
    finally:
        proc.terminate()
        proc.wait()
    with sqlite3.connect(dest / "catalog.db") as conn:
        journal = {r[0] for r in conn.execute("SELECT photo_id FROM deletions WHERE result = 'deleted'")}
        open_intents = conn.execute("SELECT count(*) FROM deletions WHERE result IS NULL").fetchone()[0]
    correct = code == 0 and len(deleted) == eligible and journal == deleted and not open_intents
    kills_judged = judged(struck, done_so_far(dest, deletions), correct)
    return {**kills_judged, "exit": code, "eligible": eligible, "deleted": len(deleted),
            "delete_calls": delete_calls, "journal_equals_sandbox": journal == deleted,
            "open_intents": open_intents, "all_were_there": deleted <= before,
            "ok": correct and kills_judged["exercised"]}


def stage_import(home: Path, items: int, kills: int, rng: random.Random) -> dict:
    export = home / "export"
    subprocess.run([*EXODUS, "sandbox", "--photos", str(items), "--videos", "0", "--albums", "8",
                    "--media-size", "20000-60000", "--seed", "79", "--export", str(export)],
                   check=True, stdout=subprocess.DEVNULL)
    zips = sorted(str(p) for p in export.iterdir())
    env = {**os.environ, "XDG_STATE_HOME": str(home / "state")}
    reference, chaos = home / "import-reference", home / "import-chaos"
    started = time.monotonic()
    finish([*EXODUS, "import-export", str(reference), *zips, "--json"], env)
    took = time.monotonic() - started
    command = [*EXODUS, "import-export", str(chaos), *zips, "--json"]
    imported = "SELECT count(sha256) FROM photos"
    struck = killed(command, env, kills, window(took, kills), rng, lambda: done_so_far(chaos, imported))
    code = finish(command, env)
    found = differences(reference, chaos)
    parts = [p.relative_to(chaos).as_posix() for p in chaos.rglob("*.part")]
    correct = code in (0, 3) and not found and not parts
    kills_judged = judged(struck, done_so_far(chaos, imported), correct)
    return {**kills_judged, "exit": code, "differences": found[:20], "difference_count": len(found),
            "parts_left": parts[:20], "ok": correct and kills_judged["exercised"]}


def stage_push(home: Path, kills: int, rng: random.Random) -> dict:
    import re
    import threading

    dest = home / "chaos"
    data = home / "s3"
    (data / "backup").mkdir(parents=True)
    server = subprocess.Popen([RCLONE, "serve", "s3", "--addr", "127.0.0.1:0", str(data)], stderr=subprocess.PIPE,
                              text=True, env={**os.environ, "RCLONE_AUTH_KEY": f'"{KEY},{SECRET}"'})
    url = next(m.group(1) for line in server.stderr
               if (m := re.search(r"\[(http://127\.0\.0\.1:\d+)/\]", line)))
    threading.Thread(target=server.stderr.read, daemon=True).start()
    chaos_target = f"s3://backup/chaos ({urlsplit(url).netloc})"  # pushes name the store's host too
    try:
        env = {**os.environ, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_ENDPOINT_URL": url,
               "XDG_STATE_HOME": str(home / "state")}
        started = time.monotonic()  # an uninterrupted push elsewhere: how long one takes
        finish([*EXODUS, "push", str(dest), "s3://backup/reference", "--concurrency", "2", "--quiet"], env, (0,))
        took = time.monotonic() - started
        command = [*EXODUS, "push", str(dest), "s3://backup/chaos", "--concurrency", "2", "--quiet"]
        pushed = f"SELECT count(*) FROM pushes WHERE target = '{chaos_target}'"
        struck = killed(command, env, kills, window(took, kills), rng, lambda: done_so_far(dest, pushed))
        code = finish(command, env, ok_codes=(0,))
    finally:
        server.terminate()
        server.wait()
    there = data / "backup" / "chaos"
    with sqlite3.connect(dest / "catalog.db") as conn:
        recorded = {r[0]: r[1] for r in conn.execute(
            "SELECT key, sha256 FROM pushes WHERE target = ? AND key != 'catalog.db'", [chaos_target])}
    wrong = [k for k, sha in recorded.items()
             if not (there / k).is_file() or hashlib.sha256((there / k).read_bytes()).hexdigest() != sha]
    stored = {p.relative_to(there).as_posix() for p in there.rglob("*") if p.is_file()} - {"catalog.db"}
    correct = code == 0 and not wrong and stored == set(recorded)
    kills_judged = judged(struck, done_so_far(dest, pushed), correct)
    return {**kills_judged, "exit": code, "recorded": len(recorded), "stored": len(stored),
            "wrong_or_missing": wrong[:20], "unrecorded": sorted(stored - set(recorded))[:20],
            "ok": correct and kills_judged["exercised"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=None, help="default 1000 (--quick: 200)")
    parser.add_argument("--kills", type=int, default=None, help="kills per stage; default 20 (--quick: 5)")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--quick", action="store_true", help="a smaller account and fewer kills, for a smoke run")
    parser.add_argument("--out", type=Path, default=None, help="default benchmarks/results/chaos.json "
                                                                "(results/quick/ for a run smaller than the full one)")
    args = parser.parse_args()
    items = args.items or (200 if args.quick else 1000)
    kills = args.kills or (5 if args.quick else 20)
    stamp = run_stamp(quick=items < 1000 or kills < 20)
    rng = random.Random(args.seed)
    print(f"chaos: seed {args.seed} (rerun: benchmarks/chaos.py --items {items} --kills {kills} "
          f"--seed {args.seed})", flush=True)
    with tempfile.TemporaryDirectory(prefix="exodus-chaos-") as tmp:
        home = Path(tmp)
        stages = {}
        for name, run in (("backup", lambda: stage_backup(home, items, kills, rng)),
                          ("push", lambda: stage_push(home, kills, rng)),
                          ("delete-remote", lambda: stage_delete(home, items, kills, rng)),
                          ("import-export", lambda: stage_import(home, items, kills, rng))):
            started = time.monotonic()
            stages[name] = {**run(), "seconds": round(time.monotonic() - started, 1)}
            print(f"{name}: {json.dumps({k: v for k, v in stages[name].items() if k != 'per_kill'})}", flush=True)
    result = summary(stages, items, kills, args.seed)
    out = args.out or for_run(RESULTS, stamp["quick"])
    save_scenario(out, "chaos", result, stamp)
    print(json.dumps({k: v for k, v in result.items() if k != "by_stage"}, indent=1, ensure_ascii=False))
    print(f"written to {out}")
    sys.exit(0 if all(s["ok"] for s in stages.values()) else 1)


def summary(stages: dict, items: int, kills: int, seed: int) -> dict:
    """The run in figures, counted per kill, with the bounds it is judged by (each measured
    in this run: the kills it made, the stages it ran)."""
    struck = sum(s["kills"] for s in stages.values())
    with_work = sum(s["kills_with_work_left"] for s in stages.values())
    recovered = sum(s["kills_recovered"] for s in stages.values())
    exercised = sum(s["exercised"] for s in stages.values())
    diffs = sum(s.get("difference_count", 0) + (0 if s["ok"] else 1) for s in stages.values())
    return {"items": items, "seed": seed, "kills_per_stage": kills, "kills": struck,
            "kills_with_work_left": with_work, "kills_recovered": recovered,
            "stages_exercised": exercised, "differences": diffs, "stages": list(stages), "by_stage": stages,
            "bounds": [
                {"label": "kills struck", "figure": "kills", "op": ">=", "limit": kills * len(stages)},
                {"label": "stages where a kill found work left", "figure": "stages_exercised", "op": ">=",
                 "limit": len(stages)},
                {"label": "kills with work left, recovered", "figure": "kills_recovered", "op": ">=",
                 "limit": with_work},
                {"label": "differences from an uninterrupted run", "figure": "differences", "op": "<=", "limit": 0},
            ]}


if __name__ == "__main__":
    main()
