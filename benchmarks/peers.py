"""exodus side by side with gallery-dl and flickr_download (issue 18): the same sandbox
account (same seed, a fresh sandbox for each tool), the same link, measured in one run.

    .venv/bin/python benchmarks/peers.py [--quick]

Writes benchmarks/results/peers.json (scenario "peers"). The peers run unmodified from
.venv-peers (`make .venv-peers/.installed`), through the launchers in tests/peers/ that
only point their Flickr URLs at the sandbox; credentials go through each tool's own options.
Each tool is run the way its own help says to keep a whole account:

- exodus: `exodus backup DEST --cookies FILE` (deep pass included);
- gallery-dl: the user's URL and its /albums URL in one run, `--write-metadata`, with its
  `metadata` option (the listing's extras: no call per photo; its `info` option would add a
  getInfo per photo and per album copy, for notes) and the browser session as its cookies
  file (gallery-dl#16);
- flickr_download: `-p USER` then `-u USER` (every album, a folder each), `-j` (a JSON of
  each photo's info), `-n id` (with `-n title_increment`, its advice for duplicate titles, it
  stops at a photo titled ".."). It has no way to hand over a browser session, so Flickr
  refuses it video originals.

None of the three is throttled on the API beyond what it cannot turn off (exodus's quota
set to nothing; gallery-dl's request sleep to 0, under which it keeps 0.5 s between calls).

What each keeps is read from what it wrote, not from its documentation: a media file counts
for the item whose manifest sha256 it equals; a title, description, tags, comments or notes
count where a JSON document the tool wrote for that item (its top-level "id") holds them;
an album counts where one folder holds exactly the album's items that the tool saved, and
its order where that folder's names sort into the album's order.

Resume: a second account of large photos; each tool is killed (SIGKILL) once the sandbox
has served part of the account, mid-file, then run again to the end. Bytes fetched again =
what the killed run and the rerun fetched, less what an uninterrupted run fetches.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from requests_oauthlib import OAuth1

from common import ROOT, run_plan
from flickr_exodus.sandbox import SandboxConfig

RESULTS = Path(__file__).parent / "results" / "peers.json"
EXODUS = [sys.executable, "-m", "flickr_exodus"]
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
LAUNCHERS = ROOT / "tests" / "peers"
TOOLS = ("exodus", "gallery_dl", "flickr_download")
KILL_AT = (0.4, 0.55, 0.7)  # share of the account's bytes served before the kill, tried in turn
# A link with a round trip and a total cap; and a cap per connection (a CDN stream is bounded
# by its round trip and window) where the sandbox has one (issue 18, item 2).
PER_CONNECTION = "connection_bandwidth" in {f.name for f in dataclasses.fields(SandboxConfig)}
LINK = {"latency_ms": 40, "bandwidth": 40_000_000, **({"connection_bandwidth": 5_000_000} if PER_CONNECTION else {})}
LINK_NOTE = ("a 40 MB/s total cap and 5 MB/s per connection" if PER_CONNECTION else
             "a total cap only: the sandbox had no per-connection cap yet (--connection-bandwidth, issue 18 "
             "item 2), so one connection may fill most of the 40 MB/s")
OPTIONS = {
    "exodus": "backup DEST --cookies FILE (deep pass included)",
    "gallery_dl": "USER_URL USER_URL/albums --write-metadata, metadata: true, sleep-request: 0 (its floor "
                  "between API calls stays 0.5 s), cookies: FILE",
    "flickr_download": "-p USER, then -u USER; -t -j -n id (no way to give it a browser session)"}
# What a tool writes beside the media; everything else it leaves is hashed against the manifest.
NOT_MEDIA = re.compile(r".*\.(json|xmp|csv|txt|log|lock|db|db-wal|db-shm|db-journal|sqlite)|catalog\.db.*")


# --- the sandbox -----------------------------------------------------------------------------

def start_sandbox(account: dict) -> tuple[subprocess.Popen, dict]:
    args = [f"--{k.replace('_', '-')}={v}" for k, v in {**account, **LINK}.items()]
    proc = subprocess.Popen([*EXODUS, "sandbox", "--port", "0", *args], stdout=subprocess.PIPE, text=True)
    return proc, json.loads(proc.stdout.readline())


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait()


def control(info: dict, action: str, **body) -> dict:
    base = f"{info['api_base']}/__sandbox__/{action}"
    response = requests.post(base, json=body, timeout=60) if body or action == "reset-stats" else \
        requests.get(base, timeout=120)
    response.raise_for_status()
    return response.json()


def call(info: dict, method: str, **params) -> dict:
    """A call signed with the owner's token, as the truth is read (before the stats are reset)."""
    auth = OAuth1(info["api_key"], info["api_secret"], info["oauth_token"], info["oauth_token_secret"])
    response = requests.post(f"{info['api_base']}/services/rest/", auth=auth, timeout=60, data={
        "method": method, "format": "json", "nojsoncallback": "1", **params})
    response.raise_for_status()
    return response.json()


