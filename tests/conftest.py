"""Shared fixtures: real sandboxes on 127.0.0.1, real clients (flickrapi, requests-oauthlib).

The clients' OAuth code is independent of the sandbox's: a signing bug cannot hide on
both sides.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import flickrapi
import pytest
import requests
from requests_oauthlib import OAuth1

from flickr_exodus.sandbox import Sandbox, SandboxConfig

# Flickr's recorded answers, vendored with the tests (where they came from: recordings/INDEX.md).
RECORDINGS = Path(__file__).resolve().parent / "recordings"

# A suite started by a non-interactive shell in the background (`make test &`, a CI
# runner's job) inherits SIGINT ignored, and so would every exodus it starts: the tests
# that press Ctrl-C on one would wait for a process that never hears it. Handled here, it
# reaches each child as the default again (exec resets handlers, never SIG_IGN).
signal.signal(signal.SIGINT, signal.default_int_handler)


def recorded(pattern: str) -> list[Path]:
    """The recordings matching `pattern`; none at all fails the run rather than letting the
    tests parametrised over them become empty sets that pass."""
    found = sorted(RECORDINGS.glob(pattern))
    if not found:
        pytest.fail(f"no recorded Flickr answers match {pattern} in {RECORDINGS}", pytrace=False)
    return found


class Client:
    """A thin handle on one running sandbox for tests."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.info = sandbox.info
        self.base = sandbox.base
        self.http = requests.Session()

    # -- control endpoints --
    def stats(self) -> dict:
        return self.http.get(f"{self.base}/__sandbox__/stats", timeout=30).json()

    def manifest(self) -> dict:
        return {i["id"]: i for i in self.http.get(f"{self.base}/__sandbox__/manifest", timeout=60).json()["items"]}

    def control(self, action: str, **body) -> dict:
        response = self.http.post(f"{self.base}/__sandbox__/{action}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def token(self, perms: str) -> tuple[str, str]:
        data = self.control("token", perms=perms)
        return data["oauth_token"], data["oauth_token_secret"]

    # -- REST --
    def auth(self, token: tuple[str, str] | None = None, **kwargs) -> OAuth1:
        key, secret = token or (self.info["oauth_token"], self.info["oauth_token_secret"])
        return OAuth1(self.info["api_key"], self.info["api_secret"], key, secret, **kwargs)

    def rest(self, method: str, *, token=None, anonymous=False, http_method="POST", **params):
        """A signed call (the owner's delete token unless `token`), or unsigned with api_key."""
        params = {"method": method, "format": "json", "nojsoncallback": "1", **params}
        if anonymous:
            params.setdefault("api_key", self.info["api_key"])
        where = {"params": params} if http_method == "GET" else {"data": params}
        return self.http.request(http_method, f"{self.base}/services/rest/", timeout=30,
                                 auth=None if anonymous else self.auth(token), **where)

    def call(self, method: str, **params) -> dict:
        response = self.rest(method, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def flickrapi(self, fmt: str = "parsed-json", token=None) -> flickrapi.FlickrAPI:
        key, secret = token or (self.info["oauth_token"], self.info["oauth_token_secret"])
        access = flickrapi.auth.FlickrAccessToken(key, secret, "delete")
        return pointed(flickrapi.FlickrAPI(self.info["api_key"], self.info["api_secret"], token=access,
                                           store_token=False, format=fmt, timeout=30), self.base)

    def all_photos(self, extras: str = "media,original_format,url_o,count_comments,geo,tags,machine_tags",
                   **params) -> list[dict]:
        out = []
        page = 1
        while True:
            body = self.call("flickr.people.getPhotos", user_id="me", per_page="500", page=str(page),
                             extras=extras, safe_search="3", **params)["photos"]
            out += body["photo"]
            if page >= int(body["pages"]):
                return out
            page += 1


def pointed(api: flickrapi.FlickrAPI, base: str) -> flickrapi.FlickrAPI:
    """Point every URL of an unmodified flickrapi client at the sandbox."""
    api.REST_URL = f"{base}/services/rest/"
    api.flickr_oauth.REQUEST_TOKEN_URL = f"{base}/services/oauth/request_token"
    api.flickr_oauth.AUTHORIZE_URL = f"{base}/services/oauth/authorize"
    api.flickr_oauth.ACCESS_TOKEN_URL = f"{base}/services/oauth/access_token"
    return api


@pytest.fixture
def make_sandbox():
    """Start sandboxes with any config; all are stopped at the end of the test."""
    started = []

    def start(**options) -> Client:
        sandbox = Sandbox(SandboxConfig(**options)).__enter__()
        started.append(sandbox)
        return Client(sandbox)

    yield start
    for sandbox in started:
        sandbox.__exit__(None, None, None)


@pytest.fixture(scope="module")
def sb():
    """A small shared account for read-only tests (tests that change state make their own)."""
    with Sandbox(SandboxConfig(photos=40, videos=4, albums=6, seed=7)) as sandbox:
        yield Client(sandbox)


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# --- running exodus itself ------------------------------------------------------------

EXODUS = [sys.executable, "-m", "flickr_exodus"]


def exodus_env(client: Client, home: Path, **extra: str) -> dict:
    """The environment a user would set to point exodus at this sandbox: its key and token,
    its base URL, a fast client quota, short backoffs, and private config/state dirs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLICKR_", "EXODUS_"))}
    env.update(FLICKR_API_KEY=client.info["api_key"], FLICKR_API_SECRET=client.info["api_secret"],
               FLICKR_OAUTH_TOKEN=client.info["oauth_token"],
               FLICKR_OAUTH_TOKEN_SECRET=client.info["oauth_token_secret"],
               EXODUS_API_BASE=client.base, EXODUS_API_RATE="100000/1", EXODUS_BACKOFF="0.01",
               XDG_STATE_HOME=str(home / "state"), XDG_CONFIG_HOME=str(home / "config"))
    env.update(extra)
    return env


def exodus(args: list[str], env: dict, timeout: float = 240, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*EXODUS, *args], env=env, capture_output=True, text=True, timeout=timeout, **kwargs)


def sign_in(sb: Client, env: dict, perms: str = "read") -> subprocess.CompletedProcess:
    """`exodus auth` as a user runs it: the URL it prints opened, authorized, the code pasted."""
    proc = subprocess.Popen([*EXODUS, "auth", "--perms", perms], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = ""
    while "oauth_token=" not in line:
        line = proc.stderr.readline()
        assert line or proc.poll() is None
    url = re.search(r"(http\S+)", line).group(1)
    form = dict(re.findall(r'name="(oauth_token|perms)" value="([^"]*)"', requests.get(url, timeout=30).text))
    page = requests.post(f"{sb.base}/services/oauth/authorize", data={**form, "decision": "yes"}, timeout=30).text
    verifier = re.search(r'id="verifier">([0-9-]+)<', page).group(1)
    out, err = proc.communicate(verifier + "\n", timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def catalog_rows(dest: Path, sql: str = "SELECT * FROM photos", params=()) -> list[dict]:
    conn = sqlite3.connect(dest / "catalog.db")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def assert_complete(client: Client, dest: Path) -> dict[str, dict]:
    """Every item of the sandbox's account is in the catalog as downloaded, its file's
    sha256 equals the manifest's, and no .part is left. Returns the catalog rows by id."""
    manifest = {i: m for i, m in client.manifest().items() if not m["deleted"]}
    rows = {r["id"]: r for r in catalog_rows(dest)}
    assert set(manifest) <= set(rows), f"missing from the catalog: {sorted(set(manifest) - set(rows))[:5]}"
    for item_id, expected in manifest.items():
        row = rows[item_id]
        assert row["state"] == "downloaded", (item_id, row["state"], row["reason"])
        path = dest / row["path"]
        assert path.is_file(), path
        assert row["sha256"] == expected["sha256"] == sha256_file(path), item_id
        assert row["size"] == expected["size"] == path.stat().st_size
    assert not list(dest.rglob("*.part")), "a .part file was left behind"
    return rows


@contextmanager
def backed_up(home: Path, config: SandboxConfig, *backup_args: str):
    """A sandbox account, running, and a finished backup of it: (client, env, dest)."""
    with Sandbox(config) as sandbox:
        client = Client(sandbox)
        env = exodus_env(client, home)
        dest = home / "dest"
        done = exodus(["backup", str(dest), "--json", *backup_args], env)
        assert done.returncode == 0, done.stderr
        yield client, env, dest


def private_copy(account: tuple, tmp_path: Path) -> tuple:
    """(client, env, a copy of dest) that a test may damage or push without touching others."""
    client, env, dest = account
    target = tmp_path / "copy"
    shutil.copytree(dest, target, symlinks=True)
    return client, env, target
