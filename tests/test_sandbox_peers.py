"""The tools people reach for today run, unmodified, against the sandbox (issue 18).

gallery-dl's Flickr extractor (a user URL, an album URL, a video) and flickr_download's
`-p` (a user's photostream) and `-d` (an album) run as subprocesses from .venv-peers
(tests/peers-requirements.txt; the Makefile makes it before `make test`), through their
own entry points. The launchers in tests/peers/ only point their Flickr URL constants at
the sandbox; credentials go through each tool's own options, config and token file. Each
run must finish, save what the sandbox lists to its caller, and every file it saves must
equal the manifest (sha256).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import Client
from flickr_exodus.sandbox import Sandbox, SandboxConfig

ROOT = Path(__file__).resolve().parents[1]
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
LAUNCHERS = Path(__file__).resolve().parent / "peers"
RUN_TIMEOUT = 240


def peers_python() -> str:
    if not PEERS_PYTHON.exists():
        pytest.fail(f"{PEERS_PYTHON} is missing: the peers' venv is made from tests/peers-requirements.txt "
                    "by `make .venv-peers/.installed` (a step of `make test`)", pytrace=False)
    return str(PEERS_PYTHON)


@pytest.fixture(scope="module")
def sb():
    """A small account: a few dozen items, two of them videos, cheap to download."""
    config = SandboxConfig(photos=20, videos=2, albums=2, seed=23, media_size=(8_000, 40_000),
                           video_size=(40_000, 120_000))
    with Sandbox(config) as sandbox:
        yield Client(sandbox)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def saved(folder: Path, name: re.Pattern) -> dict[str, str]:
    """{photo id: sha256} of the media files a tool left under `folder`."""
    out = {}
    for path in folder.rglob("*"):
        if path.is_file() and (match := name.fullmatch(path.name)):
            assert match["id"] not in out, f"{match['id']} saved twice"
            out[match["id"]] = sha256(path)
    return out


def assert_equal_to_manifest(sb: Client, files: dict[str, str]) -> None:
    manifest = sb.manifest()
    wrong = {i: digest for i, digest in files.items() if manifest[i]["sha256"] != digest}
    assert not wrong, f"saved files that differ from the manifest: {sorted(wrong)}"


def listed(sb: Client, method: str, root: str, **params) -> dict[str, str]:
    """{id: media} of what `method` lists to the owner, page by page, as the tools ask."""
    out, page = {}, 1
    while True:
        body = sb.call(method, page=str(page), extras="media", **params)[root]
        out.update({p["id"]: p["media"] for p in body["photo"]})
        if page >= int(body["pages"]):
            return out
        page += 1


def alias(sb: Client) -> str:
    """The owner's name in flickr.com URLs, as people type them."""
    return sb.call("flickr.people.getInfo", user_id="me")["person"]["path_alias"]