def truth(info: dict) -> dict:
    """What the account holds: each live item's manifest and record, each album in order."""
    manifest = {i["id"]: i for i in control(info, "manifest")["items"] if not i["deleted"]}
    records = {r["id"]: r for r in control(info, "records")["items"] if r["id"] in manifest}
    albums = {}
    for album in call(info, "flickr.photosets.getList", per_page="500")["photosets"]["photoset"]:
        order, page = [], 1
        while True:
            body = call(info, "flickr.photosets.getPhotos", photoset_id=album["id"], page=str(page),
                        per_page="500")["photoset"]
            order += [p["id"] for p in body["photo"]]
            if page >= int(body["pages"]):
                break
            page += 1
        albums[album["id"]] = order
    return {"manifest": manifest, "records": records, "albums": albums}


def cookies_file(info: dict, folder: Path) -> Path:
    """The owner's browser session as a Netscape cookies.txt, for the tools that take one."""
    name, _, value = info["session_cookie"].partition("=")
    path = folder / "cookies.txt"
    path.write_text(f"# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\t{name}\t{value}\n")
    return path


# --- the tools ---------------------------------------------------------------------------------

def peer_env(home: Path) -> dict:
    """A peer in a home of its own: no user config, cache or token of the machine's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return {**env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache")}


def alias(info: dict) -> str:
    return call(info, "flickr.people.getInfo", user_id="me")["person"]["path_alias"]


def commands(tool: str, info: dict, work: Path, everything: bool = True) -> tuple[list[list[str]], dict, Path]:
    """(the commands that keep the whole account, their environment, the folder they write);
    with everything=False only the first: the photostream alone."""
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    out = work / "out"
    out.mkdir(exist_ok=True)
    if tool == "exodus":
        env = {**os.environ, "FLICKR_API_KEY": info["api_key"], "FLICKR_API_SECRET": info["api_secret"],
               "FLICKR_OAUTH_TOKEN": info["oauth_token"], "FLICKR_OAUTH_TOKEN_SECRET": info["oauth_token_secret"],
               "EXODUS_API_BASE": info["api_base"], "EXODUS_API_RATE": "1000000/1",
               "XDG_STATE_HOME": str(home / "state")}
        extra = [] if everything else ["--no-deep"]
        return [[*EXODUS, "backup", str(out), "--cookies", str(cookies_file(info, work)), "--quiet", "--json",
                 *extra]], env, out
    user = f"https://www.flickr.com/photos/{info['_alias']}/"
    if tool == "gallery_dl":
        config = {"extractor": {"base-directory": str(out), "flickr": {
            "api-key": info["api_key"], "api-secret": info["api_secret"],
            "access-token": info["oauth_token"], "access-token-secret": info["oauth_token_secret"],
            "cookies": str(cookies_file(info, work)), "sleep-request": 0, "metadata": True}}}
        (work / "gallery-dl.json").write_text(json.dumps(config))
        urls = [user, user + "albums"] if everything else [user]
        return [[str(PEERS_PYTHON), str(LAUNCHERS / "gallery_dl_at.py"), info["api_base"], "--config-ignore",
                 "--config", str(work / "gallery-dl.json"), "--write-metadata", *urls]], peer_env(home), out
    (home / ".flickr_token").write_text(f"{info['oauth_token']}\n{info['oauth_token_secret']}")
    base = [str(PEERS_PYTHON), str(LAUNCHERS / "flickr_download_at.py"), info["api_base"], "-k", info["api_key"],
            "-s", info["api_secret"], "-t", "-j", "-n", "id"]
    runs = [[*base, "-p", info["username"]], [*base, "-u", info["username"]]]
    return runs if everything else runs[:1], peer_env(home), out


def run(command: list[str], env: dict, cwd: Path, timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def versions() -> dict:
    code = ("import importlib.metadata as m, json; print(json.dumps({p: m.version(p) for p in "
            "('gallery-dl', 'flickr_download', 'flickr_api')}))")
    found = json.loads(subprocess.run([str(PEERS_PYTHON), "-c", code], capture_output=True, text=True,
                                      check=True).stdout)
    return {"gallery_dl": found["gallery-dl"], "flickr_download": found["flickr_download"],
            "flickr_api (under flickr_download)": found["flickr_api"]}


# --- what a tool wrote -----------------------------------------------------------------------------

def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def clean(text: str) -> str:
    return " ".join(html.unescape(text).split())


def read_tree(out: Path, known: dict) -> dict:
    """What a tool left under `out`: each media file's item (by sha256; None if it equals
    none), each folder's entries in name order, and the texts it wrote per item id."""
    by_sha = {m["sha256"]: pid for pid, m in known["manifest"].items()}
    items: dict[str, str] = {}  # real path -> item id or None
    folders: dict[Path, list] = {}
    texts: dict[str, list[str]] = {}
    stray: list[dict] = []
    for path in sorted(out.rglob("*")):
        if path.is_dir() or not path.exists():
            continue
        if NOT_MEDIA.fullmatch(path.name):
            if path.suffix == ".json":
                try:
                    doc = json.loads(path.read_text(errors="replace"))
                except ValueError:
                    continue
                if isinstance(doc, dict) and str(doc.get("id", "")) in known["manifest"]:
                    texts.setdefault(str(doc["id"]), []).extend(clean(s) for s in strings(doc))
            continue
        real = path.resolve()
        if str(real) not in items:
            items[str(real)] = by_sha.get(sha256(real))
            if items[str(real)] is None and not path.is_symlink():
                stray.append({"name": path.name, "bytes": real.stat().st_size})
        folders.setdefault(path.parent, []).append(items[str(real)])
    return {"saved": {pid for pid in items.values() if pid}, "folders": folders, "texts": texts, "stray": stray}


