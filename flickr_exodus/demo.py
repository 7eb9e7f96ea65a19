"""`exodus demo`: the whole backup against a small in-process Flickr sandbox.

The sandbox misbehaves a little, as Flickr does (a few server errors and broken
downloads, paging that drops items, a tight API quota), so the run shows retries and
quota waits, and still ends with every file checked against the sandbox's own hashes.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
import urllib.request
from pathlib import Path

import requests

from .backup.run import BackupOptions, run_backup
from .flickr import Credentials, Endpoints
from .flickr.signin import sign_in
from .gallery.run import GalleryOptions, run_gallery
from .sandbox import Sandbox, SandboxConfig
from .progress import plural
from .status import render, status
from .verify.run import VerifyOptions, run_verify

DEMO_ACCOUNT = SandboxConfig(
    photos=100, videos=6, albums=8, seed=2026, media_size=(40_000, 250_000),
    video_size=(400_000, 1_500_000),
    # Video originals need the owner's browser session, as on real Flickr: the demo hands
    # exodus a cookies.txt, as a user would export it from their browser.
    video_access="cookie",
    fault_rate=0.03, page_drop_rate=0.3, rate_limit=(60, 6.0),
)
CLIENT_RATE = (70, 6.0)  # believes in a little more than the sandbox grants: a few 429s


def write_cookies(path: Path, session_cookie: str) -> Path:
    """A cookies.txt as browser export extensions write it (Netscape format)."""
    name, _, value = session_cookie.partition("=")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Netscape HTTP Cookie File\n"
                    f".flickr.com\tTRUE\t/\tTRUE\t0\t{name}\t{value}\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def sign_in_as_user(base: str, info: dict, echo) -> Credentials:
    """The out-of-band OAuth sign-in `exodus auth` runs (flickr/signin.py), with the
    user's part ("OK, I'll authorize it") done by posting the sandbox's form."""

    def authorize(url: str) -> str:
        echo(f"  1. you open        {url}")
        form = dict(re.findall(r'name="(oauth_token|perms)" value="([^"]*)"', requests.get(url, timeout=30).text))
        page = requests.post(f"{base}/services/oauth/authorize", data={**form, "decision": "yes"}, timeout=30).text
        code = re.search(r'id="verifier">([0-9-]+)<', page).group(1)
        echo(f"  2. and paste back  {code}")
        return code

    creds = sign_in(Credentials(info["api_key"], info["api_secret"]), Endpoints(base), "read", authorize)
    echo(f"  3. exodus holds a read token for {creds.username}")
    return creds


def run_demo(directory: str, echo=print) -> int:
    target = Path(directory)
    started = time.monotonic()
    with Sandbox(DEMO_ACCOUNT) as sandbox:
        base, info = sandbox.base, sandbox.info
        echo(f"A Flickr sandbox runs on {base}: {DEMO_ACCOUNT.photos} photos, {DEMO_ACCOUNT.videos} videos, "
             f"{DEMO_ACCOUNT.albums} albums, a quota of {DEMO_ACCOUNT.rate_limit[0]} calls per "
             f"{DEMO_ACCOUNT.rate_limit[1]:g} s, and 3% of requests failing.")
        echo("Signing in (OAuth 1.0a, out of band):")
        creds = sign_in_as_user(base, info, echo)
        # A session cookie is a secret: it lives only as long as the backup that needs it.
        with tempfile.TemporaryDirectory(prefix="exodus-demo-") as folder:
            cookies = write_cookies(Path(folder) / "cookies.txt", info["session_cookie"])
            echo(f"Your browser's Flickr session, exported as {cookies}, opens the video originals.")
            echo(f"Backing up into {target}/ (with --cookies and --xmp) ...")
            code, summary = run_backup(BackupOptions(dest=target, api_base=base, api_rate=CLIENT_RATE,
                                                     creds=creds, cookies=cookies, xmp=True))
        manifest = json.loads(urllib.request.urlopen(f"{base}/__sandbox__/manifest").read())["items"]
        stats = json.loads(urllib.request.urlopen(f"{base}/__sandbox__/stats").read())
    run = summary["this_run"]
    echo("")
    echo(render(status(target)))
    hashes = _catalog_hashes(target)
    matching = sum(1 for m in manifest if hashes.get(m["id"]) == m["sha256"])
    echo(f"\n{matching} of {len(manifest)} files match the sandbox's own SHA-256 exactly.")
    _, proof = run_verify(VerifyOptions(dest=target, quiet=True))
    c = proof["counts"]
    echo(f"exodus verify: {c['whole']} of {c['items_with_files']} files whole, each also agreeing with a fact "
         f"Flickr stated (pixel size, duration, Content-Length).")
    _, shown = run_gallery(GalleryOptions(dest=target, quiet=True))
    echo(f"exodus gallery: {shown['pages']} pages, {shown['thumbnails']} items drawn (videos from Flickr's "
         f"posters); open {shown['index']} in any browser: it works from the folder, offline.")
    echo(f"The sandbox saw {plural(stats['api_calls_total'], 'API call')} ({stats['rate_limited']} refused with "
         f"429) and injected {plural(sum(stats['faults'].values()), 'fault')}; exodus retried "
         f"{plural(run['retries'], 'time')} and waited {run['quota_wait_s']:.0f} s for the quota, within "
         f"a {run['seconds']:.0f} s backup.")
    originals, files, everything = _on_disk(target)
    echo(f"On disk: {originals / 1e6:.1f} MB in {plural(files, 'original')}, {everything / 1e6:.1f} MB in all "
         f"with sidecars, posters, views, gallery and catalog (1 MB = 10^6 bytes): less than the estimate "
         f"above, which assumes camera files of these pixel counts; the sandbox's files are small.")
    echo(f"Look at: {target}/index.html (the gallery), {target}/photos/ (originals + .json and .xmp "
         f"sidecars, videos' posters), {target}/albums/, {target}/collections/, {target}/links.csv, "
         f"{target}/catalog.db (SQLite), {target}/README.txt, {target}/logs/.")
    echo(f"Run 'exodus demo {directory}' again: it resumes and fetches nothing new. "
         f"({time.monotonic() - started:.1f} s)")
    return code if matching == len(manifest) else 1


def _on_disk(dest: Path) -> tuple[int, int, int]:
    """Bytes of the originals the catalog names, their number, and bytes of the whole tree,
    as the disk has them (links counted once, as themselves)."""
    from .catalog import Catalog

    cat = Catalog.open(dest)
    try:
        paths = cat.known_paths()
    finally:
        cat.close()
    present = [dest / p for p in paths if (dest / p).is_file()]
    everything = sum(p.lstat().st_size for p in dest.rglob("*") if p.is_file() or p.is_symlink())
    return sum(p.stat().st_size for p in present), len(present), everything


def _catalog_hashes(dest: Path) -> dict[str, str | None]:
    from .catalog import Catalog

    cat = Catalog.open(dest)
    try:
        return cat.hashes()
    finally:
        cat.close()