def run(args: list, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    """A peer in a home of its own: no user config, cache or token of the machine's."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    done = subprocess.run([peers_python(), *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=RUN_TIMEOUT)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return done


# --- gallery-dl ---------------------------------------------------------------------------

GALLERY_DL_FILE = re.compile(r"flickr_(?P<id>\d+)\.[a-z0-9]+")


def gallery_dl(sb: Client, tmp_path: Path, url: str) -> dict[str, str]:
    """gallery-dl on one flickr.com URL, as its owner: OAuth through its own config keys, the
    browser session (for original videos, gallery-dl#16) as its own cookies file."""
    key, secret = sb.token("read")
    name, _, value = sb.info["session_cookie"].partition("=")
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(f"# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\t{name}\t{value}\n")
    dest = tmp_path / "gallery-dl"
    config = {"extractor": {"base-directory": str(dest), "flickr": {
        "api-key": sb.info["api_key"], "api-secret": sb.info["api_secret"],
        "access-token": key, "access-token-secret": secret,
        "cookies": str(cookies), "sleep-request": 0}}}
    (tmp_path / "gallery-dl.json").write_text(json.dumps(config))
    run([LAUNCHERS / "gallery_dl_at.py", sb.base, "--config-ignore", "--config", tmp_path / "gallery-dl.json",
         url], tmp_path, tmp_path / "home")
    return saved(dest, GALLERY_DL_FILE)


def test_gallery_dl_saves_a_users_photostream(sb, tmp_path):
    expected = listed(sb, "flickr.people.getPhotos", "photos", user_id="me")
    assert "video" in expected.values() and "photo" in expected.values()
    files = gallery_dl(sb, tmp_path, f"https://www.flickr.com/photos/{alias(sb)}/")
    assert set(files) == set(expected)
    assert_equal_to_manifest(sb, files)


def test_gallery_dl_saves_an_album(sb, tmp_path):
    albums = sb.call("flickr.photosets.getList")["photosets"]["photoset"]
    album = max(albums, key=lambda a: int(a["photos"]) + int(a["videos"]))
    expected = listed(sb, "flickr.photosets.getPhotos", "photoset", photoset_id=album["id"])
    files = gallery_dl(sb, tmp_path, f"https://www.flickr.com/photos/{alias(sb)}/albums/{album['id']}")
    assert files and set(files) == set(expected)
    assert_equal_to_manifest(sb, files)


def test_gallery_dl_saves_a_video_original(sb, tmp_path):
    videos = [i for i, media in listed(sb, "flickr.people.getPhotos", "photos", user_id="me").items()
              if media == "video"]
    files = gallery_dl(sb, tmp_path, f"https://www.flickr.com/photos/{alias(sb)}/{videos[0]}")
    assert set(files) == {videos[0]}
    assert_equal_to_manifest(sb, files)


# --- flickr_download ------------------------------------------------------------------------

FLICKR_DOWNLOAD_FILE = re.compile(r"(?P<id>\d+)\.[a-z0-9]+")


def flickr_download(sb: Client, tmp_path: Path, *args: str) -> tuple[dict[str, str], subprocess.CompletedProcess]:
    """flickr_download as the owner: key and secret as its -k/-s options, the OAuth token in
    the token file its own sign-in writes (~/.flickr_token), files named by id (-n id)."""
    home = tmp_path / "home"
    home.mkdir()
    key, secret = sb.token("read")
    (home / ".flickr_token").write_text(f"{key}\n{secret}")
    work = tmp_path / "flickr_download"
    work.mkdir()
    done = run([LAUNCHERS / "flickr_download_at.py", sb.base, "-k", sb.info["api_key"], "-s", sb.info["api_secret"],
                "-t", "-n", "id", *args], work, home)
    return saved(work, FLICKR_DOWNLOAD_FILE), done


def assert_flickr_download_saved(sb: Client, expected: dict[str, str], files: dict[str, str]) -> None:
    """Every photo listed; a video only where its original could be fetched. flickr_download
    takes "Video Original" from getSizes and GETs its /play/orig/ URL with no browser
    session, which Flickr (and the sandbox, by default) refuses: it logs the error and saves
    nothing for that video (flickr-api#136 "Can't download videos")."""
    photos = {i for i, media in expected.items() if media == "photo"}
    assert photos and photos <= set(files) <= set(expected)
    assert_equal_to_manifest(sb, files)


def test_flickr_download_saves_a_users_photos(sb, tmp_path):
    expected = listed(sb, "flickr.people.getPhotos", "photos", user_id="me")
    before = sb.stats()["video_refused"]
    files, done = flickr_download(sb, tmp_path, "-p", sb.info["username"])
    assert_flickr_download_saved(sb, expected, files)
    refused = sb.stats()["video_refused"] - before
    assert refused == sum(1 for i, m in expected.items() if m == "video" and i not in files)


def test_flickr_download_saves_an_album(sb, tmp_path):
    albums = sb.call("flickr.photosets.getList")["photosets"]["photoset"]
    album = max(albums, key=lambda a: int(a["photos"]))
    expected = listed(sb, "flickr.photosets.getPhotos", "photoset", photoset_id=album["id"])
    files, _ = flickr_download(sb, tmp_path, "-d", album["id"])
    assert_flickr_download_saved(sb, expected, files)