def kept(known: dict, tree: dict) -> dict:
    """For each kind of thing the account holds: how many of the items (or albums) that hold
    it the tool kept, out of how many."""
    records, saved, texts = known["records"], tree["saved"], tree["texts"]

    def share(having, holds) -> dict:
        pool = [r for r in records.values() if having(r)]
        return {"kept": sum(1 for r in pool if holds(r, set(texts.get(r["id"], ())),
                                                      " \n ".join(texts.get(r["id"], ())))),
                "of": len(pool)}

    out = {
        "originals": share(lambda r: r["media"] == "photo", lambda r, s, t: r["id"] in saved),
        "videos": share(lambda r: r["media"] == "video", lambda r, s, t: r["id"] in saved),
        "restricted": share(lambda r: r["safety_level"] == 2, lambda r, s, t: r["id"] in saved),
        "titles": share(lambda r: clean(r["title"]), lambda r, s, t: clean(r["title"]) in s),
        "descriptions": share(lambda r: clean(r["description"]), lambda r, s, t: clean(r["description"]) in t),
        "tags": share(lambda r: r["tags"], lambda r, s, t: all(
            clean(g["raw"]) in s or clean(g["clean"]) in s for g in r["tags"])),
        "comments": share(lambda r: r["comments"], lambda r, s, t: all(clean(c["text"]) in t for c in r["comments"])),
        "notes": share(lambda r: r["notes"], lambda r, s, t: all(clean(n["text"]) in t for n in r["notes"])),
    }
    albums = {"kept": 0, "in_order": 0, "of": len(known["albums"]), "of_two_or_more": 0}
    for order in known["albums"].values():
        wanted = [pid for pid in order if pid in saved]
        if not wanted:
            continue
        folders = [ids for ids in tree["folders"].values() if sorted(ids) == sorted(wanted)]
        albums["of_two_or_more"] += len(wanted) >= 2
        albums["kept"] += bool(folders)
        albums["in_order"] += len(wanted) >= 2 and wanted in folders
    out["albums"] = albums
    return out


# --- one tool on the whole account -------------------------------------------------------------

def fresh(tool: str, account: dict, work: Path, everything: bool = True) -> tuple:
    """A fresh sandbox of `account` for one tool, its truth read and its stats reset:
    (process, info, truth, commands, environment, output folder)."""
    proc, info = start_sandbox(account)
    try:
        info["_alias"] = alias(info)
        known = truth(info)
        control(info, "reset-stats")
        return (proc, info, known, *commands(tool, info, work, everything))
    except BaseException:
        stop(proc)
        raise


def whole_account(tool: str, account: dict, work: Path) -> dict:
    proc, info, known, runs, env, out = fresh(tool, account, work)
    try:
        started = time.monotonic()
        exits = [run(command, env, out).returncode for command in runs]
        seconds = time.monotonic() - started
        s = control(info, "stats")
    finally:
        stop(proc)
    tree = read_tree(out, known)
    items = len(known["manifest"])
    account_bytes = sum(m["size"] for m in known["manifest"].values())
    correct = len(tree["saved"])
    return {"exit_codes": exits, "seconds": round(seconds, 1), "api_calls": s["api_calls_total"],
            "api_calls_per_item": round(s["api_calls_total"] / items, 3), "calls_by_method": s["api_calls"],
            "bytes_fetched": s["bytes_served"], "fetched_over_account_bytes": round(s["bytes_served"] / account_bytes, 3),
            "mb_per_s": round(s["bytes_served"] / seconds / 1e6, 2), "items_correct": correct,
            "items_correct_share": round(correct / items, 3), "files_not_in_manifest": len(tree["stray"]),
            "video_originals_refused": s["video_refused"], "keeps": kept(known, tree)}


# --- resume after SIGKILL mid-file ------------------------------------------------------------------

def served(info: dict) -> int:
    return requests.get(f"{info['api_base']}/__sandbox__/stats", timeout=30).json()["bytes_served"]


def killed_run(command: list[str], env: dict, cwd: Path, info: dict, at_bytes: int) -> int:
    """Start `command`; SIGKILL it (its whole session) once the sandbox has served `at_bytes`
    and bytes are still flowing (a file in flight, not an API call between two files).
    Returns the bytes served when it died."""
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        before = served(info)
        while proc.poll() is None:
            time.sleep(0.01)
            now = served(info)
            if before >= at_bytes and now > before:
                break
            before = now
        if proc.poll() is not None:
            raise SystemExit(f"{command[:4]} finished before {at_bytes:,} bytes were served: raise the account")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return served(info)


def resume(tool: str, account: dict, work: Path) -> dict:
    """The photostream alone (each tool's first command): once uninterrupted, for the bytes a
    clean run fetches and what it saves; then killed once part of the account is served and
    rerun. A kill that fell between two files is tried again later in the account."""
    proc, info, known, (command,), env, out = fresh(tool, account, work / "clean", everything=False)
    try:
        run(command, env, out)
        clean_bytes, clean_saved = served(info), read_tree(out, known)["saved"]
    finally:
        stop(proc)
    for attempt, share in enumerate(KILL_AT, 1):
        proc, info, known, (command,), env, out = fresh(tool, account, work / f"killed-{attempt}", everything=False)
        try:
            total = sum(m["size"] for m in known["manifest"].values())
            at_kill = killed_run(command, env, out, info, int(total * share))
            left = read_tree(out, known)
            complete = sum(known["manifest"][pid]["size"] for pid in left["saved"])
            if at_kill <= complete and attempt < len(KILL_AT):
                continue
            rerun = run(command, env, out)
            after = served(info)
        finally:
            stop(proc)
        break
    tree = read_tree(out, known)
    return {"kill_attempts": attempt, "killed_after_share_of_account": share,
            "bytes_served_at_kill": at_kill, "bytes_in_complete_files_at_kill": complete,
            "killed_mid_file": at_kill > complete, "left_by_the_kill": left["stray"],
            "bytes_in_partial_files_at_kill": sum(s["bytes"] for s in left["stray"]),
            # served twice: what the socket held when the tool died, and what it did not resume
            "rerun_exit_code": rerun.returncode, "bytes_fetched_again": max(0, after - clean_bytes),
            # a tool that skips what it left behind fetches less than a clean run
            "bytes_never_fetched": max(0, clean_bytes - after),
            "items_saved_after_rerun": len(tree["saved"]), "items_a_clean_run_saves": len(clean_saved),
            "final_tree_correct": tree["saved"] == clean_saved and not tree["stray"],
            "wrong_files_after_rerun": tree["stray"],
            "zero_byte_files_after_rerun": sum(1 for s in tree["stray"] if s["bytes"] == 0)}


# --- the run ------------------------------------------------------------------------------------------

def peers(home: Path, quick: bool) -> dict:
    if not PEERS_PYTHON.exists():
        raise SystemExit(f"{PEERS_PYTHON} is missing: make .venv-peers/.installed")
    account = ({"photos": 18, "videos": 2, "albums": 3, "media_size": "200000-600000", "video_size": "1000000-2000000"}
               if quick else
               {"photos": 194, "videos": 6, "albums": 3, "media_size": "1000000-3000000",
                "video_size": "5000000-15000000"})
    account = {**account, "seed": 18}
    large = {"photos": 4 if quick else 6, "videos": 0, "albums": 0, "seed": 18,
             "media_size": "3000000-5000000" if quick else "10000000-15000000"}
    out: dict = {"account": account, "resume_account": large, "link": LINK, "link_note": LINK_NOTE,
                 "versions": versions(), "options": OPTIONS, "tools": {}, "resume": {}}
    for tool in TOOLS:
        print(f"  {tool}: the whole account ...", flush=True)
        out["tools"][tool] = whole_account(tool, account, home / tool)
        shutil.rmtree(home / tool, ignore_errors=True)
    for tool in TOOLS:
        print(f"  {tool}: killed mid-file and rerun ...", flush=True)
        out["resume"][tool] = resume(tool, large, home / f"resume-{tool}")
        shutil.rmtree(home / f"resume-{tool}", ignore_errors=True)
    items = account["photos"] + account["videos"]
    t = out["tools"]
    out["items"] = items
    out["exodus_seconds_over"] = {p: round(t["exodus"]["seconds"] / t[p]["seconds"], 3) for p in TOOLS[1:]}
    out["exodus_mb_per_s_over"] = {p: round(t["exodus"]["mb_per_s"] / t[p]["mb_per_s"], 2) for p in TOOLS[1:]}
    out["bounds"] = [
        {"label": "exodus: every item equal to the manifest", "figure": "tools.exodus.items_correct",
         "op": "==", "limit": items},
        {"label": "exodus: tree correct after a kill mid-file", "figure": "resume.exodus.final_tree_correct",
         "op": "==", "limit": True}]
    return out


def main() -> None:
    run_plan(__doc__, RESULTS, "peers.py", lambda home, quick: {"peers": lambda: peers(home, quick)})


if __name__ == "__main__":
    main()
